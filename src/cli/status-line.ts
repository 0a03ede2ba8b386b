/**
 * The live status line a terminal shows under the job logs: which jobs run, how many are done.
 * Log lines are printed above it: clear the line, print, redraw.
 */
export class StatusLine {
  private readonly running = new Set<string>()
  private done = 0
  private shown = false

  constructor(private readonly write: (s: string) => void, private readonly total: number, private readonly enabled: boolean) {}

  start(job: string): void {
    this.running.add(job)
    this.redraw()
  }

  finish(job: string): void {
    this.running.delete(job)
    this.done++
    this.redraw()
  }

  /** Prints a log line above the status line. */
  print(line: string): void {
    if (!this.enabled) {
      this.write(`${line}\n`)
      return
    }
    this.write(`${this.shown ? '\r\x1b[2K' : ''}${line}\n`)
    this.shown = false
    this.redraw()
  }

  clear(): void {
    if (this.enabled && this.shown) this.write('\r\x1b[2K')
    this.shown = false
  }

  text(): string {
    const names = [...this.running]
    const list = names.length > 3 ? `${names.slice(0, 3).join(', ')} +${names.length - 3}` : names.join(', ')
    return `${this.done}/${this.total} jobs done${names.length ? ` · running: ${list}` : ''}`
  }

  private redraw(): void {
    if (!this.enabled) return
    this.write(`\r\x1b[2K\x1b[2m${this.text()}\x1b[0m`)
    this.shown = true
  }
}
