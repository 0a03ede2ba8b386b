import type { JobOutcome, JobResult } from '../job/outcome.js'
import type { PlannedJob } from '../pipeline/plan/types.js'

export type RunJob = (job: PlannedJob, attempt: number, signal: AbortSignal) => Promise<JobOutcome>

export type SchedulerEvent =
  | { type: 'job-started'; job: string; attempt: number }
  | { type: 'job-retrying'; job: string; attempt: number }
  | { type: 'job-finished'; job: string; result: JobResult }
  | { type: 'job-skipped'; job: string; result: JobResult; why: string }

export interface SchedulerOptions {
  concurrency: number
  signal: AbortSignal
  onEvent?: (e: SchedulerEvent) => void
  /** Run only these jobs (`glrun run JOB...`); with `withNeeds`, also what they need. */
  select?: readonly string[]
  withNeeds?: boolean
  /** Run manual jobs too (all, or the named ones); otherwise they are skipped. */
  manual?: boolean | readonly string[]
}

export interface PipelineOutcome {
  status: 'success' | 'failed' | 'canceled'
  /** Some job failed but was allowed to ("passed with warnings"). */
  warnings: boolean
  results: JobResult[]
}

type State = 'waiting' | 'running' | 'done'

/**
 * Runs a compiled pipeline as a DAG: a job without `needs` waits for every job of the earlier
 * stages, a job with `needs` only for those (`needs: []`: at once); at most `concurrency` jobs at
 * a time; `when` decides whether a job runs once its prerequisites ended (on_success, on_failure,
 * always; manual and delayed are skipped in a local run unless asked for); `allow_failure`
 * (also by exit code) keeps a failure from failing the pipeline; `retry` reruns matching failures;
 * `resource_group` runs one job of a group at a time.
 */
export function runPipeline(all: readonly PlannedJob[], runJob: RunJob, opts: SchedulerOptions): Promise<PipelineOutcome> {
  const jobs = selectJobs(all, opts)
  const selected = new Set(jobs.map((j) => j.name))
  const state = new Map<string, State>(jobs.map((j) => [j.name, 'waiting']))
  const results = new Map<string, JobResult>()
  const busyGroups = new Set<string>()
  const byName = new Map(jobs.map((j) => [j.name, j]))
  let running = 0

  const prereqs = (j: PlannedJob): string[] => {
    if (j.needs !== null) return j.needs.map((n) => n.job).filter((n) => selected.has(n))
    return jobs.filter((o) => o.stageIndex < j.stageIndex).map((o) => o.name)
  }
  const deps = new Map(jobs.map((j) => [j.name, prereqs(j)]))
  const failedHard = (name: string): boolean => {
    const r = results.get(name)
    return r?.outcome.status === 'failed' && !r.outcome.allowedToFail
  }
  const manualOk = (j: PlannedJob): boolean => opts.manual === true || (Array.isArray(opts.manual) && opts.manual.includes(j.name)) || (opts.select?.includes(j.name) ?? false)

  return new Promise((resolve) => {
    const finishIfDone = (): void => {
      if ([...state.values()].some((s) => s !== 'done')) return
      const list = jobs.map((j) => results.get(j.name)!)
      const failed = list.some((r) => r.outcome.status === 'failed' && !r.outcome.allowedToFail)
      const canceled = opts.signal.aborted || list.some((r) => r.outcome.status === 'canceled')
      resolve({
        status: canceled ? 'canceled' : failed ? 'failed' : 'success',
        warnings: list.some((r) => r.outcome.status === 'failed' && r.outcome.allowedToFail),
        results: list,
      })
    }
    const skip = (j: PlannedJob, because: Extract<JobOutcome, { status: 'skipped' }>['because'], why: string): void => {
      const result: JobResult = { name: j.name, outcome: { status: 'skipped', because }, attempts: 0 }
      results.set(j.name, result)
      state.set(j.name, 'done')
      opts.onEvent?.({ type: 'job-skipped', job: j.name, result, why })
    }
    const pump = (): void => {
      // Skipping a job can make another ready in the same pass: repeat until nothing changes.
      let changed = true
      while (changed) {
        changed = false
        const before = results.size + running
        passOnce()
        if (results.size + running !== before) changed = true
      }
      finishIfDone()
    }
    const passOnce = (): void => {
      for (const j of jobs) {
        if (state.get(j.name) !== 'waiting') continue
        const pre = deps.get(j.name)!
        if (pre.some((p) => state.get(p) !== 'done')) continue
        if (opts.signal.aborted) {
          skip(j, 'canceled', 'the pipeline was canceled')
          continue
        }
        const anyFailed = pre.some(failedHard)
        // A job whose needs did not run cannot run either; a blocking manual job holds back the
        // stages after it, as in GitLab.
        const needed = new Set(j.needs?.map((n) => n.job) ?? [])
        const notRun = pre.filter((p) => {
          const r = results.get(p)
          if (r?.outcome.status !== 'skipped') return false
          if (needed.has(p)) return !(r.outcome.because === 'when')
          return r.outcome.because === 'manual' && byName.get(p)?.allowFailure === false
        })
        if (notRun.length > 0 && j.when !== 'always') {
          skip(j, 'needs-failed', `${notRun.map((n) => `"${n}"`).join(', ')} did not run`)
          continue
        }
        if (j.when === 'on_success' && anyFailed) { skip(j, 'needs-failed', 'a job it depends on failed'); continue }
        if (j.when === 'on_failure' && !anyFailed) { skip(j, 'when', 'when: on_failure and nothing failed'); continue }
        if (j.when === 'manual' && !manualOk(j)) { skip(j, 'manual', 'manual job (run it with --manual or by naming it)'); continue }
        if (j.when === 'delayed') { skip(j, 'delayed', `delayed job (start_in: ${j.startIn ?? '?'}); local runs do not wait`); continue }
        if (running >= opts.concurrency) break
        if (j.resourceGroup && busyGroups.has(j.resourceGroup)) continue
        start(j)
      }
    }
    const start = (j: PlannedJob): void => {
      state.set(j.name, 'running')
      running++
      if (j.resourceGroup) busyGroups.add(j.resourceGroup)
      void attempt(j, 1).then((result) => {
        running--
        if (j.resourceGroup) busyGroups.delete(j.resourceGroup)
        results.set(j.name, result)
        state.set(j.name, 'done')
        opts.onEvent?.({ type: 'job-finished', job: j.name, result })
        pump()
      })
    }
    const attempt = async (j: PlannedJob, n: number): Promise<JobResult> => {
      opts.onEvent?.({ type: 'job-started', job: j.name, attempt: n })
      let outcome: JobOutcome
      try {
        outcome = await runJob(j, n, opts.signal)
      } catch (e) {
        outcome = { status: 'failed', reason: 'runner_system_failure', allowedToFail: false, message: e instanceof Error ? e.message : String(e), durationMs: 0 }
      }
      if (outcome.status === 'failed') {
        if (n <= j.retry.max && retryMatches(j, outcome) && !opts.signal.aborted) {
          opts.onEvent?.({ type: 'job-retrying', job: j.name, attempt: n + 1 })
          return attempt(j, n + 1)
        }
        outcome = { ...outcome, allowedToFail: allowed(j, outcome.exitCode) }
      }
      return { name: j.name, outcome, attempts: n }
    }
    pump()
  })
}

function allowed(j: PlannedJob, exitCode: number | undefined): boolean {
  const a = j.allowFailure
  if (typeof a === 'boolean') return a
  return exitCode !== undefined && a.exitCodes.includes(exitCode)
}

function retryMatches(j: PlannedJob, o: Extract<JobOutcome, { status: 'failed' }>): boolean {
  const when = j.retry.when.length === 0 ? ['always'] : j.retry.when
  const reasonOk = when.includes('always') || when.includes(o.reason) || (o.reason === 'job_execution_timeout' && when.includes('stuck_or_timeout_failure'))
  const codeOk = j.retry.exitCodes.length === 0 || (o.exitCode !== undefined && j.retry.exitCodes.includes(o.exitCode))
  return reasonOk && codeOk
}

/** The selected jobs, plus (with withNeeds) everything they need, transitively. */
function selectJobs(all: readonly PlannedJob[], opts: SchedulerOptions): PlannedJob[] {
  if (!opts.select || opts.select.length === 0) return [...all]
  const byName = new Map(all.map((j) => [j.name, j]))
  const keep = new Set(opts.select)
  if (opts.withNeeds) {
    const queue = [...keep]
    while (queue.length > 0) {
      const j = byName.get(queue.pop()!)
      const pre = j?.needs !== null ? (j?.needs ?? []).map((n) => n.job) : all.filter((o) => o.stageIndex < j.stageIndex).map((o) => o.name)
      for (const p of pre) if (!keep.has(p)) { keep.add(p); queue.push(p) }
    }
  }
  return all.filter((j) => keep.has(j.name))
}
