import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { type RunningRunner, runnerHarness } from '../support/runner-harness.js'

/**
 * The rogue suite: GitLab (or the network before it) misbehaving as the server note's checklist
 * says it does. Every trace byte arrives once and in order (the checksum GitLab computes matches),
 * no job is lost or run twice, a canceled job ran its after_script, and the runner goes on.
 * GIT_STRATEGY none: these tests are about the runner API, not the clone.
 */
const h = runnerHarness('rogue')
const enqueue = h.enqueue.bind(h)
const runner = (maxBuilds: number, _name: string): RunningRunner => h.start({ args: ['--max-builds', String(maxBuilds)] })

const NOISY = `noisy:
  script: ['for i in $(seq 1 400); do echo "line $i $(head -c 300 /dev/zero | tr "\\\\0" x)"; case $i in *00) sleep 0.7;; esac; done']
`

describe('runner mode: the rogue suite', () => {
  it('connection resets mid-PATCH, 416s and 5xx bursts: every byte once and in order', async () => {
    const ids = await enqueue(NOISY)
    h.gl.state.rogue.traceResets = { left: 2, afterAppend: false }
    h.gl.state.rogue.rangeMismatch = { left: 2, truncateTo: null }
    h.gl.state.failNext(3, 502, { route: 'trace' })
    const r = runner(1, 'resets')
    expect((await r.done).code).toBe(0)
    const job = h.gl.state.jobs.get(ids.get('noisy')!)!
    expect(job.final).toMatchObject({ state: 'success', checksumMatches: true, bytesizeMatches: true })
    const lines = h.gl.state.traceOf(job.id).toString().split('\n').filter((l) => l.startsWith('line '))
    expect(lines.map((l) => Number(l.split(' ')[1]))).toEqual(Array.from({ length: 400 }, (_, i) => i + 1))
    expect(h.gl.recorder.to('trace', job.id).some((q) => q.reset)).toBe(true)
  }, 120_000)

  it('a 409 storm and 5xx bursts on job requests: no job lost or run twice', async () => {
    const ids = await enqueue('a:\n  script: [echo a]\nb:\n  script: [echo b]\nc:\n  script: [echo c]\n')
    h.gl.state.rogue.conflicts = 6
    h.gl.state.failNext(3, 503, { route: 'jobs-request' })
    const r = runner(3, 'storm')
    expect((await r.done).code).toBe(0)
    for (const id of ids.values()) {
      expect(h.gl.state.jobs.get(id)!.final?.state).toBe('success')
      expect(h.gl.recorder.to('job-update', id).filter((q) => (q.params as { state?: string } | null)?.state === 'success').length).toBe(1)
    }
  }, 120_000)

  it('graceful cancel while running: after_script runs, the job ends canceled, the runner goes on to the next job', async () => {
    const ids = await enqueue(`long:\n  script: [echo started, sleep 60]\n  after_script: [echo after-script-ran]\nnext:\n  needs: []\n  script: [echo next-job-ran]\n`)
    h.gl.state.cancelJob(ids.get('long')!, { graceful: true, afterPatches: 1 })
    const r = runner(2, 'cancel')
    const t0 = Date.now()
    expect((await r.done).code).toBe(0)
    expect(Date.now() - t0).toBeLessThan(45_000)
    const long = h.gl.state.jobs.get(ids.get('long')!)!
    expect(long.status).toBe('canceled')
    expect(h.gl.state.traceOf(long.id).toString()).toMatch(/after-script-ran/)
    expect(h.gl.state.jobs.get(ids.get('next')!)!.final?.state).toBe('success')
    expect(spawnSync('pgrep', ['-f', '^sleep 60$']).status).not.toBe(0)
  }, 120_000)

  it('hard cancel (no graceful cancel, or a force cancel): the job is aborted, after_script does not run, no final update', async () => {
    // gitlab-runner's abort: 403 + Job-Status canceled stops everything. The trace is no longer
    // accepted then, so after_script would leave its mark in a file.
    const mark = join(mkdtempSync(join(tmpdir(), 'glrun-abort-')), 'after-ran')
    const ids = await enqueue(`hard:
  script: [echo started, sleep 62]
  after_script: ['touch ${mark}']
next:
  needs: []
  script: [echo next-job-ran]
`)
    const id = ids.get('hard')!
    h.gl.state.cancelJob(id, { graceful: false, afterPatches: 1 })
    const r = runner(2, 'abort')
    const t0 = Date.now()
    expect((await r.done).code).toBe(0)
    expect(Date.now() - t0).toBeLessThan(45_000)
    expect(h.gl.state.jobs.get(id)!.status).toBe('canceled')
    expect(existsSync(mark)).toBe(false)
    expect(h.gl.recorder.to('job-update', id).filter((q) => ['success', 'failed'].includes((q.params as { state?: string } | null)?.state ?? ''))).toEqual([])
    expect(h.gl.state.jobs.get(ids.get('next')!)!.final?.state).toBe('success')
    expect(spawnSync('pgrep', ['-f', '^sleep 62$']).status).not.toBe(0)
  }, 120_000)

  it('the final PUT answered 202 several times: re-sent until GitLab has the trace, never reported early', async () => {
    const ids = await enqueue('fin:\n  script: [echo fin]\n')
    const id = ids.get('fin')!
    h.gl.state.jobs.get(id)!.finalisingLeft = 3
    const r = runner(1, 'final')
    expect((await r.done).code).toBe(0)
    const puts = h.gl.recorder.to('job-update', id).filter((q) => (q.params as { state?: string } | null)?.state === 'success')
    expect(puts.map((q) => q.status)).toEqual([202, 202, 202, 200])
    expect(h.gl.state.jobs.get(id)!.status).toBe('success')
  }, 120_000)

  it('SIGTERM: the running job is canceled with its after_script and reported, then the runner exits', async () => {
    const ids = await enqueue('term:\n  script: [sleep 61]\n  after_script: [echo after-term]\n')
    const id = ids.get('term')!
    const r = runner(1, 'term')
    const until = Date.now() + 30_000
    while (h.gl.state.jobs.get(id)!.status !== 'running' && Date.now() < until) await new Promise((res) => setTimeout(res, 100))
    await new Promise((res) => setTimeout(res, 1500))
    r.kill('SIGTERM')
    const { code } = await r.done
    expect(code).toBe(143)
    expect(h.gl.state.traceOf(id).toString()).toMatch(/after-term/)
    expect(h.gl.state.jobs.get(id)!.final?.state).toBe('failed')
    expect(spawnSync('pgrep', ['-f', '^sleep 61$']).status).not.toBe(0)
  }, 120_000)
})
