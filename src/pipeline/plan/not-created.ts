import type { ExcludedJob, PlannedJob } from './types.js'

/**
 * GitLab's own words when it refuses to create a pipeline (Ci::HasCompletionReason, the
 * documentation links reduced to their text). Older GitLab versions said "Pipeline filtered out
 * by workflow rules." and "Pipeline will not run for the selected trigger. The rules
 * configuration prevented any jobs from being added to the pipeline." for the same two cases.
 */
export const GITLAB_WORKFLOW_FAILURE = 'The pipeline did not run. Review the workflow:rules configuration for the pipeline.'
export const GITLAB_RULES_FAILURE = 'The resulting pipeline would have been empty. Review the rules configuration for the relevant jobs.'

/** Jobs in these stages alone do not make a pipeline (GitLab's Chain::Populate, gitlab#198518). */
const EDGE_STAGES = new Set(['.pre', '.post'])

/**
 * Why GitLab would create no pipeline although workflow:rules let it: no job left, or only
 * `.pre`/`.post` jobs. Undefined when the pipeline is created.
 */
export function emptyPipelineReason(jobs: readonly PlannedJob[], excluded: readonly ExcludedJob[]): string | undefined {
  if (jobs.some((j) => !EDGE_STAGES.has(j.stage))) return undefined
  if (jobs.length > 0) {
    return `only .pre/.post jobs are left (${jobs.map((j) => j.name).join(', ')}), and GitLab creates no pipeline of those alone`
  }
  const out = excluded.filter((e) => !e.hidden)
  if (out.length === 1) return `no job is left: its only job, ${out[0]!.name}, is left out (${out[0]!.reason})`
  return `no job is left: the rules (or only/except) of all ${out.length} jobs left them out`
}

/** The jobs of a pipeline that is not created, as left-out jobs saying so. */
export function notCreatedJobs(jobs: readonly PlannedJob[]): ExcludedJob[] {
  return jobs.map((j) => ({ name: j.name, stage: j.stage, hidden: false, span: j.span, reason: 'the pipeline is not created: only .pre/.post jobs would run' }))
}
