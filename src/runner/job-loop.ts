import { readFileSync } from 'node:fs'
import { arch } from 'node:os'
import type { Executor } from '../executors/types.js'
import { GLRUN_VERSION } from '../job/job-variables.js'
import type { RunnerConfigFile, RunnerSettings } from '../runner-config/types.js'
import { type JobRequestAnswer, RunnerApi, type RunnerInfo } from './api.js'
import { type OperatorLog, runGitLabJob, systemIdOf } from './gitlab-job.js'
import type { RunnerMetrics } from './metrics.js'
import { RunnerHealth, goDuration } from './runner-health.js'

export type { OperatorLog } from './gitlab-job.js'

/**
 * What glrun claims to GitLab. GitLab drops a job whose needs are not claimed here
 * (`runner_unsupported`), so only what glrun really does is true.
 */
export const FEATURES: Record<string, boolean> = {
  variables: true, image: true, services: true, artifacts: true, cache: true, shared: false,
  upload_multiple_artifacts: true, upload_raw_artifacts: false, session: false, terminal: false,
  refspecs: false, masking: true, proxy: false, raw_variables: true, artifacts_exclude: true,
  multi_build_steps: false, trace_reset: false, trace_checksum: true, trace_size: true,
  vault_secrets: false, cancelable: true, return_exit_code: true, service_variables: true,
  cancel_gracefully: true, fallback_cache_keys: true, two_phase_job_commit: false,
}

export interface RunnerLoopOptions {
  config: RunnerConfigFile
  configText: string
  /** The [[runners]] entries to serve (each needs url and token). */
  runners: RunnerSettings[]
  executorFor: (r: RunnerSettings) => Executor
  /** Where glrun keeps job directories, traces and scratch files. */
  stateDir: string
  /** Stop after this many jobs (gitlab-runner's run-single). */
  maxBuilds?: number
  /** Aborted: stop taking jobs and cancel the running ones (after_script still runs). */
  cancel: AbortSignal
  /** Aborted: stop taking jobs, let the running ones finish (SIGQUIT). */
  drain: AbortSignal
  log: OperatorLog
  metrics?: RunnerMetrics
}

/** One [[runners]] entry being served: its settings (replaced on reload) and its request workers. */
interface Poller {
  key: string
  settings: RunnerSettings
  api: RunnerApi
  executor: Executor
  info: RunnerInfo
  lastUpdate: string | undefined
  health: RunnerHealth
  /** Job requests under way, and jobs running, for this runner (`request_concurrency`, `limit`). */
  requests: number
  jobs: number
  /** Consecutive failed answers that were not unhealthy (5xx, 429): the back-off. */
  errors: number
  /** The request workers' slots under way (0 … request_concurrency-1). */
  workers: Set<number>
  retired: boolean
}

/** gitlab-runner identifies a runner by its URL and token: a changed token is another runner. */
const keyOf = (r: RunnerSettings): string => `${r.url ?? ''}\n${r.token ?? ''}`

/**
 * gitlab-runner's `run`: every runner asks its GitLab for jobs, within `concurrent` in all, each
 * runner's `limit` and `request_concurrency`, skipping a runner that stopped answering healthily
 * (`unhealthy_requests_limit`, `unhealthy_interval`). `update()` applies a reloaded config.toml:
 * new and removed runners and changed limits count from the next request; a job under way keeps the
 * settings it started with.
 *
 * A request holds a slot of `concurrent` (and of the runner's `limit`) while it waits, as
 * gitlab-runner's workers do: the job it may bring must fit, since a job GitLab assigned cannot be
 * refused. So with several runners, `concurrent` should leave room for their long polls.
 */
export class RunnerPool {
  private config: RunnerConfigFile
  private configText: string
  private running = 0
  private reserved = 0
  private taken = 0
  private readonly pollers = new Map<string, Poller>()
  /** The jobs and workers under way (sets: a runner that runs for months must not keep one per job). */
  private readonly jobs = new Set<Promise<void>>()
  private readonly workers = new Set<Promise<void>>()
  private readonly wakers = new Set<() => void>()
  private readonly stop: AbortSignal

  constructor(private readonly o: RunnerLoopOptions) {
    this.config = o.config
    this.configText = o.configText
    this.stop = AbortSignal.any([o.cancel, o.drain])
    this.stop.addEventListener('abort', () => this.notify(), { once: true })
  }

  async run(): Promise<void> {
    this.update(this.o.config, this.o.configText, this.o.runners)
    while (this.wantMore()) await this.changed(60_000)
    while (this.workers.size > 0) await Promise.all([...this.workers])
    while (this.jobs.size > 0) await Promise.all([...this.jobs])
  }

  /** A config.toml (re)loaded: start, update or retire pollers; running jobs are left alone. */
  update(config: RunnerConfigFile, configText: string, runners: RunnerSettings[]): void {
    this.config = config
    this.configText = configText
    const wanted = new Map<string, RunnerSettings>()
    for (const r of runners) {
      if (!r.url || !r.token) this.o.log({ level: 'warn', runner: r.name, msg: 'runner has no url or token: skipped' })
      else wanted.set(keyOf(r), r)
    }
    for (const [key, p] of this.pollers) {
      if (wanted.has(key)) continue
      p.retired = true
      this.pollers.delete(key)
      this.o.log({ level: 'info', runner: p.settings.name, msg: 'runner removed from the config: no more job requests' })
    }
    for (const [key, r] of wanted) {
      const p = this.pollers.get(key)
      if (p) {
        if (JSON.stringify(p.settings) !== JSON.stringify(r) && !this.rebuild(p, r)) continue
        p.health.reset(r.unhealthyRequestsLimit, r.unhealthyIntervalMs)
        this.spawn(p)
        continue
      }
      const fresh = this.newPoller(key, r)
      if (!fresh) continue
      this.pollers.set(key, fresh)
      if (this.started) this.o.log({ level: 'info', runner: r.name, msg: 'runner added from the config' })
      this.spawn(fresh)
    }
    this.started = true
    this.notify()
  }

  private started = false

  private newPoller(key: string, r: RunnerSettings): Poller | undefined {
    const parts = this.partsFor(r)
    if (!parts) return undefined
    return {
      key, settings: r, ...parts, lastUpdate: undefined, health: new RunnerHealth(r.unhealthyRequestsLimit, r.unhealthyIntervalMs),
      requests: 0, jobs: 0, errors: 0, workers: new Set(), retired: false,
    }
  }

  /** Changed settings of a runner already served: a new client and executor for the next jobs. */
  private rebuild(p: Poller, r: RunnerSettings): boolean {
    const parts = this.partsFor(r)
    if (!parts) return false
    Object.assign(p, parts, { settings: r })
    return true
  }

  private partsFor(r: RunnerSettings): Pick<Poller, 'api' | 'executor' | 'info'> | undefined {
    const m = this.o.metrics
    try {
      const executor = this.o.executorFor(r)
      const api = new RunnerApi({ url: r.url ?? '', ...(r.tlsCaFile ? { caPem: readFileSync(r.tlsCaFile, 'utf8') } : {}) }, m ? (endpoint, status, s) => {
        m.requests.inc({ runner: r.name, endpoint, status })
        m.requestSeconds.observe({ endpoint }, s)
      } : undefined)
      const info: RunnerInfo = { name: r.name, version: GLRUN_VERSION, revision: 'glrun', platform: 'linux', architecture: arch() === 'x64' ? 'amd64' : arch(), executor: executor.name, shell: 'bash', features: FEATURES }
      return { api, executor, info }
    } catch (e) {
      this.o.log({ level: 'error', runner: r.name, msg: 'runner cannot be served: skipped', error: (e as Error).message })
      return undefined
    }
  }

  /** Workers up to the runner's request_concurrency (a reload may raise it; extra ones end by themselves). */
  private spawn(p: Poller): void {
    if (!this.wantMore()) return
    for (let slot = 0; slot < p.settings.requestConcurrency; slot++) {
      if (p.workers.has(slot)) continue
      p.workers.add(slot)
      const w: Promise<void> = this.work(p, slot).catch((e: unknown) => {
        this.o.log({ level: 'error', runner: p.settings.name, msg: 'job requests stopped by a glrun error', error: (e as Error).message })
      }).finally(() => {
        p.workers.delete(slot)
        this.workers.delete(w)
      })
      this.workers.add(w)
    }
  }

  private wantMore(): boolean {
    return !this.stop.aborted && (this.o.maxBuilds === undefined || this.taken < this.o.maxBuilds)
  }

  /** Room for one more request (and the job it may bring): `concurrent`, `limit`, `--max-builds`. */
  private mayRequest(p: Poller): boolean {
    const r = p.settings
    return this.running + this.reserved < this.config.concurrent
      && (r.limit <= 0 || p.jobs + p.requests < r.limit)
      && p.requests < r.requestConcurrency
      && (this.o.maxBuilds === undefined || this.taken + this.reserved < this.o.maxBuilds)
  }

  private notify(): void {
    for (const wake of [...this.wakers]) wake()
  }

  /** Resolves on the next change (a slot freed, a reload, a stop) or after `ms`. */
  private changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(t)
        this.wakers.delete(wake)
        resolve()
      }
      const t = setTimeout(wake, ms)
      this.wakers.add(wake)
    })
  }

  /** One request worker: asks for a job whenever there is room, until stopped, retired or no longer wanted. */
  private async work(p: Poller, slot: number): Promise<void> {
    while (this.wantMore() && !p.retired && slot < p.settings.requestConcurrency) {
      const unhealthy = p.health.unhealthyRequests >= p.settings.unhealthyRequestsLimit
      const wait = p.health.waitMs()
      if (wait > 0) {
        await this.changed(wait)
        continue
      }
      if (unhealthy) this.o.log({ level: 'warn', runner: p.settings.name, msg: `runner is not healthy, but a job request is let through after ${goDuration(p.settings.unhealthyIntervalMs)}` })
      if (!this.mayRequest(p)) {
        await this.changed(1000)
        continue
      }
      const r = p.settings
      this.reserved++
      p.requests++
      const asked = Date.now()
      let answer: JobRequestAnswer | { kind: 'unreachable'; error: Error }
      try {
        answer = await p.api.requestJob(r.token ?? '', systemIdOf(), p.info, p.lastUpdate)
      } catch (e) {
        answer = { kind: 'unreachable', error: e as Error }
      } finally {
        this.reserved--
        p.requests--
      }
      if (answer.kind === 'job') {
        this.startJob(p, answer.job)
        continue
      }
      this.notify()
      const wait2 = this.afterNoJob(p, answer, Date.now() - asked)
      // Give the other runners' workers, just woken, the first go at the freed slot.
      await new Promise((res) => setImmediate(res))
      if (wait2 > 0) await this.changedOrStop(wait2)
    }
  }

  /** Health, logs and how long to wait after an answer that brought no job. */
  private afterNoJob(p: Poller, answer: Exclude<JobRequestAnswer, { kind: 'job' }> | { kind: 'unreachable'; error: Error }, tookMs: number): number {
    const r = p.settings
    // gitlab-runner: check_interval 0 (what register writes) means its default, 3 s.
    const checkMs = (this.config.checkInterval > 0 ? this.config.checkInterval : 3) * 1000
    const backoff = (): number => Math.min(60_000, 1000 * 2 ** Math.min(++p.errors, 6))
    const unhealthy = (fields: Record<string, unknown>): void => {
      const disabled = p.health.mark(false)
      this.o.log({ level: 'error', runner: r.name, ...fields, unhealthy_requests: p.health.unhealthyRequests, unhealthy_requests_limit: r.unhealthyRequestsLimit })
      if (disabled) this.o.log({ level: 'error', runner: r.name, msg: `runner is unhealthy and will be disabled for ${goDuration(r.unhealthyIntervalMs)}: no job requests until then (or until config.toml changes)`, unhealthy_requests: p.health.unhealthyRequests, unhealthy_requests_limit: r.unhealthyRequestsLimit, unhealthy_interval: goDuration(r.unhealthyIntervalMs) })
    }
    switch (answer.kind) {
      case 'none':
        p.health.mark(true)
        p.errors = 0
        if (answer.lastUpdate) p.lastUpdate = answer.lastUpdate
        // A long poll that came back at once (no Workhorse polling): wait check_interval.
        return tookMs < 1000 ? checkMs : 0
      case 'conflict':
        p.health.mark(true)
        return 0 // routine on a busy GitLab: ask again at once
      case 'forbidden':
        unhealthy({ msg: 'GitLab refused the runner token (403): the runner was deleted in GitLab or its token was reset', hint: 'Register the runner again (glrun register --url … --token glrt-…) and drop the old entry (glrun verify --delete); glrun doctor checks every token.' })
        return checkMs
      case 'unreachable':
        unhealthy({ msg: 'job request failed', error: answer.error.message })
        return backoff()
      case 'error': {
        // 5xx, 429, 413: GitLab is there (gitlab-runner counts these as healthy), but slow down.
        p.health.mark(true)
        const wait = answer.retryAfterS ? answer.retryAfterS * 1000 : backoff()
        this.o.log({ level: 'error', runner: r.name, msg: `job request answered ${answer.status}`, retry_in_ms: wait })
        return wait
      }
    }
  }

  /** A wait that ends early only when the runner stops (not on every freed slot). */
  private changedOrStop(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t)
        this.stop.removeEventListener('abort', done)
        resolve()
      }
      const t = setTimeout(done, ms)
      this.stop.addEventListener('abort', done, { once: true })
    })
  }

  private startJob(p: Poller, job: Parameters<typeof runGitLabJob>[4]): void {
    // Even when stopping: GitLab has assigned the job to this runner, so it runs.
    const r = p.settings
    const { api, executor } = p
    p.health.mark(true)
    p.errors = 0
    this.taken++
    this.running++
    p.jobs++
    const m = this.o.metrics
    m?.running.inc({ runner: r.name, executor: executor.name })
    const ctx = { stateDir: this.o.stateDir, cancel: this.o.cancel, log: this.o.log, configText: this.configText, ...(m ? { metrics: m } : {}) }
    const done: Promise<void> = runGitLabJob(ctx, r, api, executor, job).catch((e: unknown) => {
      this.o.log({ level: 'error', runner: r.name, job: job.id, msg: 'job ended with a glrun error', error: (e as Error).message })
    }).finally(() => {
      m?.running.dec({ runner: r.name, executor: executor.name })
      this.running--
      p.jobs--
      this.jobs.delete(done)
      this.notify()
    })
    this.jobs.add(done)
    this.notify()
  }
}

/** Serves the runners until stopped or `maxBuilds` jobs were taken (no config reload). */
export async function runRunners(o: RunnerLoopOptions): Promise<void> {
  await new RunnerPool(o).run()
}
