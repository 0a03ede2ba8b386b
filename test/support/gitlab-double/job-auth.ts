import { type RouteContext, replyMessage } from './http-io.js'
import { type DoubleJob, EXECUTING } from './types.js'

/**
 * GitLab's `authenticate_job!` (lib/api/ci/helpers/runner.rb + Ci::AuthJobFinder): 403, never 404,
 * for an unknown job or a token of another job; 403 with `Job-Status` when the job is no longer
 * executing or its token expired. On PUT/PATCH an expired token also drops the job.
 * Returns the job, or null after answering.
 */
export function authenticateJob(ctx: RouteContext, token: string | null, opts: { failOnExpiredToken?: boolean } = {}): DoubleJob | null {
  const job = ctx.state.jobs.get(ctx.id)
  if (!job || !token || job.token !== token) {
    replyMessage(ctx, 403, '403 Forbidden')
    return null
  }
  if (job.tokenExpired) {
    if (opts.failOnExpiredToken && EXECUTING.includes(job.status)) {
      job.status = 'failed'
      job.failureReason = 'job_token_expired'
    }
    replyMessage(ctx, 403, '403 Forbidden - Job token has expired', { 'Job-Status': job.status })
    return null
  }
  if (!EXECUTING.includes(job.status)) {
    replyMessage(ctx, 403, '403 Forbidden - Job is not processing on runner', { 'Job-Status': job.status })
    return null
  }
  return job
}
