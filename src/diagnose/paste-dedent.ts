/**
 * A pasted excerpt indented as a block (a commit message, a Markdown code block, an e-mail quote)
 * is read as the job printed it: the indentation every line shares is taken off, so rules anchored
 * at the start of a line (`E: …`, `$ …`, the runner's own lines) see the job's lines. Only for a
 * paste small enough that the string and the streaming reader both keep it whole (so both read it
 * alike); a job log's own lines (the runner's preamble) are never all indented.
 */
import { unnumberPaste } from './paste-numbers.js'

export const DEDENT_MAX_LINES = 5_000
const DEDENT_MAX_CHARS = 4_000_000

/**
 * A small paste as the job printed it: without the line numbers a copy from GitLab's log page glues
 * on (paste-numbers.ts), then without the indentation its lines share; each line ends in a newline.
 * Undefined when there is nothing to take off.
 */
export function normalizePaste(lines: readonly string[]): string | undefined {
  // The same limits as the dedent, before either: the streaming reader keeps only smaller pastes whole.
  if (lines.length > DEDENT_MAX_LINES || lines.reduce((n, l) => n + l.length, 0) > DEDENT_MAX_CHARS) return undefined
  const unnumbered = unnumberPaste(lines)
  return dedentPaste(unnumbered ?? lines) ?? unnumbered?.map((l) => `${l}\n`).join('')
}

/** The paste without its shared indentation, each line ending in a newline; undefined when there is none. */
export function dedentPaste(lines: readonly string[]): string | undefined {
  if (lines.length > DEDENT_MAX_LINES) return undefined
  let chars = 0
  for (const l of lines) chars += l.length
  if (chars > DEDENT_MAX_CHARS) return undefined
  let indent: string | undefined
  for (const l of lines) {
    if (l.trim() === '') continue
    const lead = /^[ \t]*/.exec(l)?.[0] ?? ''
    if (indent === undefined) indent = lead
    else if (!lead.startsWith(indent)) indent = commonPrefix(indent, lead)
    if (indent === '') return undefined
  }
  if (!indent) return undefined
  const cut = indent.length
  // Every row ends with its newline again, so a paste ending in blank lines keeps its line count.
  return lines.map((l) => `${l.slice(Math.min(cut, l.length - l.trimStart().length))}\n`).join('')
}

function commonPrefix(a: string, b: string): string {
  let i = 0
  while (i < a.length && i < b.length && a[i] === b[i]) i++
  return a.slice(0, i)
}
