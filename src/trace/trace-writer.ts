import { BOLD_CYAN, BOLD_GREEN, BOLD_RED, BOLD_YELLOW, CLEAR, RESET, YELLOW, sectionEnd, sectionStart } from './ansi.js'
import type { Masker } from './masker.js'

/** Where trace bytes go (a file, the console, GitLab). Sinks only ever see masked bytes. */
export interface TraceSink {
  write(chunk: Buffer): void
  close(): Promise<void>
}

export interface TraceOptions {
  masker: Masker
  sinks: TraceSink[]
  /** GitLab's `features.trace_sections`: false omits the section markers. */
  sections?: boolean
  /** Bytes kept before the output limit message (gitlab-runner's output_limit, default 4 MiB). */
  limit?: number
  now?: () => number
}

/**
 * The only writer of job traces: GitLab's exact job-log bytes (section markers, colours,
 * `WARNING:`/`ERROR:` prefixes, the final `Job succeeded` line), every byte through one masker.
 */
export class TraceWriter {
  private written = 0
  private truncated = false
  private readonly now: () => number

  constructor(private readonly opts: TraceOptions) {
    this.now = opts.now ?? (() => Math.floor(Date.now() / 1000))
  }

  /** Raw output of the job's processes. */
  write(chunk: Buffer | string): void {
    this.emit(this.opts.masker.write(chunk))
  }

  /** gitlab-runner's Println: `\x1b[0K<text>\x1b[0;m\n`. */
  println(text: string): void {
    this.line(`${CLEAR}${text}${RESET}\n`)
  }

  info(text: string): void {
    this.line(`${BOLD_GREEN}${text}${RESET}\n`)
  }

  warn(text: string): void {
    this.line(`${YELLOW}WARNING: ${text}${RESET}\n`)
  }

  error(text: string): void {
    this.line(`${BOLD_RED}ERROR: ${text}${RESET}\n`)
  }

  /** Runs `body` inside a collapsible GitLab section with a cyan header line. */
  async section<T>(name: string, header: string, body: () => Promise<T>, opts?: string): Promise<T> {
    if (this.opts.sections !== false) this.line(sectionStart(this.now(), name, opts))
    this.line(`${CLEAR}${BOLD_CYAN}${header}${RESET}${RESET}\n`)
    try {
      return await body()
    } finally {
      if (this.opts.sections !== false) this.line(sectionEnd(this.now(), name))
    }
  }

  jobSucceeded(): void {
    this.info('Job succeeded')
  }

  jobFailed(reason: string, systemFailure = false): void {
    this.error(`Job failed${systemFailure ? ' (system failure)' : ''}: ${reason}`)
  }

  async close(): Promise<void> {
    this.emit(this.opts.masker.flush())
    await Promise.all(this.opts.sinks.map((s) => s.close()))
  }

  /** Runner messages: flush what the masker holds first, so lines never interleave mid-way. */
  private line(text: string): void {
    this.emit(Buffer.concat([this.opts.masker.flush(), this.opts.masker.write(text), this.opts.masker.flush()]))
  }

  private emit(buf: Buffer): void {
    if (buf.length === 0 || this.truncated) return
    const limit = this.opts.limit ?? 4 * 1024 * 1024
    if (this.written + buf.length > limit) {
      let fit = Math.max(0, limit - this.written)
      // Never split a UTF-8 character.
      while (fit > 0 && fit < buf.length && (buf[fit]! & 0xc0) === 0x80) fit--
      this.fanout(buf.subarray(0, fit))
      this.fanout(Buffer.from(`\n${BOLD_YELLOW}Job's log exceeded limit of ${limit} bytes.\nJob execution will continue but no more output will be collected.${RESET}\n`))
      this.truncated = true
      return
    }
    this.written += buf.length
    this.fanout(buf)
  }

  private fanout(buf: Buffer): void {
    for (const s of this.opts.sinks) s.write(buf)
  }
}
