/**
 * How one job ended. A failed script is an outcome, not an exception: only glrun's own failures
 * (and executor failures such as an image pull) carry a failure reason other than script_failure.
 */
export type FailureReason =
  | 'script_failure' | 'runner_system_failure' | 'job_execution_timeout' | 'image_pull_failure'
  | 'runner_configuration_error' | 'runner_external_dependency_failure' | 'missing_dependency_failure'
  | 'stuck_or_timeout_failure' | 'unknown_failure' | 'job_canceled' | 'api_failure'

export type JobOutcome =
  | { readonly status: 'success'; readonly durationMs: number; readonly coverage?: string }
  | {
      readonly status: 'failed'
      readonly reason: FailureReason
      readonly exitCode?: number
      /** The job failed but `allow_failure` (or its exit_codes) lets the pipeline go on. */
      readonly allowedToFail: boolean
      readonly message: string
      readonly durationMs: number
      /** The job's `coverage:` found in its log (GitLab extracts it from failed jobs too). */
      readonly coverage?: string
    }
  | { readonly status: 'canceled'; readonly durationMs: number }
  | { readonly status: 'skipped'; readonly because: 'needs-failed' | 'when' | 'manual' | 'delayed' | 'canceled' | 'not-selected' }

/** One attempt's result as the scheduler sees it after retries: the last attempt's outcome. */
export interface JobResult {
  readonly name: string
  readonly outcome: JobOutcome
  readonly attempts: number
}
