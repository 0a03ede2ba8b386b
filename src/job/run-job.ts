import { hostname } from 'node:os'
import type { ExecutorSession, Executor, ExitStatus } from '../executors/types.js'
import type { JobPayload } from '../payload/types.js'
import type { TraceWriter } from '../trace/trace-writer.js'
import { GLRUN_VERSION, jobVariables } from './job-variables.js'
import { lastWins } from '../pipeline/variables/expand.js'
import type { JobOutcome } from './outcome.js'
import { GlrunError } from '../diagnostics/errors.js'
import { ExecutorFailure } from '../executors/failure.js'
import { formatGoDuration, parseGoDuration } from './go-duration.js'
import { bashScript } from './script/bash.js'
import { readSourceSettings } from './sources/settings.js'
import { gitSourcesScript } from './sources/git-script.js'
import type { ArtifactStore, CacheStore } from './artifacts/stores.js'
import { type TransferContext, archiveCaches, downloadArtifacts, restoreCaches, uploadArtifacts } from './artifacts/transfer.js'
import { trackedInJob } from './artifacts/tracked-in-job.js'

export interface RunJobInput {
  job: JobPayload
  executor: Executor
  trace: TraceWriter
  buildsDir: string
  /** Where the pipeline's working-tree snapshot is (GIT_STRATEGY unset in local runs). */
  workspaceSnapshot?: string
  /** The local repository to clone from for GIT_STRATEGY clone/fetch. */
  localRepo?: string
  /** Where artifacts go and come from (the local coordinator, or GitLab). */
  artifacts: ArtifactStore
  cache: CacheStore
  /** A directory of glrun's own for archives on their way (not inside any job's directory). */
  tmpDir: string
  /** The files git tracks at the job's commit, for `untracked:` (read from the runner's repository). */
  tracked?: () => Promise<Set<string>>
  /** Where the executor notes what must not outlive glrun (see OpenContext.stateDir). */
  stateDir?: string
  /** Runner mode: the runner's name, its token's first characters and its system ID, for the log. */
  identity?: { name: string; shortToken: string; systemId: string }
  /** Cancel: the running stage is stopped, after_script, caches and artifacts on failure still run. */
  signal: AbortSignal
  /**
   * Abort (GitLab answered 403 or `Job-Status: canceled|failed`): the running stage is stopped and
   * nothing else runs, no after_script, no caches, no artifacts, as gitlab-runner aborts a job.
   */
  abort?: AbortSignal
  now?: () => number
  /** What config.toml's [[runners]] adds to every job (hooks, environment, tls-ca-file). */
  runner?: RunnerJobSettings
}

export interface RunnerJobSettings {
  preGetSourcesScript?: string
  postGetSourcesScript?: string
  preBuildScript?: string
  postBuildScript?: string
  environment?: readonly string[]
  /** The contents of tls-ca-file: CI_SERVER_TLS_CA_FILE in the job, trusted by git's clone. */
  caPem?: string
}

/** after_script has its own timeout (gitlab-runner's RUNNER_AFTER_SCRIPT_TIMEOUT default: 5 min). */
const AFTER_SCRIPT_TIMEOUT_MS = 5 * 60 * 1000

export { formatGoDuration } from './go-duration.js'

/**
 * Runs one job through its GitLab build stages, writing GitLab's sections into the trace:
 * prepare_executor, prepare_script, get_sources, step_script, after_script (also after a failure
 * or cancel), cleanup_file_variables; then `Job succeeded` or `ERROR: Job failed: ...`.
 * A failed script is an outcome; only glrun's own failures throw.
 */
export async function runJob(i: RunJobInput): Promise<JobOutcome> {
  const started = Date.now()
  try {
    return await runStages(i, started)
  } catch (e) {
    // glrun itself failed (not the job's script): say so in the job's log, as a system failure.
    const message = e instanceof Error ? e.message : String(e)
    if (e instanceof GlrunError && e.hint) i.trace.warn(e.hint)
    // The stable code too: the job log is often all a user sends with a bug report.
    const reason = e instanceof ExecutorFailure ? e.failureReason : 'runner_system_failure'
    // gitlab-runner says "(system failure)" only for runner_system_failure: an image that cannot
    // be pulled or a configuration error is a plain "Job failed:".
    i.trace.jobFailed(e instanceof GlrunError ? `${message} (${e.code})` : message, reason === 'runner_system_failure')
    return { status: 'failed', reason, allowedToFail: false, message, durationMs: Date.now() - started }
  }
}

async function runStages(input: RunJobInput, started: number): Promise<JobOutcome> {
  const aborted = (): boolean => input.abort?.aborted === true
  // Every stage stops on either: from here on `i.signal` is "cancel or abort".
  const i: RunJobInput = input.abort ? { ...input, signal: AbortSignal.any([input.signal, input.abort]) } : input
  const { job, trace } = i
  const duration = (): number => Date.now() - started
  // This run's artifacts replace the last run's: a job that produces none now leaves none behind.
  await i.artifacts.reset(job)
  // gitlab-runner's first lines: who runs the job (a local run names this machine).
  const who = i.identity ?? { name: hostname(), shortToken: 'local', systemId: 'glrun-local' }
  trace.println(`Running with glrun ${GLRUN_VERSION}${i.identity ? '' : ' (local)'}`)
  trace.println(`  on ${who.name} ${who.shortToken}, system ID: ${who.systemId}`)
  let session: ExecutorSession | undefined
  // The job's timeout covers the whole job, as in GitLab: each stage gets what is left of it.
  const deadline = started + job.runner_info.timeout * 1000
  const left = (): number => Math.max(1, deadline - Date.now())
  try {
    session = await trace.section('prepare_executor', `Preparing the "${i.executor.name}" executor`, async () => {
      const s = await i.executor.open(job, { buildsDir: i.buildsDir, out: trace, signal: i.signal, ...(i.stateDir ? { stateDir: i.stateDir } : {}) })
      if (s.description) trace.println(s.description)
      if (job.image && i.executor.name === 'shell') {
        trace.warn(`image "${job.image.name}" is not used: the shell executor runs the job on this machine (run with --executor docker to use the image)`)
      }
      return s
    })
    const s = session
    const r = i.runner ?? {}
    const facts = {
      executor: i.executor.name, projectDir: s.projectDir, // Containers see the builds directory at GitLab's /builds, the shell executor where it is.
      buildsDir: i.executor.name === 'shell' ? i.buildsDir : s.projectDir.slice(0, s.projectDir.length - (job.job_info.project_full_path ?? job.job_info.project_name).length - 1),
      shared: i.executor.name === 'shell', timeoutSeconds: job.runner_info.timeout,
      ...(r.environment ? { environment: r.environment } : {}), ...(r.caPem ? { caPem: r.caPem } : {}),
    }
    const hooks = (name: string): string[] => (job.hooks ?? []).filter((h) => h.name === name).flatMap((h) => h.script)
    const preSources = [...(r.preGetSourcesScript ? [r.preGetSourcesScript] : []), ...hooks('pre_get_sources_script')]
    const postSources = [...hooks('post_get_sources_script'), ...(r.postGetSourcesScript ? [r.postGetSourcesScript] : [])]
    let vars = jobVariables(job, facts)
    // Rebuilt when dotenv variables arrive, so later stages expand paths with them too.
    let lookup = lastWins(vars)
    await trace.section('prepare_script', 'Preparing environment', async () => {
      trace.println(`Running on ${hostname()}...`)
    })

    let sourcesStatus: ExitStatus | undefined
    // Hook scripts around a working-tree copy run where the job runs, like the clone would.
    const hookScript = async (commands: string[]): Promise<boolean> => {
      const st = await s.run({ stage: 'get_sources', script: bashScript({ projectDir: s.projectDir, variables: vars, commands, echo: false, cdProject: false }), timeoutMs: left() }, trace, i.signal)
      sourcesStatus = st
      return st.kind === 'exited' && st.code === 0
    }
    const settings = readSourceSettings(lookup, job.git_info.depth, i.workspaceSnapshot !== undefined)
    for (const w of settings.warnings) trace.warn(w)
    const sourcesOk = await trace.section('get_sources', 'Getting source from Git repository', async () => {
      if (settings.strategy === 'workspace' && i.workspaceSnapshot) {
        trace.info(`Copying the working tree (uncommitted changes included) at ${job.git_info.sha.slice(0, 8)} (ref is ${job.git_info.ref})...`)
        if (preSources.length > 0 && !(await hookScript(preSources))) return false
        await s.files.putSnapshot(i.workspaceSnapshot)
        trace.info('Skipping Git submodules setup')
        return postSources.length === 0 || hookScript(postSources)
      }
      if (settings.strategy === 'none' || settings.strategy === 'empty') {
        trace.info(settings.strategy === 'empty' ? 'Skipping Git repository setup and creating an empty build directory' : 'Skipping Git repository setup')
        return true
      }
      const preamble = bashScript({ projectDir: s.projectDir, variables: vars, commands: [], echo: false, cdProject: false })
      const git = gitSourcesScript({ projectDir: s.projectDir, repoUrl: i.localRepo ?? job.git_info.repo_url, sha: job.git_info.sha, ref: job.git_info.ref, refType: job.git_info.ref_type, settings, caFile: r.caPem !== undefined, pre: preSources, post: postSources })
      sourcesStatus = await s.run({ stage: 'get_sources', script: preamble + git, timeoutMs: left() }, trace, i.signal)
      return sourcesStatus.kind === 'exited' && sourcesStatus.code === 0
    })
    if (!sourcesOk) {
      const st = sourcesStatus ?? { kind: 'exited', code: 1 }
      return finish(trace, outcome(st, job, duration(), i.executor.name), describe(st, i.executor.name))
    }
    if (aborted()) return finish(trace, { status: 'canceled', durationMs: duration() }, 'canceled')

    // `untracked:` needs the tracked files: the local repository's, else (runner mode) the job's
    // own clone's, listed where the job runs by the stage that archives.
    const transfer = (stage: string): TransferContext => ({
      trace, job, files: s.files, artifacts: i.artifacts, cache: i.cache, tmpDir: i.tmpDir, projectDir: s.projectDir, vars: lookup,
      tracked: i.tracked ?? (() => trackedInJob(s, stage, new AbortController().signal)),
    })
    if (job.cache && job.cache.length > 0) {
      await trace.section('restore_cache', 'Restoring cache', async () => restoreCaches(transfer('restore_cache')))
    }
    let dotenv: { key: string; value: string }[] = []
    if (i.artifacts.hasDownloads(job)) {
      dotenv = await trace.section('download_artifacts', 'Downloading artifacts', async () => downloadArtifacts(transfer('download_artifacts')))
      if (dotenv.length > 0) {
        vars = jobVariables(job, facts, 'running', dotenv)
        lookup = lastWins(vars)
      }
    }

    const script = job.steps.find((st) => st.name === 'script')
    const timeouts = scriptTimeouts(lookup, trace)
    // RUNNER_SCRIPT_TIMEOUT ends the script early enough for after_script (the job's own timeout does not).
    const scriptLimit = timeouts.script !== undefined && timeouts.script < left() ? timeouts.script : undefined
    const stepStatus = await trace.section('step_script', 'Executing "step_script" stage of the job script', () =>
      s.run({ stage: 'step_script', script: bashScript({ projectDir: s.projectDir, variables: vars, commands: script?.script ?? [], echo: true, ...(r.preBuildScript ? { prologue: [r.preBuildScript] } : {}), ...(r.postBuildScript ? { epilogue: [r.postBuildScript] } : {}) }), timeoutMs: scriptLimit ?? left() }, trace, i.signal))
    const scriptTimedOut = stepStatus.kind === 'timed-out' && scriptLimit !== undefined && Date.now() < deadline
    if (stepStatus.kind === 'timed-out') trace.warn(`step_script could not run to completion because the timeout was exceeded. For more control over job and script timeouts see: ${TIMEOUTS_DOC}`)

    if (aborted()) return finish(trace, { status: 'canceled', durationMs: duration() }, 'canceled')
    const after = job.steps.find((st) => st.name === 'after_script')
    if (after && after.script.length > 0 && (stepStatus.kind !== 'timed-out' || scriptTimedOut)) {
      const status = stepStatus.kind === 'exited' && stepStatus.code === 0 ? 'success' : stepStatus.kind === 'canceled' ? 'canceled' : 'failed'
      await trace.section('after_script', 'Running after_script', async () => {
        const afterVars = jobVariables(job, facts, status, dotenv)
        const st = await s.run({ stage: 'after_script', script: bashScript({ projectDir: s.projectDir, variables: afterVars, commands: after.script, echo: true, notices: ['Running after script...'] }), timeoutMs: Math.min(timeouts.after ?? AFTER_SCRIPT_TIMEOUT_MS, left()) }, trace, new AbortController().signal)
        if (st.kind === 'timed-out') trace.warn(`after_script could not run to completion because the timeout was exceeded. For more control over job and script timeouts see: ${TIMEOUTS_DOC}`)
        if (!(st.kind === 'exited' && st.code === 0)) trace.warn(`after_script failed, but job will continue unaffected: ${describe(st, i.executor.name)}`)
      })
    }
    const succeeded = stepStatus.kind === 'exited' && stepStatus.code === 0
    const when = (w: string): boolean => w === 'always' || (w === 'on_success') === succeeded
    if ((job.cache ?? []).some((c) => when(c.when))) {
      await trace.section(succeeded ? 'archive_cache' : 'archive_cache_on_failure', succeeded ? 'Saving cache for successful job' : 'Saving cache for failed job', async () => archiveCaches(transfer(succeeded ? 'archive_cache' : 'archive_cache_on_failure'), succeeded))
    }
    if ((job.artifacts ?? []).some((a) => when(a.when))) {
      await trace.section(succeeded ? 'upload_artifacts_on_success' : 'upload_artifacts_on_failure', succeeded ? 'Uploading artifacts for successful job' : 'Uploading artifacts for failed job', async () => uploadArtifacts(transfer(succeeded ? 'upload_artifacts_on_success' : 'upload_artifacts_on_failure'), succeeded))
    }
    await trace.section('cleanup_file_variables', 'Cleaning up project directory and file based variables', async () => undefined)
    const done = outcome(stepStatus, job, duration(), i.executor.name)
    return finish(trace, scriptTimedOut && done.status === 'failed' ? { ...done, message: `execution took longer than ${formatGoDuration(Math.round(scriptLimit! / 1000))} seconds` } : done, describe(stepStatus, i.executor.name))
  } finally {
    await session?.close()
  }
}

function outcome(st: ExitStatus, job: JobPayload, durationMs: number, executor: string): JobOutcome {
  if (st.kind === 'exited' && st.code === 0) return { status: 'success', durationMs }
  if (st.kind === 'canceled') return { status: 'canceled', durationMs }
  if (st.kind === 'timed-out') return { status: 'failed', reason: 'job_execution_timeout', allowedToFail: false, message: `execution took longer than ${formatGoDuration(job.runner_info.timeout)} seconds`, durationMs }
  return { status: 'failed', reason: 'script_failure', ...(st.kind === 'exited' ? { exitCode: st.code } : {}), allowedToFail: false, message: describe(st, executor), durationMs }
}

function finish(trace: TraceWriter, o: JobOutcome, reason: string, system = false): JobOutcome {
  if (o.status === 'success') trace.jobSucceeded()
  else if (o.status === 'canceled') trace.jobFailed('canceled')
  else if (o.status === 'failed') trace.jobFailed(o.reason === 'job_execution_timeout' ? o.message : reason, system)
  return o
}

/** How gitlab-runner words a non-zero exit (the shell executor: Go's "exit status N"). */
function describe(st: ExitStatus, executor: string): string {
  switch (st.kind) {
    case 'exited': return executor === 'shell' ? `exit status ${st.code}` : `exit code ${st.code}`
    case 'killed': return `signal: ${st.signal.toLowerCase().replace(/^sig/, '')}`
    case 'canceled': return 'canceled'
    case 'timed-out': return 'execution took longer than the timeout'
  }
}

const TIMEOUTS_DOC = 'https://docs.gitlab.com/ci/runners/configure_runners/#set-script-and-after_script-timeouts'

/**
 * RUNNER_SCRIPT_TIMEOUT and RUNNER_AFTER_SCRIPT_TIMEOUT (job variables, Go durations), as
 * gitlab-runner reads them: an invalid one is a warning and ignored.
 */
function scriptTimeouts(lookup: (key: string) => string | undefined, trace: TraceWriter): { script?: number; after?: number } {
  const read = (key: string): number | undefined => {
    const raw = lookup(key)
    if (raw === undefined || raw === '') return undefined
    const ms = parseGoDuration(raw)
    if (ms === undefined || ms <= 0) {
      trace.warn(`${key} "${raw}" is not a valid duration (e.g. 30m, 1h30m): ignored`)
      return undefined
    }
    return ms
  }
  const script = read('RUNNER_SCRIPT_TIMEOUT')
  const after = read('RUNNER_AFTER_SCRIPT_TIMEOUT')
  return { ...(script !== undefined ? { script } : {}), ...(after !== undefined ? { after } : {}) }
}
