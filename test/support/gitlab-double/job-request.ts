import { type RouteContext, parseParams, readBody, reply, replyMessage, replyMissing, str } from './http-io.js'
import { authenticateRunner } from './runners-api.js'
import type { DoubleJob } from './types.js'

/** Workhorse's `maxRegisterBodySize`: a bigger `/jobs/request` body is refused before Rails sees it. */
const MAX_REGISTER_BODY = 32 * 1024

/**
 * `POST /jobs/request` (server note §3): Workhorse's long poll in front of Rails' decision
 * sequence. Workhorse holds a request only when the body is JSON with a `token` and a
 * `last_update` equal to the runner's current queue value; when the value changes or the
 * hold times out it answers 204 *without* `X-GitLab-Last-Update`. Rails answers 204 with the
 * header, 201 with a job, 409 on a lost race, 403 for an unknown token.
 */
export async function requestJob(ctx: RouteContext): Promise<void> {
  const { state } = ctx
  const body = await readBody(ctx)
  if (body.length > MAX_REGISTER_BODY) {
    replyMessage(ctx, 413, '413 Request Entity Too Large')
    return
  }
  const params = parseParams(ctx, body)
  ctx.record.params = params
  const rogue = state.rogue
  const longPolling = state.options.longPollMs > 0 || rogue.slowPolls.left > 0
  if (longPolling) ctx.res.setHeader('Gitlab-Ci-Builds-Polling', 'yes')
  if (rogue.slowPolls.left > 0) {
    rogue.slowPolls.left--
    await hold(ctx, rogue.slowPolls.holdMs, false)
    reply(ctx, 204, undefined)
    return
  }
  if (rogue.emptyPolls > 0) {
    rogue.emptyPolls--
    reply(ctx, 204, undefined)
    return
  }
  const token = str(params?.['token'])
  const lastUpdate = str(params?.['last_update'])
  const known = token ? state.runners.get(token) : undefined
  const isJson = (ctx.req.headers['content-type'] ?? '').startsWith('application/json')
  if (state.options.longPollMs > 0 && known && isJson && lastUpdate !== null && lastUpdate === known.queueValue) {
    await hold(ctx, state.options.longPollMs, true)
    reply(ctx, 204, undefined)
    return
  }

  if (!params) {
    reply(ctx, 400, { error: 'body is not valid JSON' })
    return
  }
  if (!token) {
    replyMissing(ctx, 'token')
    return
  }
  const runner = authenticateRunner(ctx, token, params)
  if (!runner) return
  if (rogue.rotateLastUpdate) state.tick(runner)
  const noJob = (): void => reply(ctx, 204, undefined, { 'X-GitLab-Last-Update': runner.queueValue })
  if (runner.paused || lastUpdate === runner.queueValue) {
    noJob()
    return
  }
  if (rogue.conflicts > 0) {
    rogue.conflicts--
    replyMessage(ctx, 409, '409 Conflict')
    return
  }
  const job = state.take(runner)
  if (!job) {
    noJob()
    return
  }
  reply(ctx, 201, handOut(ctx, job))
}

/** Waits up to `ms`; with `wakeOnTick` a queue change ends it early. A client that goes away ends it too. */
async function hold(ctx: RouteContext, ms: number, wakeOnTick: boolean): Promise<void> {
  if (wakeOnTick) {
    await ctx.state.waitForTick(ms, (stop) => ctx.res.once('close', stop))
    return
  }
  await new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      unsubscribe()
      resolve()
    }
    const timer = setTimeout(done, ms)
    const unsubscribe = ctx.state.onClose(done)
    ctx.res.once('close', done)
  })
}

/**
 * The JobResponse: the stored payload, with `artifacts_file` on each dependency whose job has
 * uploaded an archive (the runner downloads only dependencies that have one).
 */
function handOut(ctx: RouteContext, job: DoubleJob): unknown {
  const payload = structuredClone(job.payload)
  payload.dependencies = payload.dependencies.map((d) => {
    const archive = ctx.state.jobs.get(d.id)?.artifacts.find((a) => a.type === 'archive')
    return archive ? { ...d, artifacts_file: { filename: archive.filename, size: archive.size } } : d
  })
  return payload
}
