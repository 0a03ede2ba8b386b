/**
 * Turns a raw GitLab job log into clean, numbered lines with the runner stage each line belongs
 * to. Rules then match plain text and ask "in which phase did this happen?" without caring about
 * colours, carriage-return rewrites, FF_TIMESTAMPS prefixes or whether the log has section
 * markers at all (logs downloaded from the UI as "raw" keep them; copied ones often do not).
 * A log read from a stream is never held whole: see trace-reader.ts for what is kept.
 */
import { KEEP_ALL, type ReaderLimits, STREAM_LIMITS } from './reader-limits.js'
import { TraceReader } from './trace-reader.js'

export { isStage, stageIndex, stripAnsi } from './trace-line.js'

export interface TraceLine {
  /** 1-based line number in the original log (what the user sees in their editor). */
  n: number
  text: string
  /** Runner stage (prepare_executor, get_sources, step_script...) the line was printed in. */
  section?: string
}

export interface TraceSection {
  name: string
  startLine: number
  endLine?: number
}

export interface ParsedTrace {
  /**
   * The log's lines in order. Every line for a log of ordinary size; for a very long one, the
   * lines diagnosing can use (so `lines[i].n` is not always `i + 1`: look lines up with `lineAt`).
   */
  lines: TraceLine[]
  /**
   * How many lines the log has (more than `lines.length` when lines were left out). Always set
   * by the parsers; optional so a trace written by hand (tests) can omit it: then it is `lines.length`.
   */
  lineCount?: number
  sections: TraceSection[]
  failedPhase?: string
  exitCode?: number
  failed: boolean
  succeeded: boolean
}

/** The whole log at once, every line kept. */
export function parseTrace(raw: string): ParsedTrace {
  const reader = new TraceReader(KEEP_ALL)
  reader.push(raw)
  return reader.end()
}

/**
 * A log read as it streams (a file, stdin): decoded line by line as UTF-8 (a character split
 * between two chunks stays whole), and thinned as it goes so memory stays flat.
 */
export async function parseTraceStream(source: AsyncIterable<Buffer | string>, limits: ReaderLimits = STREAM_LIMITS): Promise<ParsedTrace> {
  const reader = new TraceReader(limits)
  for await (const chunk of source) {
    if (typeof chunk === 'string') reader.push(chunk)
    else reader.pushBytes(chunk)
  }
  return reader.end()
}

/** The line numbered `n` (1-based), when it was kept. */
export function lineAt(trace: ParsedTrace, n: number): TraceLine | undefined {
  const lines = trace.lines
  const direct = lines[n - 1]
  if (direct?.n === n) return direct
  let lo = 0
  let hi = lines.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const at = (lines[mid] as TraceLine).n
    if (at === n) return lines[mid]
    if (at < n) lo = mid + 1
    else hi = mid - 1
  }
  return undefined
}
