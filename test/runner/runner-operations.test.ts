import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { type RunningRunner, runnerHarness } from '../support/runner-harness.js'

/** Operating `glrun runner`: JSON-lines operator log, Prometheus metrics at listen_address, SIGQUIT. */
const h = runnerHarness('ops')
const enqueue = h.enqueue.bind(h)

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

const start = (globals: string, args: string[], concurrent = 2): RunningRunner => h.start({ globals, args, concurrent })

describe('operating glrun runner', () => {
  it('metrics at listen_address while a job runs; every log line is JSON with the job and its end', async () => {
    const port = await freePort()
    const ids = await enqueue('slow:\n  script: [sleep 3]\nfail:\n  script: [exit 4]\n')
    const r = start(`listen_address = "127.0.0.1:${port}"`, ['--max-builds', '2'])
    const slow = ids.get('slow')!
    const until = Date.now() + 30_000
    while (h.gl.state.jobs.get(slow)!.status !== 'running' && Date.now() < until) await new Promise((res) => setTimeout(res, 100))
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
    while (h.gl.state.jobs.get(first)!.status !== 'running' && Date.now() < until) await new Promise((res) => setTimeout(res, 100))
    r.kill('SIGQUIT')
    expect((await r.done).code).toBe(0)
    expect(h.gl.state.jobs.get(first)!.final?.state).toBe('success')
    expect(h.gl.state.traceOf(first).toString()).toMatch(/first-done/)
    expect(h.gl.state.jobs.get(ids.get('second')!)!.status).toBe('pending')
  }, 90_000)
})
