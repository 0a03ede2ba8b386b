import { randomBytes } from 'node:crypto'
import type { GitInfo, JobPayload } from '../../../src/payload/types.js'
import type { DoubleJob, DoubleOptions, DoubleRunner, RouteName } from './types.js'

/** A canned failure for the next matching requests (5xx bursts, 429 back-off, proxy 404s). */
export interface CannedFailure {
  route: RouteName | null
  status: number
  left: number
  headers: Record<string, string>
}

/** The switchable misbehaviours of the note's checklist (§10); each counts down as it fires. */
export interface Rogue {
  failures: CannedFailure[]
  conflicts: number
  emptyPolls: number
  slowPolls: { left: number; holdMs: number }
  rotateLastUpdate: boolean
  traceResets: { left: number; afterAppend: boolean }
  rangeMismatch: { left: number; truncateTo: number | null }
}

const hex = (n: number): string => randomBytes(n).toString('hex')

/** Everything the double knows: runners, jobs, the pending queue, the rogue switches. */
export class DoubleState {
  readonly runners = new Map<string, DoubleRunner>()
  readonly jobs = new Map<number, DoubleJob>()
  readonly queue: DoubleJob[] = []
  readonly rogue: Rogue = {
    failures: [], conflicts: 0, emptyPolls: 0, slowPolls: { left: 0, holdMs: 0 }, rotateLastUpdate: false,
    traceResets: { left: 0, afterAppend: false }, rangeMismatch: { left: 0, truncateTo: null },
  }
  /** Long polls held by "Workhorse", woken when the queue value changes. */
  private readonly waiters = new Set<() => void>()
  /** Pre-signed "object storage" keys handed out by artifact redirects: key → file on disk. */
  readonly objects = new Map<string, string>()
  private readonly closers = new Set<() => void>()
  private nextRunnerId = 1

  constructor(readonly options: Required<Omit<DoubleOptions, 'dir' | 'tls'>>, readonly dataDir: string) {}

  addRunner(opts: { token?: string; paused?: boolean; registration?: Record<string, unknown>; tagList?: string[] } = {}): DoubleRunner {
    const runner: DoubleRunner = {
      id: this.nextRunnerId++, token: opts.token ?? `glrt-${hex(10)}`, registration: opts.registration ?? {},
      tagList: opts.tagList ?? [], paused: opts.paused ?? false, queueValue: hex(16), managers: new Map(), lastInfo: null,
    }
    this.runners.set(runner.token, runner)
    return runner
  }

  /** Token reset or runner deleted in GitLab: every later call with the token is a 403. */
  revokeRunner(token: string): void {
    this.runners.delete(token)
  }

  /**
   * Queues a payload (as `glrun compile --json` makes it) for the next `/jobs/request`. The job
   * gets a fresh job token everywhere the compiler put its local one (CI_JOB_TOKEN, repo_url,
   * registry credentials, dependencies) and the test's git_info, as GitLab would hand it out.
   */
  enqueue(payload: JobPayload, opts: { id?: number; token?: string; gitInfo?: Partial<GitInfo>; finalisingPuts?: number } = {}): DoubleJob {
    const token = opts.token ?? `glcbt-64_${hex(12)}`
    const text = payload.token ? JSON.stringify(payload).split(payload.token).join(token) : JSON.stringify(payload)
    const copy = JSON.parse(text) as JobPayload
    copy.id = opts.id ?? payload.id
    copy.token = token
    if (opts.gitInfo) copy.git_info = { ...copy.git_info, ...opts.gitInfo }
    if (this.jobs.has(copy.id)) throw new Error(`gitlab-double: job ${copy.id} is already queued`)
    const job: DoubleJob = {
      id: copy.id, token, payload: copy, status: 'pending', runnerId: null, trace: [], traceSize: 0, patches: 0,
      final: null, pendingStateAt: null, finalisingLeft: opts.finalisingPuts ?? this.options.finalisingPuts,
      failureReason: null, tokenExpired: false, cancelAfterPatches: null, artifacts: [],
    }
    this.jobs.set(job.id, job)
    this.queue.push(job)
    this.tickQueues()
    return job
  }

  /** The next queued job for this runner, now running on it (GitLab's `build.run!`). */
  take(runner: DoubleRunner): DoubleJob | null {
    const job = this.queue.shift()
    if (!job) return null
    job.status = 'running'
    job.runnerId = runner.id
    return job
  }

  jobByToken(token: string): DoubleJob | undefined {
    for (const j of this.jobs.values()) if (j.token === token) return j
    return undefined
  }

  /** GitLab's `tick_runner_queue`: a new queue value for every runner, and held polls released. */
  tickQueues(): void {
    for (const r of this.runners.values()) r.queueValue = hex(16)
    for (const wake of [...this.waiters]) wake()
  }

  tick(runner: DoubleRunner): void {
    runner.queueValue = hex(16)
  }

  /** Resolves true when the queue value changed within `ms`, false on timeout or when `abort` fires. */
  waitForTick(ms: number, onAbort: (stop: () => void) => void): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (changed: boolean): void => {
        clearTimeout(timer)
        this.waiters.delete(wake)
        resolve(changed)
      }
      const wake = (): void => done(true)
      const timer = setTimeout(() => done(false), ms)
      this.waiters.add(wake)
      onAbort(() => done(false))
    })
  }

  /** Runs `fn` when the double shuts down (ends held requests); returns the unsubscribe. */
  onClose(fn: () => void): () => void {
    this.closers.add(fn)
    return () => this.closers.delete(fn)
  }

  shutdown(): void {
    for (const fn of [...this.closers]) fn()
    this.closers.clear()
    for (const wake of [...this.waiters]) wake()
  }

  /**
   * Cancels a job as GitLab's UI would. With `graceful` (the runner claimed `cancel_gracefully`)
   * the job goes to `canceling` and stays executing; otherwise straight to `canceled`.
   * `afterPatches`: cancel once that many trace PATCHes have been accepted (cancel while running).
   */
  cancelJob(id: number, opts: { graceful?: boolean; afterPatches?: number } = {}): void {
    const job = this.mustJob(id)
    const graceful = opts.graceful ?? false
    if (opts.afterPatches !== undefined && job.patches < opts.afterPatches) {
      job.cancelAfterPatches = { patches: opts.afterPatches, graceful }
      return
    }
    this.applyCancel(job, graceful)
  }

  /** "Force cancel", or a canceling job the runner never finished. */
  forceCancel(id: number): void {
    this.mustJob(id).status = 'canceled'
  }

  applyCancel(job: DoubleJob, graceful: boolean): void {
    job.cancelAfterPatches = null
    if (job.status === 'pending') {
      this.queue.splice(this.queue.indexOf(job), 1)
      job.status = 'canceled'
    } else if (job.status === 'running') {
      job.status = graceful ? 'canceling' : 'canceled'
    }
  }

  /** A server-side failure (timeout, stuck job): later job calls get 403 + `Job-Status: failed`. */
  failJob(id: number, reason = 'stuck_or_timeout_failure'): void {
    const job = this.mustJob(id)
    job.status = 'failed'
    job.failureReason = reason
  }

  expireJobToken(id: number): void {
    this.mustJob(id).tokenExpired = true
  }

  /** The next `count` requests (to `route`, or any) answer `status` with `headers` (e.g. Retry-After). */
  failNext(count: number, status: number, opts: { route?: RouteName; headers?: Record<string, string> } = {}): void {
    this.rogue.failures.push({ route: opts.route ?? null, status, left: count, headers: opts.headers ?? {} })
  }

  takeFailure(route: RouteName): CannedFailure | null {
    const f = this.rogue.failures.find((c) => c.left > 0 && (c.route === null || c.route === route))
    if (!f) return null
    f.left--
    return f
  }

  traceOf(id: number): Buffer {
    return Buffer.concat(this.mustJob(id).trace)
  }

  truncateTrace(job: DoubleJob, size: number): void {
    const kept = Buffer.concat(job.trace).subarray(0, size)
    job.trace = [kept]
    job.traceSize = kept.length
  }

  mustJob(id: number): DoubleJob {
    const job = this.jobs.get(id)
    if (!job) throw new Error(`gitlab-double: no job ${id}`)
    return job
  }
}
