import { StringDecoder } from 'node:string_decoder'
import type { TraceSink } from '../trace-writer.js'
import { PARTIAL_FLUSH_MS } from './file-sink.js'

/**
 * Splits the trace into complete lines for a human console: section markers become headers or
 * vanish, `\r` rewrites keep the last state of a line. The callback gets each line (with its
 * colours; the console strips them when stdout is not a terminal).
 */
export class LineSink implements TraceSink {
  private rest = ''
  /** A character split across two chunks is decoded whole, never as two replacement marks. */
  private readonly decoder = new StringDecoder('utf8')
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly onLine: (line: string) => void) {}

  write(chunk: Buffer): void {
    const text = this.rest + this.decoder.write(chunk)
    const lines = text.split('\n')
    this.rest = lines.pop() ?? ''
    for (const l of lines) this.emit(l)
    // An unfinished line (a progress bar, a prompt without newline) is shown after a second;
    // what follows it later comes as a line of its own.
    if (this.rest !== '' && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined
        if (this.rest !== '') this.emit(this.rest)
        this.rest = ''
      }, PARTIAL_FLUSH_MS)
      this.timer.unref()
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    this.rest += this.decoder.end()
    if (this.rest) this.emit(this.rest)
    this.rest = ''
  }

  private emit(raw: string): void {
    const line = humanLine(raw)
    if (line !== undefined) this.onLine(line)
  }
}

const MARKER = /section_(?:start|end):\d+:[A-Za-z0-9_.-]+(?:\[[^\]]*\])?\r\x1b\[0K/g

/** A raw trace line as a person should see it; undefined for lines that are only markers. */
export function humanLine(raw: string): string | undefined {
  const noMarkers = raw.replace(MARKER, '')
  if (noMarkers === '' && raw !== '') return undefined
  const parts = noMarkers.split('\r')
  // A carriage return rewrites the line: what is left after the last one is what a terminal shows.
  const last = parts.filter((p) => p !== '').at(-1) ?? ''
  return last.replace(/\x1b\[0K/g, '')
}

export function stripAnsi(s: string): string {
  return s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '')
}
