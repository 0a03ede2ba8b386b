/**
 * gitlab-runner's health bookkeeping for one [[runners]] entry (commands/health_helper.go): a job
 * request GitLab refused (403: the runner was deleted or its token reset) or that never got an
 * answer counts as unhealthy; `unhealthy_requests_limit` of them in a row and the runner asks for
 * no jobs for `unhealthy_interval`, then requests are let through again (and counted afresh).
 * gitlab-runner measures the interval from the last healthy answer; glrun from the moment the
 * runner was disabled, as gitlab-runner's own log line says ("will be disabled for 1h0m0s"): the
 * same for a runner that was healthy until just before, and not a shorter pause for one that never was. 204, 201, 409 and 5xx are healthy answers (GitLab is there and knows the runner).
 */
export class RunnerHealth {
  private failures = 0
  private lastCheck: number

  constructor(private limit: number, private intervalMs: number, private readonly now: () => number = Date.now) {
    this.lastCheck = now()
  }

  /** A config reload: new limits, and (as gitlab-runner's reload does) a clean slate. */
  reset(limit: number, intervalMs: number): void {
    this.limit = limit
    this.intervalMs = intervalMs
    this.failures = 0
    this.lastCheck = this.now()
  }

  /**
   * 0 when the runner may ask for a job now, else how many ms until it may. When the interval
   * has passed the count starts over (gitlab-runner's "check for a new job will be forced").
   */
  waitMs(): number {
    if (this.failures < this.limit) return 0
    const left = this.lastCheck + this.intervalMs - this.now()
    if (left > 0) return left
    this.failures = 0
    this.lastCheck = this.now()
    return 0
  }

  /** Records an answer; true when this one disables the runner (the caller logs it). */
  mark(healthy: boolean): boolean {
    if (healthy) {
      this.failures = 0
      this.lastCheck = this.now()
      return false
    }
    this.failures++
    if (this.failures !== this.limit) return false
    this.lastCheck = this.now()
    return true
  }

  get unhealthyRequests(): number {
    return this.failures
  }
}

/** A duration as gitlab-runner prints one in its logs ("1h0m0s", "2s"). */
export function goDuration(ms: number): string {
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s}s`
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  return h > 0 ? `${h}h${m}m${s % 60}s` : `${m}m${s % 60}s`
}
