import type { JobPayload } from '../payload/types.js'
import { Masker } from '../trace/masker.js'
import { FileSink } from '../trace/sinks/file-sink.js'
import { type TraceSink, TraceWriter } from '../trace/trace-writer.js'
import { diagnoseFailedJob } from './diagnosis.js'
import { maskedValues } from './job-variables.js'
import type { JobOutcome } from './outcome.js'
import { type RunJobInput, runJob } from './run-job.js'

export interface ExecuteJobInput extends Omit<RunJobInput, 'trace'> {
  /** The job's trace file (GitLab's bytes, masked): kept, and read by the troubleshooter. */
  tracePath: string
  /** Where else the trace goes (the console's lines, GitLab's trace API), all behind one masker. */
  sinks?: TraceSink[]
  /**
   * One of `sinks` already writes every byte to `tracePath` (runner mode's GitLab trace spool):
   * no second copy of the same bytes is written.
   */
  sinkWritesTracePath?: boolean
  /** gitlab-runner's output_limit in bytes (default 4 MiB). */
  outputLimit?: number
  /** What the troubleshooter may use when the job fails. */
  diagnose?: { ciYaml?: string; configText?: string; caPem?: string; color: boolean }
}

export interface ExecutedJob {
  outcome: JobOutcome
  /** The troubleshooter's report for a failed job, and where it was saved. */
  diagnosis?: { text: string; path: string }
}

/**
 * One job from payload to outcome, the same for local runs and runner mode: the trace writer
 * with one masker in front of every sink (the masked values are the payload's), the job's
 * stages, and the troubleshooter's report when it failed.
 */
export async function executeJob(i: ExecuteJobInput): Promise<ExecutedJob> {
  const payload: JobPayload = i.job
  const trace = new TraceWriter({
    masker: new Masker(maskedValues(payload), payload.features.token_mask_prefixes),
    sinks: [...(i.sinkWritesTracePath ? [] : [new FileSink(i.tracePath)]), ...(i.sinks ?? [])],
    sections: payload.features.trace_sections,
    ...(i.outputLimit ? { limit: i.outputLimit } : {}),
  })
  let outcome: JobOutcome
  try {
    outcome = await runJob({ ...i, trace })
  } finally {
    await trace.close()
  }
  if (outcome.status !== 'failed' || !i.diagnose) return { outcome }
  const d = i.diagnose
  const diagnosis = await diagnoseFailedJob({
    tracePath: i.tracePath, payload, executor: i.executor,
    ...(d.ciYaml !== undefined ? { ciYaml: d.ciYaml } : {}), ...(d.configText ? { configText: d.configText } : {}), ...(d.caPem ? { caPem: d.caPem } : {}),
  }, d.color)
  return { outcome, ...(diagnosis ? { diagnosis } : {}) }
}
