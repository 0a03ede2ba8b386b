import { AFTERMATH, isTrailer } from './trace-line.js'

/**
 * Which runner stage a job log had reached, followed line by line: by section markers and by the
 * runner's stage titles (for pasted logs without markers). The failed stage is the last one reached
 * before the trailer, skipping the aftermath (after_script, the failed job's upload and clean-up).
 */

/** The fields of a read line this needs: its text and its stage by markers and by titles. */
export interface StageRow {
  text: string
  marked: string | undefined
  inferred: string | undefined
}

/** The last stage reached (skipping the aftermath) up to some line, per way of finding stages. */
export interface Reached { marked?: string; markedAny?: string; inferred?: string; inferredAny?: string; inferredBefore?: string; inferredSeen?: string }

const UPLOAD_OK = /^\s*(?:\d+\s+)?Uploading artifacts (?:as "[^"]+" )?to coordinator\.\.\. (?:ok|201 Created)/
const UPLOAD_ERROR = /^\s*(?:\d+\s+)?(?:ERROR|FATAL): (?!Job failed)/

/** A line's stage in a log without stage markers: the inferred one, else its user section. */
export function inferredSection(r: StageRow): string | undefined {
  return r.inferred !== undefined && !isTrailer(r.text) ? r.inferred : r.marked
}

/** Moves `r` on with one more line. */
export function reachRow(r: Reached, row: StageRow): void {
  if (row.marked) {
    r.markedAny = row.marked
    if (!AFTERMATH.has(row.marked)) r.marked = row.marked
  }
  const inferred = inferredSection(row)
  if (inferred) {
    r.inferredAny = inferred
    if (!AFTERMATH.has(inferred) && inferred !== r.inferredSeen) {
      r.inferredBefore = r.inferred
      r.inferred = inferred
      r.inferredSeen = inferred
    }
  }
  // A log without markers: an upload the coordinator accepted is not where the job failed (a job-page copy
  // titles even the failed job's upload "Uploading artifacts..."), unless the uploader then reports an error.
  if (!row.marked && r.inferred === 'upload_artifacts_on_success' && r.inferredBefore !== undefined) {
    if (UPLOAD_OK.test(row.text)) r.inferred = r.inferredBefore
  } else if (!row.marked && inferred === 'upload_artifacts_on_success' && r.inferred !== inferred && UPLOAD_ERROR.test(row.text)) {
    r.inferred = inferred
  }
}
