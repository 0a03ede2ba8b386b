import { type ChildProcess, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeRepo } from '../support/git-repo.js'
import { makeBareRepo, makeCertificates, startHostGitServer } from '../support/git-https.js'

/**
 * The troubleshooter after a failed job of `glrun run` (shell executor, real git, real sockets on
 * loopback): the diagnosis is printed under the job's log, saved beside its trace, and the
 * hosts the log names are checked for real.
 */
const bin = new URL('../../bin/glrun.js', import.meta.url).pathname
const cleanups: (() => void)[] = []
let server: ChildProcess
let port = 0
let root = ''

async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const p = (s.address() as { port: number }).port
  await new Promise<void>((r) => s.close(() => r()))
  return p
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'glrun-diag-'))
  const certs = makeCertificates(join(root, 'certs'), ['127.0.0.1'])
  makeBareRepo(root, 'lib', { 'README.md': 'lib\n' })
  port = await freePort()
  server = await startHostGitServer('127.0.0.1', port, join(root, 'root'), certs)
})
afterAll(() => {
  server?.kill()
  cleanups.forEach((c) => c())
  rmSync(root, { recursive: true, force: true })
})

function run(yml: string, ...args: string[]): { dir: string; code: number | null; out: string; err: string } {
  const r0 = makeRepo({ files: { '.gitlab-ci.yml': yml }, origin: 'https://gitlab.example.com/acme/app.git' })
  cleanups.push(r0.cleanup)
  const r = spawnSync(process.execPath, [bin, 'run', '--cwd', r0.dir, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', GIT_TERMINAL_PROMPT: '0' }, timeout: 120_000 })
  return { dir: r0.dir, code: r.status, out: r.stdout, err: r.stderr }
}

describe('diagnosis after a failed job', () => {
  it('an untrusted certificate: printed under the log, TLS checked, saved beside the trace', () => {
    const r = run(`fetch:\n  script:\n    - git ls-remote https://127.0.0.1:${port}/lib.git\n`)
    expect(r.code).toBe(1)
    const lines = r.out.split('\n').filter((l) => l.startsWith('fetch '))
    const failed = lines.findIndex((l) => /│ ERROR: Job failed: exit status 128/.test(l))
    expect(failed).toBeGreaterThan(0)
    const below = lines.slice(failed + 1).join('\n')
    expect(below).toMatch(/\[tls_untrusted_ca, confidence/)
    expect(below).toMatch(/Checked just now:/)
    expect(below).toMatch(new RegExp(`FAIL +tls +from runner +.*127\\.0\\.0\\.1:${port}.*signed by a CA not in the system CAs`))
    expect(below).toMatch(/tls-ca-file/)
    const saved = readFileSync(join(r.dir, '.glrun/jobs/fetch/diagnosis.txt'), 'utf8')
    expect(saved).toMatch(/\[tls_untrusted_ca, confidence/)
    const json = JSON.parse(readFileSync(join(r.dir, '.glrun/jobs/fetch/diagnosis.json'), 'utf8'))
    expect(json.phase).toBe('step_script')
    expect(json.diagnoses[0].category).toBe('tls_untrusted_ca')
    expect(json.checks.find((c: { kind: string }) => c.kind === 'tls')).toMatchObject({ ok: false, from: 'runner', target: `127.0.0.1:${port}`, detail: { problem: 'unknown CA' } })
  })

  it('nothing listening: the TCP check tells refused apart', async () => {
    const closed = await freePort()
    const r = run(`fetch:\n  script:\n    - git ls-remote https://127.0.0.1:${closed}/lib.git\n`)
    expect(r.code).toBe(1)
    const json = JSON.parse(readFileSync(join(r.dir, '.glrun/jobs/fetch/diagnosis.json'), 'utf8'))
    expect(json.diagnoses.length).toBeGreaterThan(0)
    expect(json.checks.find((c: { kind: string }) => c.kind === 'tcp')).toMatchObject({ ok: false, target: `127.0.0.1:${closed}`, detail: { outcome: 'refused' } })
    expect(r.out).toMatch(/FAIL +tcp +from runner +.*refused/)
  })

  it('a script failure with no known pattern: what kind of failure, the lines to read, no checks, still saved', () => {
    const r = run('build:\n  script:\n    - echo compiling\n    - \'echo "error: widget.c:3: expected ;" && exit 2\'\n')
    expect(r.code).toBe(1)
    expect(r.out).toMatch(/build +│ No known failure pattern matched; what kind of failure it is and what to check next:/)
    expect(r.out).toMatch(/build +│ +L\d+ +error: widget\.c:3: expected ;/)
    expect(r.out).not.toMatch(/Checked just now/)
    const json = JSON.parse(readFileSync(join(r.dir, '.glrun/jobs/build/diagnosis.json'), 'utf8'))
    expect(json).toMatchObject({ phase: 'step_script', exit_code: 2, diagnoses: [{ category: 'user_script_failure', confidence: 0.3 }] })
  })

  it('a job that passes gets no diagnosis file', () => {
    const r = run('ok:\n  script: [echo fine]\n')
    expect(r.code).toBe(0)
    expect(() => readFileSync(join(r.dir, '.glrun/jobs/ok/diagnosis.txt'))).toThrow()
  })
})
