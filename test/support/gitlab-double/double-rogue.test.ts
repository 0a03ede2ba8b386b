import { afterEach, describe, expect, it } from 'vitest'
import { compiledPayloads } from './fixtures.js'
import { send } from './http-client.js'
import { type GitLabDouble, startGitLabDouble } from './server.js'
import type { DoubleOptions } from './types.js'

/** The note's rogue checklist (§10): each switch, proven on real sockets. */

let gl: GitLabDouble | null = null
afterEach(async () => {
  await gl?.close()
  gl = null
})
async function withRunner(opts: DoubleOptions = {}): Promise<{ g: GitLabDouble; token: string; request: (body?: Record<string, unknown>) => ReturnType<typeof send> }> {
  const g = (gl = await startGitLabDouble(opts))
  const token = g.state.addRunner().token
  return { g, token, request: (body = {}) => send(g.url, { method: 'POST', path: '/api/v4/jobs/request', body: { token, ...body } }) }
}
async function withRunningJob(opts: DoubleOptions = {}): Promise<{ g: GitLabDouble; id: number; token: string }> {
  const { g, request } = await withRunner(opts)
  g.state.enqueue((await compiledPayloads()).build)
  const job = (await request()).json() as { id: number; token: string }
  return { g, id: job.id, token: job.token }
}
const patch = (g: GitLabDouble, id: number, token: string, start: number, data: string | Buffer) =>
  send(g.url, { method: 'PATCH', path: `/api/v4/jobs/${id}/trace`, headers: { 'JOB-TOKEN': token, 'Content-Range': `${start}-${start + Buffer.from(data).length - 1}` }, body: data })

describe('job request rogues', () => {
  it('slow polls: held for the given time, then 204 without X-GitLab-Last-Update; the queued job is still there afterwards', async () => {
    const { g, request } = await withRunner()
    g.state.enqueue((await compiledPayloads()).build)
    g.state.rogue.slowPolls = { left: 1, holdMs: 300 }
    const t = Date.now()
    const slow = await request()
    expect(Date.now() - t).toBeGreaterThanOrEqual(280)
    expect([slow.status, slow.headers['x-gitlab-last-update'], slow.headers['gitlab-ci-builds-polling']]).toEqual([204, undefined, 'yes'])
    expect((await request()).status).toBe(201)
  })

  it('empty polls answer 204 with no header at once; rotating X-GitLab-Last-Update changes on every 204', async () => {
    const { g, request } = await withRunner()
    g.state.rogue.emptyPolls = 2
    for (let i = 0; i < 2; i++) expect((await request()).headers['x-gitlab-last-update']).toBeUndefined()
    const plain = (await request()).headers['x-gitlab-last-update']
    expect((await request({ last_update: plain })).headers['x-gitlab-last-update']).toBe(plain)
    g.state.rogue.rotateLastUpdate = true
    const a = (await request({ last_update: plain })).headers['x-gitlab-last-update']
    const b = (await request({ last_update: a })).headers['x-gitlab-last-update']
    expect(new Set([plain, a, b]).size).toBe(3)
  })

  it('409 storm: N conflicts, then the queued job, handed out once', async () => {
    const { g, request } = await withRunner()
    g.state.enqueue((await compiledPayloads()).build)
    g.state.rogue.conflicts = 3
    const statuses = []
    for (let i = 0; i < 5; i++) statuses.push((await request()).status)
    expect(statuses).toEqual([409, 409, 409, 201, 204])
  })

  it('5xx burst and 429 back-off: the next N requests (to one route or any) answer the canned status and headers', async () => {
    const { g, token, request } = await withRunner()
    g.state.failNext(2, 502)
    g.state.failNext(1, 429, { route: 'verify', headers: { 'Retry-After': '60' } })
    expect((await request()).status).toBe(502)
    const verify = () => send(g.url, { method: 'POST', path: '/api/v4/runners/verify', body: { token } })
    expect((await verify()).status).toBe(502)
    const limited = await verify()
    expect([limited.status, limited.headers['retry-after']]).toEqual([429, '60'])
    expect((await verify()).status).toBe(200)
    expect((await request()).status).toBe(204)
    g.state.failNext(3, 503, { route: 'trace' })
    expect((await request()).status).toBe(204)
    expect(g.recorder.all.map((r) => r.status)).toEqual([502, 502, 429, 200, 204, 204])
  })

  it('token revoked: 403 on jobs/request and verify; a token reset leaves only the new token working', async () => {
    const { g, token, request } = await withRunner()
    const other = g.state.addRunner().token
    g.state.revokeRunner(token)
    expect((await request()).status).toBe(403)
    expect((await send(g.url, { method: 'POST', path: '/api/v4/runners/verify', body: { token } })).status).toBe(403)
    const reset = await send(g.url, { method: 'POST', path: '/api/v4/runners/reset_authentication_token', body: { token: other } })
    expect(reset.status).toBe(201)
    const fresh = (reset.json() as { token: string }).token
    expect((await send(g.url, { method: 'POST', path: '/api/v4/runners/verify', body: { token: other } })).status).toBe(403)
    expect((await send(g.url, { method: 'POST', path: '/api/v4/runners/verify', body: { token: fresh } })).status).toBe(200)
  })
})

describe('trace rogues', () => {
  it('connection reset in the middle of a PATCH body: the client sees a reset and nothing is stored; the resend is accepted', async () => {
    const { g, id, token } = await withRunningJob()
    g.state.rogue.traceResets = { left: 1, afterAppend: false }
    const big = Buffer.alloc(512 * 1024, 'a')
    await expect(patch(g, id, token, 0, big)).rejects.toThrow(/ECONNRESET|socket hang up|EPIPE/)
    const rec = await g.recorder.waitFor((r) => r.route === 'trace', 2000)
    expect(rec.reset).toBe(true)
    expect(rec.bodySize).toBeGreaterThan(0)
    expect(rec.bodySize).toBeLessThan(big.length)
    expect(g.state.traceOf(id).length).toBe(0)
    const again = await patch(g, id, token, 0, big)
    expect([again.status, again.headers['range']]).toEqual([202, `0-${big.length}`])
  })

  it('connection reset after the server stored the patch: the resend gets 416 with the new size', async () => {
    const { g, id, token } = await withRunningJob()
    g.state.rogue.traceResets = { left: 1, afterAppend: true }
    await expect(patch(g, id, token, 0, 'hello')).rejects.toThrow(/ECONNRESET|socket hang up/)
    expect(g.state.traceOf(id).toString()).toBe('hello')
    const again = await patch(g, id, token, 0, 'hello')
    expect([again.status, again.headers['range']]).toEqual([416, '0-5'])
    expect(g.state.traceOf(id).toString()).toBe('hello')
  })

  it('resets over HTTPS too', async () => {
    const { g, id, token } = await withRunningJob({ tls: true })
    g.state.rogue.traceResets = { left: 1, afterAppend: false }
    const call = { method: 'PATCH', path: `/api/v4/jobs/${id}/trace`, headers: { 'JOB-TOKEN': token, 'Content-Range': '0-4' }, body: 'hello', ca: g.caPem! }
    await expect(send(g.httpsUrl!, call)).rejects.toThrow(/ECONNRESET|socket hang up|EPIPE/)
    expect(g.recorder.to('trace')[0]).toMatchObject({ reset: true, scheme: 'https', status: null })
    expect((await send(g.httpsUrl!, call)).status).toBe(202)
  })

  it('416 on the next PATCH even at the right offset, optionally after the server lost bytes', async () => {
    const { g, id, token } = await withRunningJob()
    await patch(g, id, token, 0, 'hello')
    g.state.rogue.rangeMismatch = { left: 1, truncateTo: null }
    const a = await patch(g, id, token, 5, ' world')
    expect([a.status, a.headers['range']]).toEqual([416, '0-5'])
    g.state.rogue.rangeMismatch = { left: 1, truncateTo: 2 }
    const b = await patch(g, id, token, 5, ' world')
    expect([b.status, b.headers['range']]).toEqual([416, '0-2'])
    expect((await patch(g, id, token, 2, 'llo world')).status).toBe(202)
    expect(g.state.traceOf(id).toString()).toBe('hello world')
  })

  it('cancel while running: after N accepted patches the job is canceled (403) or canceling (202)', async () => {
    const { g, id, token } = await withRunningJob()
    g.state.cancelJob(id, { afterPatches: 2 })
    expect((await patch(g, id, token, 0, 'a')).headers['job-status']).toBe('running')
    expect((await patch(g, id, token, 1, 'b')).headers['job-status']).toBe('running')
    const third = await patch(g, id, token, 2, 'c')
    expect([third.status, third.headers['job-status']]).toEqual([403, 'canceled'])
    await g.close()
    const soft = await withRunningJob()
    soft.g.state.cancelJob(soft.id, { graceful: true, afterPatches: 1 })
    await patch(soft.g, soft.id, soft.token, 0, 'a')
    const next = await patch(soft.g, soft.id, soft.token, 1, 'b')
    expect([next.status, next.headers['job-status']]).toEqual([202, 'canceling'])
  })

  it('expired job token and trace size limit: 403, and the job is failed with GitLab\'s reason', async () => {
    const { g, id, token } = await withRunningJob({ traceLimitBytes: 10 })
    expect((await patch(g, id, token, 0, '0123456789')).status).toBe(202)
    const over = await patch(g, id, token, 10, 'x')
    expect(over.status).toBe(403)
    expect(g.state.jobs.get(id)).toMatchObject({ status: 'failed', failureReason: 'trace_size_exceeded' })
    await g.close()
    const exp = await withRunningJob()
    exp.g.state.expireJobToken(exp.id)
    const res = await send(exp.g.url, { method: 'PUT', path: `/api/v4/jobs/${exp.id}`, body: { token: exp.token, state: 'running' } })
    expect([res.status, res.headers['job-status']]).toEqual([403, 'failed'])
    expect(exp.g.state.jobs.get(exp.id)?.failureReason).toBe('job_token_expired')
  })
})

describe('final PUT rogue', () => {
  it('repeated 202 on the final PUT, K times with the interval the test fixed, then 200', async () => {
    const { g, id, token } = await withRunningJob({ finalisingPuts: 3, finalisingInterval: 5 })
    const put = () => send(g.url, { method: 'PUT', path: `/api/v4/jobs/${id}`, body: { token, state: 'success', output: { checksum: 'crc32:00000000', bytesize: 0 } } })
    const answers = []
    for (let i = 0; i < 4; i++) {
      const r = await put()
      answers.push([r.status, r.headers['x-gitlab-trace-update-interval'] ?? null])
    }
    expect(answers).toEqual([[202, '5'], [202, '5'], [202, '5'], [200, null]])
    expect(g.state.jobs.get(id)?.final).toMatchObject({ state: 'success', checksumMatches: true, bytesizeMatches: true })
  })
})
