import { authenticateJob } from './job-auth.js'
import { type RouteContext, drain, headerOf, jobToken, readBody, replyMessage } from './http-io.js'
import type { DoubleJob } from './types.js'

/**
 * `PATCH /jobs/:id/trace` (server note §5, GitLab's Ci::AppendBuildTraceService): only the start
 * of `Content-Range` counts, the end is computed from the body; a start that is not the stored
 * size appends nothing and answers 416 with `Range: 0-<stored size>`; success is 202 with
 * `Job-Status`, `Range: 0-<new size>` and `X-GitLab-Trace-Update-Interval`.
 */
export async function patchTrace(ctx: RouteContext): Promise<void> {
  const job = authenticateJob(ctx, jobToken(ctx, null), { failOnExpiredToken: true })
  if (!job) {
    await drain(ctx)
    return
  }
  const resets = ctx.state.rogue.traceResets
  if (resets.left > 0) {
    resets.left--
    if (resets.afterAppend) {
      // The server stored the patch, but the answer never reaches the runner.
      append(ctx, job, await readBody(ctx))
      resetConnection(ctx)
    } else {
      await resetMidBody(ctx)
    }
    return
  }
  const body = await readBody(ctx)
  const range = headerOf(ctx, 'content-range')
  if (range === undefined) {
    replyMessage(ctx, 400, '400 Missing header Content-Range')
    return
  }
  const mismatch = ctx.state.rogue.rangeMismatch
  if (mismatch.left > 0) {
    mismatch.left--
    if (mismatch.truncateTo !== null) ctx.state.truncateTrace(job, mismatch.truncateTo)
    replyMessage(ctx, 416, '416 Range Not Satisfiable', { Range: `0-${job.traceSize}` })
    return
  }
  const start = rubyToI(range.split('-')[0] ?? '')
  if (start + body.length > ctx.state.options.traceLimitBytes) {
    job.status = 'failed'
    job.failureReason = 'trace_size_exceeded'
    replyMessage(ctx, 403, '403 Forbidden')
    return
  }
  if (start !== job.traceSize) {
    replyMessage(ctx, 416, '416 Range Not Satisfiable', { Range: `0-${job.traceSize}` })
    return
  }
  append(ctx, job, body)
  ctx.res.setHeader('Job-Status', job.status)
  ctx.res.setHeader('Range', `0-${job.traceSize}`)
  ctx.res.setHeader('X-GitLab-Trace-Update-Interval', String(ctx.state.options.traceUpdateInterval))
  ctx.res.writeHead(202).end()
  const pending = job.cancelAfterPatches
  if (pending && job.patches >= pending.patches) ctx.state.applyCancel(job, pending.graceful)
}

/** Appends at the stored size (the caller checked the offset). The bytes are kept as sent. */
function append(ctx: RouteContext, job: DoubleJob, body: Buffer): void {
  const start = rubyToI((headerOf(ctx, 'content-range') ?? '').split('-')[0] ?? '')
  if (start !== job.traceSize || body.length === 0) return
  job.trace.push(body)
  job.traceSize += body.length
  job.patches++
}

/** Reads the first chunk of the body, then drops the connection: the patch is lost on the way. */
async function resetMidBody(ctx: RouteContext): Promise<void> {
  await new Promise<void>((resolve) => {
    ctx.req.once('data', (chunk: Buffer) => {
      ctx.record.bodySize += chunk.length
      resolve()
    })
    ctx.req.once('end', () => resolve())
  })
  resetConnection(ctx)
}

function resetConnection(ctx: RouteContext): void {
  ctx.record.reset = true
  try {
    // A TCP RST, as a crashed proxy sends; TLS sockets cannot do that and are just destroyed.
    ctx.req.socket.resetAndDestroy()
  } catch {
    ctx.req.socket.destroy()
  }
}

/** Ruby's `String#to_i`: leading digits after optional blanks, 0 when there are none. */
function rubyToI(s: string): number {
  const m = /^\s*(\d+)/.exec(s)
  return m ? Number(m[1]) : 0
}
