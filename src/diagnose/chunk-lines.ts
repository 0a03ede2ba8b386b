import { stripCommonEscapes } from './trace-line.js'

/**
 * The lines of a decoded chunk of a log (many whole lines at once), each cleaned when the common
 * case applies. Decoding a chunk once, taking the colours out of all of it in one pass and
 * splitting it once costs a fraction of doing all three for each of its millions of lines.
 *
 * A line of the cleaned chunk is what trace-line.ts `cleanPiece` makes of each of its
 * `\r`-pieces (and can take their place) unless it still has an ESC (an escape other than the
 * common ones) or `Z ` (where an FF_TIMESTAMPS prefix may end). A timestamp cannot hide from that
 * test: no common escape can overlap one (they hold no `-`), so a timestamp in the raw line is
 * still whole, `Z ` included, in the cleaned one. The raw line is the way for the rest.
 */
export class ChunkLines {
  private raw = ''
  private clean = ''
  private rawLines: string[] | undefined
  /** Characters the escapes took out of the whole chunk: no line lost more. */
  private removed = 0
  private i = -1
  /** Where the current line starts and ends (its newline, or the text's end) in the cleaned chunk. */
  private at = 0
  private end = -1
  // The next ESC, `Z ` and `\r` in the cleaned chunk at or after the current line (its length: none).
  private esc = -1
  private z = -1
  private cr = -1

  /** `text`: whole lines, separated by `\n` (none after the last). */
  reset(text: string): void {
    this.raw = text
    this.clean = text.includes('\x1b') ? stripCommonEscapes(text) : text
    this.removed = text.length - this.clean.length
    this.rawLines = undefined
    this.i = -1
    this.at = 0
    this.end = -1
    this.esc = this.z = this.cr = -1
  }

  /** Moves to the next line; false after the last. */
  next(): boolean {
    if (this.end === this.clean.length) return false
    this.i++
    this.at = this.end + 1
    this.end = find(this.clean, '\n', this.at)
    return true
  }

  /**
   * The line cleaned, its `\r`-pieces kept, when the common path can read it: it cleans to
   * itself, and no piece of it is longer than `maxChars` as read. Else undefined: read `line()`.
   */
  cleaned(maxChars: number): string | undefined {
    const end = this.end
    if (end - this.at + this.removed > maxChars) return undefined
    if (this.esc < this.at) this.esc = find(this.clean, '\x1b', this.at)
    if (this.esc < end) return undefined
    if (this.z < this.at) this.z = find(this.clean, 'Z ', this.at)
    if (this.z < end) return undefined
    return this.clean.slice(this.at, end)
  }

  /** Whether the line from `cleaned` has `\r`-pieces. */
  rewrites(): boolean {
    if (this.cr < this.at) this.cr = find(this.clean, '\r', this.at)
    return this.cr < this.end
  }

  /** The line as read. */
  line(): string {
    this.rawLines ??= this.raw.split('\n')
    return this.rawLines[this.i] as string
  }
}

/**
 * Where `what` next occurs in `s` at or after `from`; the length of `s` when it does not, so a caller that
 * keeps the answer searches for an absent character once (with -1 it would search again on every line).
 */
export function find(s: string, what: string, from: number): number {
  const at = s.indexOf(what, from)
  return at === -1 ? s.length : at
}
