import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobPayload } from '../../src/payload/types.js'
import { compileYaml } from '../support/compile-yaml.js'
import { type GitLabDouble, startGitLabDouble } from '../support/gitlab-double/server.js'

/** Operating `glrun runner`: JSON-lines operator log, Prometheus metrics at listen_address, SIGQUIT. */
const bin = new URL('../../bin/glrun.js', import.meta.url).pathname
const root = mkdtempSync(join(tmpdir(), 'glrun-runner-ops-'))
let gl: GitLabDouble
beforeAll(async () => { gl = await startGitLabDouble({ longPollMs: 200, traceUpdateInterval: 1, finalisingPuts: 0, finalisingInterval: 1 }) })
afterAll(async () => {
  await gl?.close()
  rmSync(root, { recursive: true, force: true })
})

let nextId = 700_000 + Math.floor(Math.random() * 100_000)
async function enqueue(yaml: string): Promise<Map<string, number>> {
  const pipeline = await compileYaml(`variables: { GIT_STRATEGY: none }\n${yaml}`)
  const ids = new Map<string, number>()
  for (const j of pipeline.jobs) {
    const payload: JobPayload = { ...j.payload, id: nextId++ }
    gl.state.enqueue(payload)
    ids.set(j.name, payload.id)
  }
  return ids
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

function start(extra: string, args: string[], concurrent = 2): { done: Promise<{ code: number | null; err: string }>; kill: (s: NodeJS.Signals) => void; err: () => string } {
  const token = gl.state.addRunner().token
  const config = join(root, `c-${nextId}.toml`)
  writeFileSync(config, `concurrent = ${concurrent}\ncheck_interval = 0\n${extra}\n[[runners]]\n  name = "ops"\n  url = "${gl.url}"\n  token = "${token}"\n  executor = "shell"\n`)
  const child = spawn(process.execPath, [bin, 'runner', '--config', config, '--work-dir', join(root, `w-${nextId}`), ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  return { done: new Promise((resolve) => child.on('close', (code) => resolve({ code, err }))), kill: (s) => child.kill(s), err: () => err }
}

describe('operating glrun runner', () => {
  it('metrics at listen_address while a job runs; every log line is JSON with the job and its end', async () => {
    const port = await freePort()
    const ids = await enqueue('slow:\n  script: [sleep 3]\nfail:\n  script: [exit 4]\n')
    const r = start(`listen_address = "127.0.0.1:${port}"`, ['--max-builds', '2'])
    const slow = ids.get('slow')!
    const until = Date.now() + 30_000
    while (gl.state.jobs.get(slow)!.status !== 'running' && Date.now() < until) await new Promise((res) => setTimeout(res, 100))
    await new Promise((res) => setTimeout(res, 500))
    const mid = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
    expect(mid).toMatch(/^gitlab_runner_jobs\{runner="ops",executor="shell"\} [12]$/m)
    expect(mid).toMatch(/^gitlab_runner_api_request_statuses_total\{runner="ops",endpoint="request_job",status="201"\} \d+$/m)
    expect(mid).toMatch(/^process_resident_memory_bytes \d+/m)
    const { code, err } = await r.done
    expect(code).toBe(0)
    const lines = err.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; job?: number; state?: string; level: number })
    expect(lines.find((l) => l.msg === 'job finished' && l.job === slow)?.state).toBe('success')
    expect(lines.find((l) => l.msg === 'job finished' && l.job === ids.get('fail'))?.state).toBe('failed')
  }, 90_000)

  it('SIGQUIT: the running job finishes, no new job is taken, the runner exits 0', async () => {
    const ids = await enqueue('first:\n  script: [sleep 2, echo first-done]\nsecond:\n  script: [echo second]\n')
    const r = start('', [], 1)
    const first = ids.get('first')!
    const until = Date.now() + 30_000
    while (gl.state.jobs.get(first)!.status !== 'running' && Date.now() < until) await new Promise((res) => setTimeout(res, 100))
    r.kill('SIGQUIT')
    expect((await r.done).code).toBe(0)
    expect(gl.state.jobs.get(first)!.final?.state).toBe('success')
    expect(gl.state.traceOf(first).toString()).toMatch(/first-done/)
    expect(gl.state.jobs.get(ids.get('second')!)!.status).toBe('pending')
  }, 90_000)
})
