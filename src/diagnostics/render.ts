import type { GlrunError } from './errors.js'
import { type SourceTexts, formatSpan } from './source.js'

export interface RenderOptions {
  readonly color: boolean
}

const RED = '\x1b[31;1m'
const YELLOW = '\x1b[33;1m'
const BLUE = '\x1b[34;1m'
const RESET = '\x1b[0m'

/**
 * Renders one diagnostic the way compilers do:
 *
 *   error[GLRUN_NEEDS_UNKNOWN]: job "deploy" needs "biuld", which is not defined in this pipeline
 *     --> .gitlab-ci.yml:42:7
 *      |
 *   42 |     needs: [biuld]
 *      |             ^^^^^
 *     hint: did you mean "build"?
 */
export function renderDiagnostic(err: GlrunError, sources: SourceTexts | undefined, opts: RenderOptions): string {
  const paint = (c: string, s: string): string => (opts.color ? `${c}${s}${RESET}` : s)
  const head = err.severity === 'warning' ? paint(YELLOW, `warning[${err.code}]`) : paint(RED, `error[${err.code}]`)
  const lines = [`${head}: ${err.message}`]
  const at = err.where
  if (at) {
    const src = sources?.line(at.file, at.line)
    const gutter = ' '.repeat(String(at.line).length)
    lines.push(`${gutter}${paint(BLUE, '-->')} ${formatSpan(at)}`)
    if (src !== undefined) {
      const width =
        at.endLine === at.line && at.endCol !== undefined && at.endCol > at.col
          ? at.endCol - at.col
          : Math.max(1, tokenLength(src, at.col - 1))
      lines.push(`${gutter} ${paint(BLUE, '|')}`)
      lines.push(`${paint(BLUE, `${at.line} |`)} ${src}`)
      lines.push(`${gutter} ${paint(BLUE, '|')} ${' '.repeat(Math.max(0, at.col - 1))}${paint(err.severity === 'warning' ? YELLOW : RED, '^'.repeat(width))}`)
    }
  }
  if (err.hint) lines.push(`${' '.repeat(at ? String(at.line).length : 0)}  hint: ${err.hint}`)
  if (err.docs) lines.push(`${' '.repeat(at ? String(at.line).length : 0)}  docs: ${err.docs}`)
  return lines.join('\n')
}

/** Length of the YAML token starting at `from`: up to the end of the line or a `#` comment. */
function tokenLength(line: string, from: number): number {
  const rest = line.slice(from)
  const m = /^[^#]*?(?=\s*(#|$))/.exec(rest)
  return m ? m[0].length : rest.length
}
