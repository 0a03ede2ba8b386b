import { writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { type RunningRunner, runnerHarness } from '../support/runner-harness.js'

/**
 * config.toml reloaded while `glrun runner` runs, as gitlab-runner does (its mtime looked at
 * every 3 s, SIGHUP for at once): a runner added starts asking for jobs with its token, a raised
 * `concurrent` lets a waiting job start, a removed runner stops asking, and a job under way is not
 * disturbed by any of it. A file that does not load is logged (`Failed to load config`) and the
 * config before it stays in force.
 */
const h = runnerHarness('reload')

interface LogLine { msg: string; time: string; errors?: { code: string; line?: number }[] }
const lines = (r: RunningRunner): LogLine[] => r.log().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogLine)
async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((res) => setTimeout(res, 50))
  }
}
const requestsOf = (token: string, after = 0) => h.gl.recorder.all.filter((q) => q.route === 'jobs-request' && q.startedAt > after && (q.params as { token?: string } | null)?.token === token)
const entry = (name: string, token: string): string => `\n[[runners]]\n  name = "${name}"\n  url = "${h.gl.url}"\n  token = "${token}"\n  executor = "shell"\n`

describe('runner mode: config.toml reloaded', () => {
  it('a runner added and concurrent raised take effect, a broken file keeps the old config, SIGHUP removes a runner; the running job is untouched', async () => {
    const ids = await h.enqueue('first:\n  script: [echo first-start, sleep 14, echo first-done]\nsecond:\n  needs: []\n  script: [echo second-ran]\n')
    const [first, second] = [ids.get('first')!, ids.get('second')!]
    const r = h.start({ concurrent: 1 })
    await until('the first job to run', () => h.gl.state.traceOf(first).toString().includes('first-start'))
    expect(h.gl.state.jobs.get(second)!.status).toBe('pending') // concurrent = 1

    const b = h.gl.state.addRunner().token
    const t1 = Date.now()
    writeFileSync(r.config, `concurrent = 2\ncheck_interval = 0\n${entry('reload', r.token)}${entry('added', b)}`)
    await until('the added runner to ask for jobs', () => requestsOf(b).length > 0, 10_000)
    expect(Date.now() - t1).toBeLessThan(8000) // the 3 s mtime check, not a restart
    await until('the second job to end', () => h.gl.state.jobs.get(second)!.final !== null)
    expect(h.gl.state.jobs.get(second)!.final?.state).toBe('success')
    expect(h.gl.state.jobs.get(first)!.status).toBe('running') // both ran at once: concurrent = 2 took effect
    expect(lines(r).some((l) => l.msg === 'runner added from the config')).toBe(true)

    writeFileSync(r.config, `concurrent = 2\n[[runners]\n  name = "broken"\n`)
    await until('the broken file to be reported', () => lines(r).some((l) => l.msg === 'Failed to load config'), 10_000)
    const failed = lines(r).find((l) => l.msg === 'Failed to load config')!
    expect(failed.errors).toEqual([expect.objectContaining({ code: 'GLRUN_CONFIG_SYNTAX', line: 2 })])
    const at = Date.parse(failed.time)
    await until('both runners to keep asking', () => requestsOf(r.token, at).length > 0 && requestsOf(b, at).length > 0, 10_000)

    writeFileSync(r.config, `concurrent = 2\ncheck_interval = 0\n${entry('added', b)}`)
    const hup = Date.now()
    r.kill('SIGHUP')
    await until('SIGHUP to reload', () => lines(r).filter((l) => l.msg === 'Configuration loaded').length >= 2, 5000)
    expect(Date.now() - hup).toBeLessThan(2500)
    await new Promise((res) => setTimeout(res, 800)) // a long poll under way when it was removed ends
    const removedAt = Date.now()
    await new Promise((res) => setTimeout(res, 3500))
    expect(requestsOf(r.token, removedAt)).toEqual([])
    expect(requestsOf(b, removedAt).length).toBeGreaterThan(0)

    r.kill('SIGQUIT')
    expect((await r.done).code).toBe(0)
    const job = h.gl.state.jobs.get(first)!
    expect(job.final).toMatchObject({ state: 'success', checksumMatches: true })
    expect(h.gl.state.traceOf(first).toString()).toMatch(/first-done/)
  }, 90_000)
})
