import { mkdirSync, readFileSync } from 'node:fs'
import { arch, hostname } from 'node:os'
import { join } from 'node:path'
import type { Executor } from '../executors/types.js'
import { LocalCacheStore } from '../job/artifacts/stores.js'
import { executeJob } from '../job/execute-job.js'
import { GLRUN_VERSION, maskedValues } from '../job/job-variables.js'
import type { JobOutcome } from '../job/outcome.js'
import { runnerJobSettings } from '../job/runner-job-settings.js'
import type { JobPayload } from '../payload/types.js'
import type { RunnerConfigFile, RunnerSettings } from '../runner-config/types.js'
import { sectionEnd, sectionStart } from '../trace/ansi.js'
import { Masker } from '../trace/masker.js'
import { RunnerApi, type RunnerInfo } from './api.js'
import { GitLabArtifactStore } from './gitlab-artifacts.js'
import { GitLabTrace, type RemoteStatus } from './gitlab-trace.js'
import type { RunnerMetrics } from './metrics.js'

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

export type OperatorLog = (event: Record<string, unknown>) => void

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

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms)
    function done(): void {
      clearTimeout(t)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}

/** gitlab-runner's `run`: every runner polls GitLab, within `concurrent` jobs in all and each runner's `limit`. */
export async function runRunners(o: RunnerLoopOptions): Promise<void> {
  let running = 0
  let taken = 0
  const waiters: (() => void)[] = []
  const stop = AbortSignal.any([o.cancel, o.drain])
  // The jobs under way (a set, not a list: a runner that runs for months must not keep one per job).
  const jobs = new Set<Promise<void>>()
  const slotFree = (): Promise<void> => new Promise((r) => waiters.push(r))
  const wantMore = (): boolean => !stop.aborted && (o.maxBuilds === undefined || taken < o.maxBuilds)

  await Promise.all(o.runners.map(async (r) => {
    const m = o.metrics
    const api = new RunnerApi({ url: r.url ?? '', ...(r.tlsCaFile ? { caPem: readFileSync(r.tlsCaFile, 'utf8') } : {}) }, m ? (endpoint, status, s) => {
      m.requests.inc({ runner: r.name, endpoint, status })
      m.requestSeconds.observe({ endpoint }, s)
    } : undefined)
    // gitlab-runner: check_interval 0 (what register writes) means its default, 3 s.
    const checkMs = (o.config.checkInterval > 0 ? o.config.checkInterval : 3) * 1000
    const executor = o.executorFor(r)
    const info: RunnerInfo = { name: r.name, version: GLRUN_VERSION, revision: 'glrun', platform: 'linux', architecture: arch() === 'x64' ? 'amd64' : arch(), executor: executor.name, shell: 'bash', features: FEATURES }
    const systemId = systemIdOf()
    let lastUpdate: string | undefined
    let mine = 0
    let failures = 0
    while (wantMore()) {
      if (running >= o.config.concurrent || (r.limit > 0 && mine >= r.limit)) {
        await Promise.race([slotFree(), sleep(1000, stop)])
        continue
      }
      const asked = Date.now()
      let answer
      try {
        answer = await api.requestJob(r.token ?? '', systemId, info, lastUpdate)
      } catch (e) {
        failures++
        o.log({ level: 'warn', runner: r.name, msg: 'job request failed', error: (e as Error).message })
        await sleep(Math.min(60_000, 1000 * 2 ** Math.min(failures, 6)), stop)
        continue
      }
      if (answer.kind === 'job') {
        // Even when stopping: GitLab has assigned the job to this runner, so it runs.
        failures = 0
        taken++
        running++
        mine++
        const job = answer.job
        m?.running.inc({ runner: r.name, executor: executor.name })
        const done: Promise<void> = runOne(o, r, api, executor, job).catch((e: unknown) => {
          o.log({ level: 'error', runner: r.name, job: job.id, msg: 'job ended with a glrun error', error: (e as Error).message })
        }).finally(() => {
          m?.running.dec({ runner: r.name, executor: executor.name })
          running--
          mine--
          jobs.delete(done)
          waiters.splice(0).forEach((w) => w())
        })
        jobs.add(done)
        continue
      }
      if (answer.kind === 'none') {
        failures = 0
        if (answer.lastUpdate) lastUpdate = answer.lastUpdate
        // A long poll that came back at once (no Workhorse polling): wait check_interval.
        if (Date.now() - asked < 1000) await sleep(checkMs, stop)
        continue
      }
      if (answer.kind === 'conflict') continue // routine on a busy GitLab: ask again at once
      failures++
      const wait = answer.kind === 'error' && answer.retryAfterS ? answer.retryAfterS * 1000 : Math.min(60_000, 1000 * 2 ** Math.min(failures, 6))
      o.log({ level: 'error', runner: r.name, msg: answer.kind === 'forbidden' ? 'GitLab refused the runner token (403): the runner was deleted or its token reset' : `job request answered ${answer.status}`, retry_in_ms: wait })
      await sleep(wait, stop)
    }
  }))
  await Promise.all([...jobs])
}

async function runOne(o: RunnerLoopOptions, r: RunnerSettings, api: RunnerApi, executor: Executor, job: JobPayload): Promise<void> {
  const started = Date.now()
  const dir = join(o.stateDir, 'jobs', String(job.id))
  mkdirSync(dir, { recursive: true })
  const controller = new AbortController()
  const onCancel = (): void => controller.abort()
  o.cancel.addEventListener('abort', onCancel, { once: true })
  let remote: RemoteStatus | undefined
  const trace = new GitLabTrace(api, job.id, job.token, join(dir, 'gitlab-trace.log'), (s) => {
    remote ??= s
    if (!controller.signal.aborted) {
      o.log({ level: 'info', runner: r.name, job: job.id, msg: `GitLab says the job is ${s}` })
      controller.abort()
    }
  })
  o.log({ level: 'info', runner: r.name, job: job.id, project: job.job_info.project_full_path, name: job.job_info.name, msg: 'job received' })
  let outcome: JobOutcome
  try {
    const settings = runnerJobSettings(r)
    const res = await executeJob({
      job, executor, tracePath: join(dir, 'trace.log'), buildsDir: join(o.stateDir, 'builds'),
      artifacts: new GitLabArtifactStore(api, join(dir, 'tmp')),
      cache: new LocalCacheStore(r.cacheDir ?? join(o.stateDir, 'cache')),
      tmpDir: join(dir, 'tmp'), stateDir: join(o.stateDir, 'state'), signal: controller.signal,
      sinks: [trace], outputLimit: r.outputLimitKb * 1024, runner: settings,
      identity: { name: r.name, shortToken: shortToken(r.token ?? ''), systemId: systemIdOf() },
      // The checks trust what the job trusted: the runner's tls-ca-file.
      diagnose: { configText: o.configText, color: false, ...(settings.caPem ? { caPem: settings.caPem } : {}) },
    })
    outcome = res.outcome
    // The troubleshooter's report goes into the log GitLab shows, collapsed, masked like the rest.
    if (res.diagnosis) trace.write(diagnosisSection(res.diagnosis.text, job))
  } catch (e) {
    // glrun itself failed outside the job's stages: GitLab must still hear how the job ended.
    o.log({ level: 'error', runner: r.name, job: job.id, msg: 'job could not be run', error: (e as Error).message })
    outcome = { status: 'failed', reason: 'runner_system_failure', allowedToFail: false, message: (e as Error).message, durationMs: Date.now() - started }
  } finally {
    o.cancel.removeEventListener('abort', onCancel)
  }
  const final = outcome.status === 'success'
    ? { state: 'success' as const }
    : { state: 'failed' as const, failure_reason: outcome.status === 'failed' ? outcome.reason : 'unknown_failure', ...(outcome.status === 'failed' && outcome.exitCode !== undefined ? { exit_code: outcome.exitCode } : {}) }
  const status = remote === 'canceled' || remote === 'gone' ? 403 : await trace.finish(final)
  o.metrics?.jobs.inc({ runner: r.name, state: remote === 'canceled' || remote === 'canceling' ? 'canceled' : outcome.status })
  if (outcome.status === 'failed') o.metrics?.failed.inc({ runner: r.name, failure_reason: outcome.reason })
  o.metrics?.jobSeconds.observe({ runner: r.name }, (Date.now() - started) / 1000)
  o.log({ level: 'info', runner: r.name, job: job.id, state: outcome.status, remote: remote ?? null, final_put: status, duration_ms: Date.now() - started, msg: 'job finished' })
}

/** gitlab-runner's short token: the first 8 characters after a `glrt-` prefix. */
function shortToken(token: string): string {
  return token.replace(/^glrt-(?:t\d_)?/, '').slice(0, 8)
}

export function systemIdOf(): string {
  return `s_glrun${hostname().replace(/[^a-z0-9]/gi, '').slice(0, 12)}`
}

function diagnosisSection(text: string, job: JobPayload): Buffer {
  const now = Math.floor(Date.now() / 1000)
  const masker = new Masker(maskedValues(job), job.features.token_mask_prefixes)
  const body = `${sectionStart(now, 'glrun_diagnosis', 'collapsed=true')}\x1b[0K\x1b[36;1mglrun: why this job failed\x1b[0;m\n${text.endsWith('\n') ? text : `${text}\n`}${sectionEnd(now, 'glrun_diagnosis')}\n`
  return Buffer.concat([masker.write(body), masker.flush()])
}
