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
  const lines = [`${head}: ${shown(err.message)}`]
  const at = err.where
  if (at) {
    const src = sources?.line(at.file, at.line)
    const gutter = ' '.repeat(String(at.line).length)
    lines.push(`${gutter}${paint(BLUE, '-->')} ${visible(formatSpan(at))}`)
    if (src !== undefined) {
      const width =
        at.endLine === at.line && at.endCol !== undefined && at.endCol > at.col
          ? at.endCol - at.col
          : Math.max(1, tokenLength(src, at.col - 1))
      const cut = clip(src, at.col, width)
      lines.push(`${gutter} ${paint(BLUE, '|')}`)
      lines.push(`${paint(BLUE, `${at.line} |`)} ${visible(cut.text)}`)
      lines.push(`${gutter} ${paint(BLUE, '|')} ${' '.repeat(Math.max(0, cut.col - 1))}${paint(err.severity === 'warning' ? YELLOW : RED, '^'.repeat(cut.width))}`)
    }
  }
  if (err.hint) lines.push(`${' '.repeat(at ? String(at.line).length : 0)}  hint: ${shown(err.hint)}`)
  if (err.docs) lines.push(`${' '.repeat(at ? String(at.line).length : 0)}  docs: ${err.docs}`)
  return lines.join('\n')
}

/** The most of a source line a diagnostic shows: a minified 2 MB line must not flood the terminal. */
const MAX_SHOWN_COLUMNS = 120
/** Messages and hints quote names from the file; a name can be as long as a line. */
const MAX_MESSAGE_CHARS = 1000

/** A window of `line` around the caret, with `…` where it was cut; the caret moved to match. */
function clip(line: string, col: number, width: number): { text: string; col: number; width: number } {
  if (line.length <= MAX_SHOWN_COLUMNS) return { text: line, col, width }
  const start = Math.max(0, Math.min(col - 1 - 20, line.length - MAX_SHOWN_COLUMNS))
  const end = Math.min(line.length, start + MAX_SHOWN_COLUMNS)
  const lead = start > 0 ? '…' : ''
  const text = `${lead}${line.slice(start, end)}${end < line.length ? '…' : ''}`
  const caret = col - start + lead.length
  return { text, col: caret, width: Math.max(1, Math.min(width, end - (col - 1))) }
}

function shown(s: string): string {
  return visible(s.length > MAX_MESSAGE_CHARS ? `${s.slice(0, MAX_MESSAGE_CHARS)}…` : s)
}

/**
 * Control characters from a file would drive the terminal (an ESC sequence can rewrite what was
 * printed): each is shown as its Unicode control picture (␀, ␛, …), one column wide like the
 * original, so the caret still lines up.
 */
function visible(s: string): string {
  return s.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) => {
    const code = c.charCodeAt(0)
    return code < 0x20 ? String.fromCharCode(0x2400 + code) : code === 0x7f ? '\u2421' : '\ufffd'
  })
}

/** Length of the YAML token starting at `from`: up to the end of the line or a `#` comment. */
function tokenLength(line: string, from: number): number {
  const rest = line.slice(from)
  const m = /^[^#]*?(?=\s*(#|$))/.exec(rest)
  return m ? m[0].length : rest.length
}
