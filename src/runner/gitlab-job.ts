import { mkdirSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import type { Executor } from '../executors/types.js'
import { LocalCacheStore } from '../job/artifacts/stores.js'
import { executeJob } from '../job/execute-job.js'
import { maskedValues } from '../job/job-variables.js'
import type { JobOutcome } from '../job/outcome.js'
import { runnerJobSettings } from '../job/runner-job-settings.js'
import type { JobPayload } from '../payload/types.js'
import type { RunnerSettings } from '../runner-config/types.js'
import { sectionEnd, sectionStart } from '../trace/ansi.js'
import { Masker } from '../trace/masker.js'
import type { RunnerApi } from './api.js'
import { GitLabArtifactStore } from './gitlab-artifacts.js'
import { GitLabTrace, type RemoteStatus } from './gitlab-trace.js'
import type { RunnerMetrics } from './metrics.js'
import { shortToken } from '../runner-config/short-token.js'

export type OperatorLog = (event: Record<string, unknown>) => void

/** What one job taken from GitLab needs from the runner around it. */
export interface JobContext {
  /** Where glrun keeps job directories, traces and scratch files. */
  stateDir: string
  /** Aborted: cancel the job (after_script still runs). */
  cancel: AbortSignal
  log: OperatorLog
  metrics?: RunnerMetrics
  /** config.toml as loaded when the job was received (the diagnosis reads it). */
  configText: string
}

/**
 * One job GitLab assigned: run through the same per-job path as a local run, its trace streamed
 * to GitLab, its end reported with the final PUT. Never throws: a glrun failure is reported to
 * GitLab as runner_system_failure.
 */
export async function runGitLabJob(o: JobContext, r: RunnerSettings, api: RunnerApi, executor: Executor, job: JobPayload): Promise<void> {
  const started = Date.now()
  const dir = join(o.stateDir, 'jobs', String(job.id))
  mkdirSync(dir, { recursive: true })
  const controller = new AbortController()
  // GitLab's abort (403, Job-Status canceled|failed, 404): nothing more runs, not even after_script.
  const abort = new AbortController()
  const onCancel = (): void => controller.abort()
  o.cancel.addEventListener('abort', onCancel, { once: true })
  let remote: RemoteStatus | undefined
  const trace = new GitLabTrace(api, job.id, job.token, join(dir, 'trace.log'), (s) => {
    // A graceful cancel may be followed by an abort (a maintainer's force cancel): the later wins.
    if (remote === undefined || (remote === 'canceling' && s !== 'canceling')) remote = s
    if (s === 'canceling') {
      if (!controller.signal.aborted) o.log({ level: 'info', runner: r.name, job: job.id, msg: 'GitLab says the job is canceling' })
      controller.abort()
    } else if (!abort.signal.aborted) {
      o.log({ level: 'warn', runner: r.name, job: job.id, remote: s, msg: `GitLab ended the job (${s === 'gone' ? '404' : `403, the job is ${s}`}): it is aborted, no final update is sent` })
      abort.abort()
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
      tmpDir: join(dir, 'tmp'), stateDir: join(o.stateDir, 'state'), signal: controller.signal, abort: abort.signal,
      sinks: [trace], sinkWritesTracePath: true, outputLimit: r.outputLimitKb * 1024, runner: settings,
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
  // 403/404 on the job's calls: GitLab has ended the job (canceled, failed server-side, its token
  // expired): gitlab-runner aborts and sends no final state, which GitLab would refuse anyway.
  const abandoned = remote === 'canceled' || remote === 'failed' || remote === 'gone'
  const status = abandoned ? trace.abandon() : await trace.finish(final)
  o.metrics?.jobs.inc({ runner: r.name, state: remote === 'canceled' || remote === 'canceling' ? 'canceled' : outcome.status })
  if (outcome.status === 'failed') o.metrics?.failed.inc({ runner: r.name, failure_reason: outcome.reason })
  o.metrics?.jobSeconds.observe({ runner: r.name }, (Date.now() - started) / 1000)
  o.log({ level: 'info', runner: r.name, job: job.id, state: outcome.status, remote: remote ?? null, final_put: status, duration_ms: Date.now() - started, msg: 'job finished' })
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
