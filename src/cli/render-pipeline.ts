import type { GlrunError } from '../diagnostics/errors.js'
import { renderDiagnostic } from '../diagnostics/render.js'
import type { SourceSpan } from '../diagnostics/source.js'
import type { CompiledPipeline, PlannedJob } from '../pipeline/plan/types.js'
import type { Io } from './io.js'

export function printDiagnostics(io: Io, pipeline: CompiledPipeline): void {
  for (const w of pipeline.warnings) io.err(`${renderDiagnostic(w, pipeline.sources, { color: io.color })}\n`)
  for (const e of pipeline.errors) io.err(`${renderDiagnostic(e, pipeline.sources, { color: io.color })}\n`)
}

/**
 * For commands that need a valid pipeline: prints its errors (as JSON with --json) and says
 * whether the command must stop.
 */
export function reportInvalid(io: Io, pipeline: CompiledPipeline, json: boolean | undefined): boolean {
  if (pipeline.errors.length === 0) return false
  if (json) io.out(JSON.stringify({ errors: pipeline.errors.map(diagnosticJson) }, null, 2))
  else printDiagnostics(io, pipeline)
  return true
}

export function diagnosticJson(e: GlrunError): Record<string, unknown> {
  return {
    code: e.code,
    severity: e.severity,
    message: e.message,
    ...(e.where ? { file: e.where.file, line: e.where.line, column: e.where.col } : {}),
    ...(e.hint ? { hint: e.hint } : {}),
  }
}

export function allowFailureText(job: PlannedJob): string {
  const a = job.allowFailure
  return typeof a === 'boolean' ? String(a) : `exit_codes: ${a.exitCodes.join(', ')}`
}

export function needsText(job: PlannedJob): string {
  if (job.needs === null) return ''
  if (job.needs.length === 0) return '[]'
  return `[${job.needs.map((n) => n.job + (n.optional ? '?' : '')).join(', ')}]`
}

export function spanText(s: SourceSpan | undefined): string {
  return s ? `${s.file}:${s.line}` : ''
}

/** Left-aligned columns, two spaces apart; the last column is not padded. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = []
  for (const r of rows) r.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, c.length) })
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n')
}
