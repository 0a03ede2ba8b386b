import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { runnerHarness } from '../support/runner-harness.js'

/**
 * A runner lives for months, so its memory must not ratchet up under load. The part that did
 * (bench/runner-bench.mjs, RSS +25 MiB from job 100 to job 1,000 with the same live objects) was
 * V8 doubling the young generation from 8 to 32 MiB under eight jobs at a time; glrun runner holds
 * it at its size. Read from the runner's own Prometheus metrics while it works.
 */
const h = runnerHarness('memory')

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

describe('runner mode: memory under load', () => {
  it("150 trivial jobs at concurrent = 8: V8's young generation stays at 8 MiB", async () => {
    const port = await freePort()
    await h.enqueue('trivial:\n  parallel: 150\n  script: [echo hi]\n')
    // One build more than there are jobs: the runner is still up (polling) when its metrics are read.
    const r = h.start({ concurrent: 8, globals: `listen_address = "127.0.0.1:${port}"`, args: ['--max-builds', '151'] })
    const finished = (): number => (r.log().match(/"msg":"job finished"/g) ?? []).length
    const end = Date.now() + 90_000
    while (finished() < 150 && Date.now() < end) await new Promise((res) => setTimeout(res, 100))
    expect(finished()).toBe(150)
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
    r.kill('SIGTERM')
    await r.done
    const young = Number(/^nodejs_heap_space_size_total_bytes\{space="new"\} (\d+)$/m.exec(metrics)?.[1])
    expect(young).toBeGreaterThan(0)
    expect(young).toBeLessThanOrEqual(8 * 1024 * 1024)
  }, 120_000)
})
