import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { type Server, createServer } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/**
 * `glrun explain <GitLab job URL>`: the raw log fetched through GitLab's jobs API
 * (GET /projects/:id/jobs/:job_id/trace with PRIVATE-TOKEN), from a stand-in GitLab on loopback.
 */
const bin = new URL('../../bin/glrun.js', import.meta.url).pathname
const s1 = readFileSync(new URL('../golden/diagnose/s1/trace.log', import.meta.url))
let server: Server
let base = ''
const seen: { path: string; token: string | undefined }[] = []

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', token: req.headers['private-token'] as string | undefined })
    if (req.headers['private-token'] !== 'glpat-reader') return void res.writeHead(401).end('{"message":"401 Unauthorized"}')
    if (req.url === '/api/v4/projects/root%2Fmycicd/jobs/4711/trace') return void res.writeHead(200, { 'Content-Type': 'text/plain' }).end(s1)
    res.writeHead(404).end('{"message":"404 Not found"}')
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
})
afterAll(() => new Promise<void>((r) => server.close(() => r())))

function explain(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, 'explain', ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    child.on('close', (code) => resolve({ code, out, err }))
  })
}

describe('glrun explain on a GitLab job URL', () => {
  it('fetches the raw log with the token from the environment and diagnoses it', async () => {
    const r = await explain([`${base}/root/mycicd/-/jobs/4711`, '--json'], { GLRUN_GITLAB_TOKEN: 'glpat-reader' })
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.out).diagnoses[0].category).toBe('gitlab_host_unreachable_from_job')
    expect(seen.at(-1)).toEqual({ path: '/api/v4/projects/root%2Fmycicd/jobs/4711/trace', token: 'glpat-reader' })
  })

  it('says what a 401, a 404 and a missing token mean', async () => {
    const bad = await explain([`${base}/root/mycicd/-/jobs/4711`, '--gitlab-token', 'glpat-wrong'])
    expect(bad.code).toBe(2)
    expect(bad.err).toMatch(/GLRUN_EXPLAIN_FETCH.*answered 401[\s\S]*not valid/)
    const missing = await explain([`${base}/root/other/-/jobs/1`, '--gitlab-token', 'glpat-reader'])
    expect(missing.err).toMatch(/answered 404[\s\S]*No such job or project/)
    const none = await explain([`${base}/root/mycicd/-/jobs/4711`], { GLRUN_GITLAB_TOKEN: '' })
    expect(none.err).toMatch(/GLRUN_EXPLAIN_TOKEN[\s\S]*--gitlab-token or set GLRUN_GITLAB_TOKEN/)
  })
})
