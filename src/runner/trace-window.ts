/**
 * The trace bytes GitLab does not have yet, in memory, so a fast job's PATCHes go out without
 * reading the spool file back: each byte is copied once into a block and sent from it as a view.
 * The window only grows at its end and only up to `limit` bytes: past that (GitLab slow or away)
 * it stops taking bytes, `get` answers undefined, and the caller reads its file instead.
 */
export class TraceWindow {
  private blocks: { at: number; buf: Buffer; fill: number }[] = []
  /** The offset the next byte must have to be taken (the window's end). */
  private end = 0
  private size = 0

  /** `first`: the first block's size (a job that prints little never allocates `block`). */
  constructor(private readonly block: number, private readonly limit: number, private readonly first = Math.min(block, 2048)) {}

  /** Takes `chunk`, the bytes at `offset`, if they continue the window and fit; else nothing. */
  append(chunk: Buffer, offset: number): void {
    if (offset !== this.end) return
    let from = 0
    while (from < chunk.length) {
      let last = this.blocks[this.blocks.length - 1]
      if (!last || last.fill === last.buf.length) {
        // Small at first (most jobs print a few KiB; under 4 KiB Node takes it from its pool),
        // growing fourfold; blocks end on multiples of `block`, where PATCHes start, so past the
        // first one a PATCH is one view.
        const grown = last ? Math.max(this.first, last.buf.length * 4) : this.first
        const cap = Math.min(grown, this.block - (this.end % this.block))
        if (this.size + cap > this.limit) return // full: `end` stays, later bytes are not taken
        last = { at: this.end, buf: Buffer.allocUnsafe(cap), fill: 0 }
        this.blocks.push(last)
        this.size += cap
      }
      const n = chunk.copy(last.buf, last.fill, from)
      last.fill += n
      from += n
      this.end += n
    }
  }

  /** Bytes [offset, offset + n) if the window holds them all (a view when they lie in one block). */
  get(offset: number, n: number): Buffer | undefined {
    const start = this.blocks[0]?.at
    if (start === undefined || offset < start || offset + n > this.end) return undefined
    const parts: Buffer[] = []
    for (const b of this.blocks) {
      const from = Math.max(offset - b.at, 0)
      const to = Math.min(offset + n - b.at, b.fill)
      if (from < to) parts.push(b.buf.subarray(from, to))
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts, n)
  }

  /**
   * GitLab has every byte before `offset`: whole blocks below it are let go. When the window is
   * empty it starts again at `total` (the bytes between come from the file).
   */
  release(offset: number, total: number): void {
    while (this.blocks.length > 0) {
      const b = this.blocks[0]!
      if (b.fill < b.buf.length || b.at + b.fill > offset) break
      this.blocks.shift()
      this.size -= b.buf.length
    }
    if (this.blocks.length === 0) this.end = total
  }
}
