import { closeSync, openSync, readSync, writeSync } from 'node:fs'
import { crc32 } from 'node:zlib'
import type { TraceSink } from '../trace/trace-writer.js'
import type { RunnerApi } from './api.js'
import { TraceWindow } from './trace-window.js'

/** Bytes per PATCH: GitLab appends chunk by chunk; a smaller request survives a flaky link better. */
const CHUNK = 1024 * 1024
/** gitlab-runner's default update interval, until GitLab says another. */
const DEFAULT_INTERVAL_S = 3
const MAX_FINAL_TRIES = 30
/**
 * Bytes GitLab does not have yet are also kept in memory up to this much, so a fast job's PATCHes
 * are sent without reading the file back; beyond it (GitLab slow or away) the file serves them.
 */
const MEMORY_WINDOW = 8 * CHUNK

export type RemoteStatus = 'canceling' | 'canceled' | 'failed' | 'gone'

/**
 * The job's trace as GitLab receives it: every byte the trace writer emits (already masked) is
 * kept in a local file and sent with `PATCH /jobs/:id/trace` from the offset GitLab has, on
 * GitLab's interval (`X-GitLab-Trace-Update-Interval`) or sooner when a whole chunk waits. A 416 moves
 * the offset to GitLab's length and resends from there, so every byte arrives once and in order,
 * whatever the network did. `Job-Status: canceling|canceled` and a 403 are passed to `onRemote`:
 * that is how GitLab cancels a job.
 */
export class GitLabTrace implements TraceSink {
  private readonly fd: number
  private total = 0
  private sent = 0
  private crc = 0
  private intervalS = DEFAULT_INTERVAL_S
  private timer: NodeJS.Timeout | undefined
  private inflight: Promise<void> | undefined
  private stopped = false
  private readonly window = new TraceWindow(CHUNK, MEMORY_WINDOW)

  constructor(private readonly api: RunnerApi, private readonly jobId: number, private readonly jobToken: string, file: string, private readonly onRemote: (s: RemoteStatus) => void) {
    this.fd = openSync(file, 'w+', 0o600)
    this.schedule()
  }

  write(chunk: Buffer): void {
    if (chunk.length === 0 || this.closed) return
    writeSync(this.fd, chunk, 0, chunk.length, this.total)
    this.window.append(chunk, this.total)
    this.total += chunk.length
    this.crc = crc32(chunk, this.crc)
    // A job printing fast: send whole chunks as they fill, not a PATCH per pipe read. While one
    // PATCH is under way the sending loop picks up what arrives meanwhile, so no trigger is lost.
    if (!this.inflight && this.total - this.sent >= CHUNK) {
      this.inflight = this.send(false).finally(() => { this.inflight = undefined })
    }
  }

  /** The trace writer closing is not the end: the diagnosis may follow. finish() ends it. */
  async close(): Promise<void> {
    await this.flush()
  }

  get bytesize(): number {
    return this.total
  }

  /** Sends what GitLab does not have yet; resolves when this round is done (never throws). */
  flush(): Promise<void> {
    if (this.inflight) return this.inflight.then(() => (this.total > this.sent && !this.stopped ? this.flush() : undefined))
    this.inflight = this.send(true).finally(() => { this.inflight = undefined })
    return this.inflight
  }

  /** `all`: down to the last byte (the interval, the end); else only while whole chunks wait. */
  private async send(all: boolean): Promise<void> {
    while (!this.stopped && this.sent < this.total && (all || this.total - this.sent >= CHUNK)) {
      const n = Math.min(CHUNK, this.total - this.sent)
      const chunk = this.bytesAt(this.sent, n)
      let a
      try {
        a = await this.api.patchTrace(this.jobId, this.jobToken, this.sent, chunk)
      } catch {
        return // the network: the next round sends from the same offset
      }
      if (a.intervalS) this.intervalS = a.intervalS
      if (a.jobStatus === 'canceling' || a.jobStatus === 'canceled') this.onRemote(a.jobStatus)
      if (a.status === 202) this.acknowledged(a.length !== undefined ? Math.min(a.length, this.total) : this.sent + n)
      else if (a.status === 416 && a.length !== undefined) this.acknowledged(Math.min(a.length, this.total))
      else if (a.status === 403 || a.status === 404) {
        this.stopped = true
        this.endedBy = a.status
        this.onRemote(a.jobStatus === 'failed' ? 'failed' : a.status === 404 ? 'gone' : 'canceled')
      } else return // 5xx, 429: try again next round
    }
  }

  /** `n` bytes from `offset`: from the memory window when it holds them all, else from the file. */
  private bytesAt(offset: number, n: number): Buffer {
    const held = this.window.get(offset, n)
    if (held) return held
    // Every byte is overwritten by the read: no need to zero it first.
    const chunk = Buffer.allocUnsafe(n)
    readSync(this.fd, chunk, 0, n, offset)
    return chunk
  }

  /** GitLab has the bytes before `offset` (a 416 may also move it back). */
  private acknowledged(offset: number): void {
    this.sent = offset
    this.window.release(offset, this.total)
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      const round = this.total > this.sent ? this.flush() : this.touch()
      void round.finally(() => { if (!this.stopped) this.schedule() })
    }, this.intervalS * 1000)
    this.timer.unref()
  }

  /**
   * Nothing new to send: `PUT state=running` instead, as gitlab-runner's keep-alive. Its
   * `Job-Status` is how a cancel reaches a job that prints nothing (a long `sleep`).
   */
  private async touch(): Promise<void> {
    if (this.stopped || this.finishing) return
    let a
    try {
      a = await this.api.updateJob(this.jobId, this.jobToken, { state: 'running' })
    } catch {
      return
    }
    if (a.status === 403 || a.status === 404) {
      this.stopped = true
      this.endedBy = a.status
      this.onRemote(a.jobStatus === 'failed' ? 'failed' : a.status === 404 ? 'gone' : 'canceled')
    } else if (a.jobStatus === 'canceling' || a.jobStatus === 'canceled') this.onRemote(a.jobStatus)
  }

  private finishing = false

  /** GitLab ended the job (403/404): nothing more is sent; returns the status that ended it. */
  abandon(): number {
    this.finishing = true
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.closeFile()
    return this.endedBy
  }

  private endedBy = 403
  private closed = false

  private closeFile(): void {
    if (this.closed) return
    this.closed = true
    closeSync(this.fd)
  }

  /**
   * The job's end: the rest of the trace, then `PUT /jobs/:id` with the state, GitLab's failure
   * reason, the exit code and the trace's checksum and size, re-sent while GitLab answers 202
   * (it is still storing the trace). Returns the last status GitLab answered (0: unreachable).
   */
  async finish(body: { state: 'success' | 'failed'; failure_reason?: string; exit_code?: number }): Promise<number> {
    this.finishing = true
    if (this.timer) clearTimeout(this.timer)
    let status = 0
    for (let i = 0; i < MAX_FINAL_TRIES; i++) {
      for (let r = 0; r < 5 && this.sent < this.total && !this.stopped; r++) {
        await this.flush()
        if (this.sent < this.total) await sleep(Math.min(1000 * 2 ** r, 10_000))
      }
      let a
      try {
        a = await this.api.updateJob(this.jobId, this.jobToken, { ...body, output: { checksum: `crc32:${(this.crc >>> 0).toString(16).padStart(8, '0')}`, bytesize: this.total } })
      } catch {
        await sleep(Math.min(1000 * 2 ** i, 30_000))
        continue
      }
      status = a.status
      if (a.status !== 202 && !(a.status >= 500 || a.status === 429)) break
      await sleep((a.intervalS ?? 1) * 1000)
    }
    this.stopped = true
    this.closeFile()
    return status
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
