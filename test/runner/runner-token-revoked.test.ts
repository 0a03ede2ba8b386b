import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { glrunAsync } from '../support/glrun-async.js'
import { type RunningRunner, runnerHarness } from '../support/runner-harness.js'

/**
 * The runner's token revoked in GitLab (the runner deleted, or its token reset) while glrun runs.
 * GitLab answers 403 to every job request with that token (server note §1, §10 #5); gitlab-runner
 * logs it, counts it as unhealthy and stops asking after `unhealthy_requests_limit` (default 3)
 * for `unhealthy_interval` (default 1 h). A job token stays valid in GitLab when only the runner
 * token goes (`authenticate_job!` looks at the job's token alone), so a job GitLab also dropped is
 * what makes the job's own calls answer 403: that is `failJob`, here together with the revocation.
 */
const h = runnerHarness('revoked')

interface LogLine { msg: string; level: number; job?: number; remote?: string | null; hint?: string; unhealthy_requests?: number }
const lines = (r: RunningRunner): LogLine[] => r.log().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogLine)
async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((res) => setTimeout(res, 100))
  }
}
const requestsOf = (token: string) => h.gl.recorder.all.filter((q) => q.route === 'jobs-request' && (q.params as { token?: string } | null)?.token === token)

describe('runner mode: the runner token revoked', () => {
  it('the running job is abandoned without a crash, the 403s are logged with the fix, polling stops after 3; verify says not valid', async () => {
    const ids = await h.enqueue('long:\n  script: [echo started, sleep 47]\n')
    const id = ids.get('long')!
    const r = h.start({ args: [] })
    await until('the job to print', () => h.gl.state.traceOf(id).toString().includes('started'))
    h.gl.state.revokeRunner(r.token)
    h.gl.state.failJob(id, 'runner_system_failure')
    await until('the job to end', () => lines(r).some((l) => l.msg === 'job finished' && l.job === id))
    await until('the runner to give up', () => lines(r).some((l) => /runner is unhealthy and will be disabled for 1h0m0s/.test(l.msg)), 40_000)
    const asked = requestsOf(r.token).length
    await new Promise((res) => setTimeout(res, 4000)) // longer than check_interval: no request in that time
    expect(requestsOf(r.token).length).toBe(asked)
    r.kill('SIGQUIT')
    const { code, err } = await r.done
    expect(code).toBe(0)

    const refused = requestsOf(r.token).filter((q) => q.status === 403)
    expect(refused).toHaveLength(3)
    const log = lines({ ...r, log: () => err })
    const forbidden = log.filter((l) => l.msg.startsWith('GitLab refused the runner token (403)'))
    expect(forbidden.map((l) => l.unhealthy_requests)).toEqual([1, 2, 3])
    expect(forbidden[0]!.hint).toMatch(/glrun register .*glrun verify --delete/)
    expect(forbidden[0]!.level).toBe(50)
    expect(log.find((l) => l.msg === 'job finished' && l.job === id)?.remote).toBe('failed')
    expect(log.some((l) => /glrun error|could not be run/.test(l.msg))).toBe(false)
    // Abandoned: after GitLab's 403 no final state is sent (it would be refused anyway).
    const finals = h.gl.recorder.to('job-update', id).filter((q) => (q.params as { state?: string } | null)?.state !== 'running')
    expect(finals).toEqual([])
    expect(h.gl.state.jobs.get(id)!.status).toBe('failed')
    expect(spawnSync('pgrep', ['-f', '^sleep 47$']).status).not.toBe(0)

    const verify = await glrunAsync(['verify', '--config', r.config])
    expect(verify.code).toBe(1)
    expect(verify.out).toMatch(/Verifying runner\.\.\. is not valid {3}runner=revoked/)
  }, 120_000)

  it('a short unhealthy_interval: requests stop after unhealthy_requests_limit, resume when it has passed, and stop again', async () => {
    const r = h.start({ checkInterval: 1, runnerToml: '  unhealthy_requests_limit = 2\n  unhealthy_interval = "4s"\n' })
    h.gl.state.revokeRunner(r.token)
    await until('the second disabling', () => lines(r).filter((l) => /will be disabled for 4s/.test(l.msg)).length >= 2, 40_000)
    r.kill('SIGQUIT')
    expect((await r.done).code).toBe(0)
    const at = requestsOf(r.token).filter((q) => q.status === 403).map((q) => q.startedAt)
    expect(at.length).toBeGreaterThanOrEqual(4)
    // Two 403s a check_interval apart, then a pause of the interval, then two more.
    expect(at[1]! - at[0]!).toBeLessThan(2500)
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(3800)
    expect(at[3]! - at[2]!).toBeLessThan(2500)
    expect(lines(r).some((l) => /not healthy, but a job request is let through/.test(l.msg))).toBe(true)
  }, 90_000)
})
