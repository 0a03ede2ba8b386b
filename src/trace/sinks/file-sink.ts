import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import type { TraceSink } from '../trace-writer.js'

/** How long an unfinished line may wait before it is shown anyway. */
export const PARTIAL_FLUSH_MS = 1000

/**
 * Appends the trace to a file (e.g. .glrun/jobs/<job>/trace.log). Writes are synchronous and
 * coalesced in a 64 KiB buffer: memory stays flat however fast a job prints, and the file is
 * complete whenever the job ends, also when glrun is killed.
 */
export class FileSink implements TraceSink {
  private readonly fd: number
  private buf = Buffer.allocUnsafe(64 * 1024)
  private used = 0

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true })
    this.fd = openSync(path, 'w')
  }

  write(chunk: Buffer): void {
    if (chunk.length >= this.buf.length) {
      this.flush()
      writeSync(this.fd, chunk)
      return
    }
    if (this.used + chunk.length > this.buf.length) this.flush()
    chunk.copy(this.buf, this.used)
    this.used += chunk.length
    // Text that ends a line is written at once, so a live `tail -f` sees whole lines; a line
    // still open (a progress bar, a prompt) within a second, as gitlab-runner sends it.
    if (chunk[chunk.length - 1] === 0x0a && this.used < 4096) this.flush()
    else if (this.used > 0 && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined
        if (!this.closed) this.flush()
      }, PARTIAL_FLUSH_MS)
      this.timer.unref()
    }
  }

  private timer: NodeJS.Timeout | undefined
  private closed = false

  private flush(): void {
    if (this.used > 0) writeSync(this.fd, this.buf, 0, this.used)
    this.used = 0
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer)
    this.flush()
    this.closed = true
    closeSync(this.fd)
  }
}
