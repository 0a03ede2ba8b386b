import type { DoctorReport } from './doctor.js'
import type { Finding, FindingStatus } from './types.js'

const LABEL: Record<FindingStatus, string> = { ok: 'ok', warn: 'warn', fail: 'FAIL' }
const COLOR: Record<FindingStatus, string> = { ok: '\x1b[32m', warn: '\x1b[33;1m', fail: '\x1b[31;1m' }
const RESET = '\x1b[0m'

export function counts(report: DoctorReport): Record<FindingStatus, number> {
  const c = { ok: 0, warn: 0, fail: 0 }
  for (const f of report.findings) c[f.status]++
  return c
}

/**
 * Findings grouped under their runner (then "this machine"), one line each, and under every
 * warning or failure its fix, with the snippet indented so it can be copied as it stands.
 */
export function renderDoctor(report: DoctorReport, opts: { color: boolean }): string {
  const paint = (status: FindingStatus, s: string): string => (opts.color ? `${COLOR[status]}${s}${RESET}` : s)
  const width = Math.max(0, ...report.findings.map((f) => f.check.length))
  const lines: string[] = []
  let scope: string | undefined
  for (const f of report.findings) {
    if (f.scope !== scope) {
      if (scope !== undefined) lines.push('')
      scope = f.scope
      lines.push(opts.color ? `\x1b[1m${scope}${RESET}` : scope)
    }
    lines.push(`  ${paint(f.status, LABEL[f.status].padEnd(4))}  ${f.check.padEnd(width)}  ${f.what}`)
    if (f.status === 'ok') continue
    // Under the check's name: wide enough to stand out, narrow enough for long fixes.
    const indent = ' '.repeat(8)
    if (f.fix) lines.push(`${indent}fix: ${f.fix}`)
    if (f.snippet) for (const l of f.snippet.split('\n')) lines.push(l ? `${indent}  ${l}` : '')
  }
  const c = counts(report)
  const tally = `${c.fail} failed, ${c.warn} warning${c.warn === 1 ? '' : 's'}, ${c.ok} ok`
  lines.push('', c.fail > 0 ? paint('fail', tally) : c.warn > 0 ? paint('warn', tally) : paint('ok', tally))
  return `${lines.join('\n')}\n`
}

/** `--json`: every finding with its probe details, and the counts; `ok` is false when any failed. */
export function doctorJson(report: DoctorReport): { ok: boolean; counts: Record<FindingStatus, number>; findings: Finding[] } {
  const c = counts(report)
  return { ok: c.fail === 0, counts: c, findings: report.findings }
}
