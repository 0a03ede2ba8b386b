import { describe, expect, it } from 'vitest'
import { runnerHarness } from '../support/runner-harness.js'

/**
 * `request_concurrency` (per runner, default 1): how many `/jobs/request` long polls may be under
 * way at once for that runner, counted by the GitLab double as it holds them (Workhorse's long
 * poll, 1.5 s here). A poll holds a slot of `concurrent` too, as in gitlab-runner: the job it may
 * bring must fit.
 */
const h = runnerHarness('reqconc', { longPollMs: 1500 })

/** The most requests with this token the double was holding at the same moment. */
function maxInFlight(token: string): number {
  const edges: [number, number][] = []
  for (const q of h.gl.recorder.all) {
    if (q.route !== 'jobs-request' || (q.params as { token?: string } | null)?.token !== token || q.durationMs === null) continue
    edges.push([q.startedAt, 1], [q.startedAt + q.durationMs, -1])
  }
  // Ends before starts at the same instant: back-to-back requests do not overlap.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  let now = 0
  let max = 0
  for (const [, d] of edges) max = Math.max(max, (now += d))
  return max
}

async function pollFor(ms: number, opts: { concurrent: number; runnerToml?: string; midway?: () => Promise<void> }): Promise<string> {
  const r = h.start({ checkInterval: 1, concurrent: opts.concurrent, ...(opts.runnerToml ? { runnerToml: opts.runnerToml } : {}) })
  await new Promise((res) => setTimeout(res, ms))
  await opts.midway?.()
  r.kill('SIGQUIT')
  expect((await r.done).code).toBe(0)
  return r.token
}

describe('runner mode: request_concurrency', () => {
  it('default 1: one long poll at a time; request_concurrency = 3: three at once, never more, and queued jobs each taken once', async () => {
    expect(maxInFlight(await pollFor(5000, { concurrent: 4 }))).toBe(1)
    let ids = new Map<string, number>()
    const token = await pollFor(5000, {
      concurrent: 4, runnerToml: '  request_concurrency = 3\n',
      midway: async () => {
        ids = await h.enqueue('a:\n  script: [echo a]\nb:\n  script: [echo b]\nc:\n  script: [echo c]\n')
        const end = Date.now() + 30_000
        while ([...ids.values()].some((id) => !h.gl.state.jobs.get(id)!.final) && Date.now() < end) await new Promise((res) => setTimeout(res, 100))
      },
    })
    expect(maxInFlight(token)).toBe(3)
    for (const id of ids.values()) {
      expect(h.gl.state.jobs.get(id)!.final?.state).toBe('success')
      expect(h.gl.recorder.to('job-update', id).filter((q) => (q.params as { state?: string } | null)?.state === 'success')).toHaveLength(1)
    }
  }, 90_000)

  it('concurrent caps it: request_concurrency = 3 with concurrent = 2 holds two polls at most', async () => {
    expect(maxInFlight(await pollFor(5000, { concurrent: 2, runnerToml: '  request_concurrency = 3\n' }))).toBe(2)
  }, 60_000)
})
