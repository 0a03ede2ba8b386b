import { crc32 } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import { compiledPayloads } from './fixtures.js'
import { send } from './http-client.js'
import { type GitLabDouble, startGitLabDouble } from './server.js'
import type { DoubleOptions } from './types.js'

let gl: GitLabDouble | null = null
afterEach(async () => {
  await gl?.close()
  gl = null
})
async function start(opts: DoubleOptions = {}): Promise<GitLabDouble> {
  gl = await startGitLabDouble(opts)
  return gl
}
const crc = (b: Buffer | string): string => `crc32:${crc32(Buffer.from(b)).toString(16).padStart(8, '0')}`

/** A double with one runner and the compiled `build` job handed out; returns the job's id and token. */
async function runningJob(opts: DoubleOptions = {}): Promise<{ gl: GitLabDouble; id: number; token: string }> {
  const g = await start(opts)
  const runner = g.state.addRunner()
  const { build } = await compiledPayloads()
  g.state.enqueue(build)
  const res = await send(g.url, { method: 'POST', path: '/api/v4/jobs/request', body: { token: runner.token } })
  expect(res.status).toBe(201)
  const job = res.json() as { id: number; token: string }
  return { gl: g, id: job.id, token: job.token }
}
const patch = (g: GitLabDouble, id: number, token: string, range: string, data: string) =>
  send(g.url, { method: 'PATCH', path: `/api/v4/jobs/${id}/trace`, headers: { 'JOB-TOKEN': token, 'Content-Range': range, 'content-type': 'text/plain' }, body: data })

describe('runner management', () => {
  it('verifies a glrt- token from the body, 403 for an unknown one, 400 when it is only in the Runner-Token header', async () => {
    const g = await start()
    const runner = g.state.addRunner()
    expect(runner.token).toMatch(/^glrt-/)
    const info = { name: 'glrun', version: '0.1.0', features: { cancel_gracefully: true } }
    const ok = await send(g.url, { method: 'POST', path: '/api/v4/runners/verify', body: { token: runner.token, system_id: 's_0123456789ab', info } })
    expect(ok.status).toBe(200)
    expect(ok.json()).toEqual({ id: runner.id, token: runner.token, token_expires_at: null })
    expect(runner.managers.get('s_0123456789ab')?.info).toEqual(info)
    expect((await send(g.url, { method: 'POST', path: '/api/v4/runners/verify', body: { token: 'glrt-nope' } })).status).toBe(403)
    const headerOnly = await send(g.url, { method: 'POST', path: '/api/v4/runners/verify', headers: { 'Runner-Token': runner.token }, body: {} })
    expect(headerOnly.status).toBe(400)
    expect(headerOnly.json()).toEqual({ error: 'token is missing' })
  })

  it('registers with the registration token (legacy flow), 403 for another token, 410 when registration tokens are disabled', async () => {
    const g = await start({ registrationToken: 'GR1348941reg' })
    const res = await send(g.url, { method: 'POST', path: '/api/v4/runners', body: { token: 'GR1348941reg', description: 'ci box', tag_list: 'docker, linux', run_untagged: false, info: { name: 'glrun' } } })
    expect(res.status).toBe(201)
    const body = res.json() as { id: number; token: string; token_expires_at: null }
    expect(Object.keys(body).sort()).toEqual(['id', 'token', 'token_expires_at'])
    expect(g.state.runners.get(body.token)?.tagList).toEqual(['docker', 'linux'])
    expect((await send(g.url, { method: 'POST', path: '/api/v4/runners/verify', body: { token: body.token } })).status).toBe(200)
    expect((await send(g.url, { method: 'POST', path: '/api/v4/runners', body: { token: 'wrong' } })).status).toBe(403)
    expect((await send(g.url, { method: 'POST', path: '/api/v4/runners', body: { token: 'GR1348941reg', access_level: 'everyone' } })).status).toBe(400)
    await g.close()
    const off = await start({ registrationToken: 'GR1348941reg', registrationDisabled: true })
    expect((await send(off.url, { method: 'POST', path: '/api/v4/runners', body: { token: 'GR1348941reg' } })).status).toBe(410)
  })

  it('unregisters: DELETE /runners 204 then the token is dead; DELETE /runners/managers 204 or 404', async () => {
    const g = await start()
    const a = g.state.addRunner()
    await send(g.url, { method: 'POST', path: '/api/v4/runners/verify', body: { token: a.token, system_id: 's_1' } })
    expect((await send(g.url, { method: 'DELETE', path: '/api/v4/runners/managers', body: { token: a.token, system_id: 's_2' } })).status).toBe(404)
    expect((await send(g.url, { method: 'DELETE', path: '/api/v4/runners/managers', body: { token: a.token, system_id: 's_1' } })).status).toBe(204)
    expect((await send(g.url, { method: 'DELETE', path: '/api/v4/runners', body: { token: a.token } })).status).toBe(204)
    expect((await send(g.url, { method: 'POST', path: '/api/v4/runners/verify', body: { token: a.token } })).status).toBe(403)
    expect((await send(g.url, { method: 'DELETE', path: '/api/v4/runners', body: { token: a.token } })).status).toBe(403)
  })
})

describe('POST /jobs/request', () => {
  it('answers 204 with X-GitLab-Last-Update, then 201 with the compiled payload under a fresh job token and the test\'s git_info', async () => {
    const g = await start()
    const runner = g.state.addRunner()
    const info = { name: 'glrun', executor: 'shell', features: { trace_checksum: true } }
    const empty = await send(g.url, { method: 'POST', path: '/api/v4/jobs/request', body: { token: runner.token, system_id: 's_x', info } })
    expect(empty.status).toBe(204)
    const lastUpdate = empty.headers['x-gitlab-last-update']
    expect(lastUpdate).toMatch(/^[0-9a-f]{32}$/)
    expect(runner.lastInfo).toEqual(info)
    expect(g.recorder.to('jobs-request')[0]?.params?.['info']).toEqual(info)
    // Nothing changed since: Rails answers 204 with the same value.
    const same = await send(g.url, { method: 'POST', path: '/api/v4/jobs/request', body: { token: runner.token, last_update: lastUpdate } })
    expect([same.status, same.headers['x-gitlab-last-update']]).toEqual([204, lastUpdate])

    const { build } = await compiledPayloads()
    g.state.enqueue(build, { gitInfo: { repo_url: 'http://gitlab-ci-token:x@127.0.0.1:1/group/proj.git', sha: 'c'.repeat(40) } })
    const got = await send(g.url, { method: 'POST', path: '/api/v4/jobs/request', body: { token: runner.token, last_update: lastUpdate } })
    expect(got.status).toBe(201)
    expect(got.headers['content-type']).toBe('application/json')
    const job = got.json() as typeof build
    expect(job.id).toBe(build.id)
    expect(job.token).toMatch(/^glcbt-/)
    expect(job.token).not.toBe(build.token)
    expect(job.variables.find((v) => v.key === 'CI_JOB_TOKEN')?.value).toBe(job.token)
    expect(JSON.stringify(job)).not.toContain(build.token)
    expect(job.git_info.sha).toBe('c'.repeat(40))
    expect(job.git_info.repo_url).toBe('http://gitlab-ci-token:x@127.0.0.1:1/group/proj.git')
    expect(job.steps).toEqual(build.steps)
    expect(g.state.jobs.get(job.id)?.status).toBe('running')
    // Handed out once only.
    expect((await send(g.url, { method: 'POST', path: '/api/v4/jobs/request', body: { token: runner.token } })).status).toBe(204)
    expect((await send(g.url, { method: 'POST', path: '/api/v4/jobs/request', body: { token: 'glrt-unknown' } })).status).toBe(403)
    expect((await send(g.url, { method: 'POST', path: '/api/v4/jobs/request', body: { info } })).status).toBe(400)
  })

  it('long polls like Workhorse: holds a current last_update, answers 204 without the header on timeout or when a job arrives', async () => {
    const g = await start({ longPollMs: 400 })
    const runner = g.state.addRunner()
    // The first request has no last_update: never held.
    let t = Date.now()
    const first = await send(g.url, { method: 'POST', path: '/api/v4/jobs/request', body: { token: runner.token } })
    expect(Date.now() - t).toBeLessThan(300)
    const lastUpdate = first.headers['x-gitlab-last-update'] as string
    expect(first.headers['gitlab-ci-builds-polling']).toBe('yes')
    t = Date.now()
    const held = await send(g.url, { method: 'POST', path: '/api/v4/jobs/request', body: { token: runner.token, last_update: lastUpdate } })
    expect(Date.now() - t).toBeGreaterThanOrEqual(380)
    expect(held.status).toBe(204)
    expect(held.headers['x-gitlab-last-update']).toBeUndefined()

    const { build } = await compiledPayloads()
    t = Date.now()
    const woken = send(g.url, { method: 'POST', path: '/api/v4/jobs/request', body: { token: runner.token, last_update: lastUpdate } })
    setTimeout(() => g.state.enqueue(build), 100)
    const res = await woken
    expect(Date.now() - t).toBeLessThan(380)
    expect([res.status, res.headers['x-gitlab-last-update']]).toEqual([204, undefined])
    // The runner kept its old value, which now differs: proxied to Rails, which hands out the job.
    const got = await send(g.url, { method: 'POST', path: '/api/v4/jobs/request', body: { token: runner.token, last_update: lastUpdate } })
    expect(got.status).toBe(201)
  })

  it('refuses a body over Workhorse\'s 32 KiB limit with 413', async () => {
    const g = await start()
    const runner = g.state.addRunner()
    const res = await send(g.url, { method: 'POST', path: '/api/v4/jobs/request', body: { token: runner.token, info: { labels: { big: 'x'.repeat(33 * 1024) } } } })
    expect(res.status).toBe(413)
  })
})

describe('PATCH /jobs/:id/trace', () => {
  it('appends at the stored size: 202 with Range, Job-Status and the update interval; 416 with Range on a wrong start; 400 without Content-Range', async () => {
    const { gl: g, id, token } = await runningJob({ traceUpdateInterval: 3 })
    const a = await patch(g, id, token, '0-4', 'hello')
    expect(a.status).toBe(202)
    expect([a.headers['range'], a.headers['job-status'], a.headers['x-gitlab-trace-update-interval']]).toEqual(['0-5', 'running', '3'])
    // The end of the range is ignored, as GitLab does (gitlab-runner#3275).
    expect((await patch(g, id, token, '5-999', ' world')).headers['range']).toBe('0-11')
    const wrong = await patch(g, id, token, '3-5', 'XYZ')
    expect([wrong.status, wrong.headers['range']]).toEqual([416, '0-11'])
    const noRange = await send(g.url, { method: 'PATCH', path: `/api/v4/jobs/${id}/trace?token=${token}`, body: 'x' })
    expect(noRange.status).toBe(400)
    expect(g.state.traceOf(id).toString()).toBe('hello world')
    expect((await patch(g, id, 'glcbt-other', '11-11', '!')).status).toBe(403)
    expect((await patch(g, 999, token, '0-0', '!')).status).toBe(403)
  })
})

describe('PUT /jobs/:id', () => {
  it('keeps a running job alive, answers the final state 202 while "finalising" with the back-off interval, then 200 and records it', async () => {
    const { gl: g, id, token } = await runningJob({ finalisingPuts: 2 })
    await patch(g, id, token, '0-9', 'job output')
    const put = (body: Record<string, unknown>) => send(g.url, { method: 'PUT', path: `/api/v4/jobs/${id}`, headers: { 'JOB-TOKEN': token }, body })
    const alive = await put({ token, state: 'running' })
    expect([alive.status, alive.headers['job-status']]).toEqual([200, 'running'])
    const final = { token, state: 'failed', failure_reason: 'script_failure', exit_code: 2, checksum: crc('job output'), output: { checksum: crc('job output'), bytesize: 10 } }
    for (let i = 0; i < 2; i++) {
      const r = await put(final)
      expect([r.status, r.headers['x-gitlab-trace-update-interval'], r.text]).toEqual([202, '1', '202'])
    }
    expect(g.state.jobs.get(id)?.status).toBe('running')
    const done = await put(final)
    expect([done.status, done.headers['job-status']]).toEqual([200, 'failed'])
    expect(g.state.jobs.get(id)?.final).toEqual({
      state: 'failed', sentFailureReason: 'script_failure', failureReason: 'script_failure', exitCode: 2,
      checksum: crc('job output'), bytesize: 10, checksumMatches: true, bytesizeMatches: true,
    })
    // Finished: later calls with the job token are 403 with the status.
    const late = await patch(g, id, token, '10-10', '!')
    expect([late.status, late.headers['job-status']]).toEqual([403, 'failed'])
  })

  it('records a checksum the runner got wrong, maps an unknown failure reason, and needs the token param', async () => {
    const { gl: g, id, token } = await runningJob()
    await patch(g, id, token, '0-2', 'abc')
    expect((await send(g.url, { method: 'PUT', path: `/api/v4/jobs/${id}`, headers: { 'JOB-TOKEN': token }, body: { state: 'success' } })).status).toBe(400)
    expect((await send(g.url, { method: 'PUT', path: `/api/v4/jobs/${id}`, body: { token, state: 'exploded' } })).status).toBe(400)
    const r = await send(g.url, { method: 'PUT', path: `/api/v4/jobs/${id}`, body: { token, state: 'failed', failure_reason: 'made_up_reason', output: { checksum: crc('abx'), bytesize: 4 } } })
    expect(r.status).toBe(200)
    const final = g.state.jobs.get(id)?.final
    expect([final?.failureReason, final?.checksumMatches, final?.bytesizeMatches]).toEqual(['unknown_failure', false, false])
  })
})

describe('cancel', () => {
  it('graceful: PATCH keeps answering 202 with Job-Status: canceling, the final PUT makes the job canceled', async () => {
    const { gl: g, id, token } = await runningJob()
    g.state.cancelJob(id, { graceful: true })
    const p = await patch(g, id, token, '0-1', 'ab')
    expect([p.status, p.headers['job-status']]).toEqual([202, 'canceling'])
    const put = await send(g.url, { method: 'PUT', path: `/api/v4/jobs/${id}`, body: { token, state: 'failed', failure_reason: 'script_failure', output: { checksum: crc('ab'), bytesize: 2 } } })
    expect([put.status, put.headers['job-status']]).toEqual([200, 'canceled'])
    expect(g.state.jobs.get(id)?.status).toBe('canceled')
  })

  it('hard: every later PATCH or PUT is 403 with Job-Status: canceled', async () => {
    const { gl: g, id, token } = await runningJob()
    g.state.cancelJob(id)
    const p = await patch(g, id, token, '0-1', 'ab')
    expect([p.status, p.headers['job-status']]).toEqual([403, 'canceled'])
    const put = await send(g.url, { method: 'PUT', path: `/api/v4/jobs/${id}`, body: { token, state: 'running' } })
    expect([put.status, put.headers['job-status']]).toEqual([403, 'canceled'])
    expect(g.state.traceOf(id).length).toBe(0)
  })
})

describe('transport and recording', () => {
  it('serves HTTPS with a throw-away CA the client must be given', async () => {
    const g = await start({ tls: true })
    const runner = g.state.addRunner()
    expect(g.caPem).toContain('BEGIN CERTIFICATE')
    const ok = await send(g.httpsUrl!, { method: 'POST', path: '/api/v4/runners/verify', body: { token: runner.token }, ca: g.caPem! })
    expect(ok.status).toBe(200)
    await expect(send(g.httpsUrl!, { method: 'POST', path: '/api/v4/runners/verify', body: { token: runner.token } })).rejects.toThrow(/self.signed|unable to verify|certificate/i)
    expect(g.recorder.all.map((r) => r.scheme)).toEqual(['https'])
  })

  it('records every request in order with its headers, body size, status and timing', async () => {
    const g = await start()
    const runner = g.state.addRunner()
    await send(g.url, { method: 'POST', path: '/api/v4/runners/verify', headers: { 'User-Agent': 'glrun 0.1.0', 'X-Request-Id': 'abc123' }, body: { token: runner.token } })
    await send(g.url, { method: 'GET', path: '/api/v4/nothing-here' })
    const [a, b] = g.recorder.all
    expect(a).toMatchObject({ seq: 1, route: 'verify', method: 'POST', path: '/api/v4/runners/verify', status: 200, bodySize: JSON.stringify({ token: runner.token }).length, listener: 'api', scheme: 'http' })
    expect(a?.headers['user-agent']).toBe('glrun 0.1.0')
    expect(a?.headers['x-request-id']).toBe('abc123')
    expect(a?.durationMs).toBeGreaterThanOrEqual(0)
    expect(b).toMatchObject({ seq: 2, route: 'unknown', status: 404 })
  })
})
