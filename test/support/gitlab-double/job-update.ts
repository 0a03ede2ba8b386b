import { crc32 } from 'node:zlib'
import { authenticateJob } from './job-auth.js'
import { type RouteContext, parseParams, readBody, reply, replyMissing, str } from './http-io.js'
import type { DoubleJob, FinalState } from './types.js'

const STATES = ['pending', 'running', 'success', 'failed']

/**
 * `PUT /jobs/:id` (server note §4, GitLab's Ci::UpdateBuildStateService, legacy one-phase commit):
 * `running` is a keep-alive (200); a final state with a checksum creates the pending state once
 * and is answered 202 with a back-off interval while the trace is "being persisted"
 * (`finalisingPuts` times), then applied (200). A checksum or size mismatch is recorded, never
 * returned. A canceling job that reports success/failed becomes canceled.
 */
export async function updateJob(ctx: RouteContext): Promise<void> {
  const params = parseParams(ctx, await readBody(ctx))
  ctx.record.params = params
  if (!params) {
    reply(ctx, 400, { error: 'body is not valid JSON' })
    return
  }
  // Grape declares `token` as required here even though the JOB-TOKEN header also authenticates.
  if (!str(params['token'])) {
    replyMissing(ctx, 'token')
    return
  }
  const job = authenticateJob(ctx, str(params['token']), { failOnExpiredToken: true })
  if (!job) return
  const state = str(params['state'])
  if (state !== null && !STATES.includes(state)) {
    reply(ctx, 400, { error: 'state does not have a valid value' })
    return
  }
  if (state === 'success' || state === 'failed') {
    finish(ctx, job, state, params)
    return
  }
  // `running` (keep-alive) or no state: nothing changes. `pending` outside a two-phase wait is a 400 in GitLab.
  if (state === 'pending') {
    reply(ctx, 400, { message: '400 Bad request' })
    return
  }
  reply(ctx, 200, '200', { 'Job-Status': job.status })
}

function finish(ctx: RouteContext, job: DoubleJob, state: 'success' | 'failed', params: Record<string, unknown>): void {
  const output = (params['output'] ?? {}) as Record<string, unknown>
  const checksum = str(output['checksum']) ?? str(params['checksum'])
  if (!job.final) job.final = pendingState(job, state, checksum, params, output)
  if (checksum !== null) {
    job.pendingStateAt ??= Date.now()
    if (job.finalisingLeft > 0) {
      job.finalisingLeft--
      reply(ctx, 202, '202', { 'Job-Status': job.status, 'X-GitLab-Trace-Update-Interval': String(backoff(ctx, job)) })
      return
    }
  }
  // The stored trace is compared with what the runner said it sent (GitLab only logs this).
  const final = job.final
  // Chunk by chunk: a 100 MB trace is not copied into one buffer to be checked.
  const crc = job.trace.reduce((c, b) => crc32(b, c), 0)
  final.checksumMatches = final.checksum === null ? null : final.checksum === `crc32:${crc.toString(16).padStart(8, '0')}`
  final.bytesizeMatches = final.bytesize === null ? null : final.bytesize === job.traceSize
  if (job.status === 'canceling') {
    job.status = 'canceled'
  } else {
    job.status = final.state
    job.failureReason = final.failureReason
  }
  reply(ctx, 200, '200', { 'Job-Status': job.status })
}

/** The first final PUT is what GitLab keeps (`Ci::BuildPendingState` is created once). */
function pendingState(job: DoubleJob, state: 'success' | 'failed', checksum: string | null, params: Record<string, unknown>, output: Record<string, unknown>): FinalState {
  const sent = str(params['failure_reason'])
  const known = job.payload.features.failure_reasons
  const exit = params['exit_code']
  const size = output['bytesize']
  return {
    state, sentFailureReason: sent,
    failureReason: state === 'success' ? null : sent === null ? 'unknown_failure' : known.includes(sent) ? sent : 'unknown_failure',
    exitCode: typeof exit === 'number' ? exit : typeof exit === 'string' && /^\d+$/.test(exit) ? Number(exit) : null,
    checksum, bytesize: typeof size === 'number' ? size : null, checksumMatches: null, bytesizeMatches: null,
  }
}

/**
 * GitLab's Gitlab::Ci::Runner::Backoff: 2^slot seconds, slot = ⌊log2(elapsed)⌋ − 1 (0 up to 1 s),
 * capped at 64; the first seconds give 1. A test can fix the value with `finalisingInterval`.
 */
function backoff(ctx: RouteContext, job: DoubleJob): number {
  const fixed = ctx.state.options.finalisingInterval
  if (fixed > 0) return fixed
  const elapsed = (Date.now() - (job.pendingStateAt ?? Date.now())) / 1000
  const slot = elapsed <= 1 ? 0 : Math.max(0, Math.floor(Math.log2(elapsed)) - 1)
  return 2 ** Math.min(slot, 6)
}
