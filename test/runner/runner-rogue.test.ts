import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobPayload } from '../../src/payload/types.js'
import { compileYaml } from '../support/compile-yaml.js'
import { type GitLabDouble, startGitLabDouble } from '../support/gitlab-double/server.js'

/**
 * The rogue suite: GitLab (or the network before it) misbehaving as the server note's checklist
 * says it does. Every trace byte arrives once and in order (the checksum GitLab computes matches),
 * no job is lost or run twice, a canceled job ran its after_script, and the runner goes on.
 * GIT_STRATEGY none: these tests are about the runner API, not the clone.
 */
const bin = new URL('../../bin/glrun.js', import.meta.url).pathname
const root = mkdtempSync(join(tmpdir(), 'glrun-runner-rogue-'))
let gl: GitLabDouble
beforeAll(async () => { gl = await startGitLabDouble({ longPollMs: 200, traceUpdateInterval: 1, finalisingPuts: 0, finalisingInterval: 1 }) })
afterAll(async () => {
  await gl?.close()
  rmSync(root, { recursive: true, force: true })
})

let nextId = 500_000 + Math.floor(Math.random() * 100_000)
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

function runner(maxBuilds: number, name: string): { done: Promise<{ code: number | null; err: string }>; kill: (s: NodeJS.Signals) => void } {
  const token = gl.state.addRunner().token
  const config = join(root, `${name}.toml`)
  writeFileSync(config, `concurrent = 2\ncheck_interval = 0\n[[runners]]\n  name = "${name}"\n  url = "${gl.url}"\n  token = "${token}"\n  executor = "shell"\n`)
  const child = spawn(process.execPath, [bin, 'runner', '--config', config, '--max-builds', String(maxBuilds), '--work-dir', join(root, `work-${name}`)], { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  const done = new Promise<{ code: number | null; err: string }>((resolve) => child.on('close', (code) => resolve({ code, err })))
  return { done, kill: (s) => child.kill(s) }
}

const NOISY = `noisy:
  script: ['for i in $(seq 1 400); do echo "line $i $(head -c 300 /dev/zero | tr "\\\\0" x)"; case $i in *00) sleep 0.7;; esac; done']
`

describe('runner mode: the rogue suite', () => {
  it('connection resets mid-PATCH, 416s and 5xx bursts: every byte once and in order', async () => {
    const ids = await enqueue(NOISY)
    gl.state.rogue.traceResets = { left: 2, afterAppend: false }
    gl.state.rogue.rangeMismatch = { left: 2, truncateTo: null }
    gl.state.failNext(3, 502, { route: 'trace' })
    const r = runner(1, 'resets')
    expect((await r.done).code).toBe(0)
    const job = gl.state.jobs.get(ids.get('noisy')!)!
    expect(job.final).toMatchObject({ state: 'success', checksumMatches: true, bytesizeMatches: true })
    const lines = gl.state.traceOf(job.id).toString().split('\n').filter((l) => l.startsWith('line '))
    expect(lines.map((l) => Number(l.split(' ')[1]))).toEqual(Array.from({ length: 400 }, (_, i) => i + 1))
    expect(gl.recorder.to('trace', job.id).some((q) => q.reset)).toBe(true)
  }, 120_000)

  it('a 409 storm and 5xx bursts on job requests: no job lost or run twice', async () => {
    const ids = await enqueue('a:\n  script: [echo a]\nb:\n  script: [echo b]\nc:\n  script: [echo c]\n')
    gl.state.rogue.conflicts = 6
    gl.state.failNext(3, 503, { route: 'jobs-request' })
    const r = runner(3, 'storm')
    expect((await r.done).code).toBe(0)
    for (const id of ids.values()) {
      expect(gl.state.jobs.get(id)!.final?.state).toBe('success')
      expect(gl.recorder.to('job-update', id).filter((q) => (q.params as { state?: string } | null)?.state === 'success').length).toBe(1)
    }
  }, 120_000)

  it('graceful cancel while running: after_script runs, the job ends canceled, the runner goes on to the next job', async () => {
    const ids = await enqueue(`long:\n  script: [echo started, sleep 60]\n  after_script: [echo after-script-ran]\nnext:\n  needs: []\n  script: [echo next-job-ran]\n`)
    gl.state.cancelJob(ids.get('long')!, { graceful: true, afterPatches: 1 })
    const r = runner(2, 'cancel')
    const t0 = Date.now()
    expect((await r.done).code).toBe(0)
    expect(Date.now() - t0).toBeLessThan(45_000)
    const long = gl.state.jobs.get(ids.get('long')!)!
    expect(long.status).toBe('canceled')
    expect(gl.state.traceOf(long.id).toString()).toMatch(/after-script-ran/)
    expect(gl.state.jobs.get(ids.get('next')!)!.final?.state).toBe('success')
    expect(spawnSync('pgrep', ['-f', '^sleep 60$']).status).not.toBe(0)
  }, 120_000)

  it('the final PUT answered 202 several times: re-sent until GitLab has the trace, never reported early', async () => {
    const ids = await enqueue('fin:\n  script: [echo fin]\n')
    const id = ids.get('fin')!
    gl.state.jobs.get(id)!.finalisingLeft = 3
    const r = runner(1, 'final')
    expect((await r.done).code).toBe(0)
    const puts = gl.recorder.to('job-update', id).filter((q) => (q.params as { state?: string } | null)?.state === 'success')
    expect(puts.map((q) => q.status)).toEqual([202, 202, 202, 200])
    expect(gl.state.jobs.get(id)!.status).toBe('success')
  }, 120_000)

  it('SIGTERM: the running job is canceled with its after_script and reported, then the runner exits', async () => {
    const ids = await enqueue('term:\n  script: [sleep 61]\n  after_script: [echo after-term]\n')
    const id = ids.get('term')!
    const r = runner(1, 'term')
    const until = Date.now() + 30_000
    while (gl.state.jobs.get(id)!.status !== 'running' && Date.now() < until) await new Promise((res) => setTimeout(res, 100))
    await new Promise((res) => setTimeout(res, 1500))
    r.kill('SIGTERM')
    const { code } = await r.done
    expect(code).toBe(143)
    expect(gl.state.traceOf(id).toString()).toMatch(/after-term/)
    expect(gl.state.jobs.get(id)!.final?.state).toBe('failed')
    expect(spawnSync('pgrep', ['-f', '^sleep 61$']).status).not.toBe(0)
  }, 120_000)
})
