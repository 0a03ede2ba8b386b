import { StringDecoder } from 'node:string_decoder'
import type { ParsedTrace, TraceLine, TraceSection } from './trace.js'
import { EXIT, cleanPiece, currentStage, headerStage, hintStage, isBlank, isFailedTrailer, isStage, isSucceededTrailer, markerOf, ownString, phaseFromTrailer, stageIndex, trimEnd } from './trace-line.js'
import { thinKeepingEchoes, worthKeeping } from './trace-keep.js'
import { type Reached, inferredSection, reachRow } from './stage-reached.js'
import { ChunkLines, find } from './chunk-lines.js'
import { DEDENT_MAX_LINES, normalizePaste } from './paste-dedent.js'
import { type ReaderLimits, STREAM_LIMITS } from './reader-limits.js'

/** An unfinished line longer than this goes through the streaming decoder (see pushBytes). */
const CARRY_BYTES = 1 << 20

/** Whole lines are decoded about this many bytes at a time (see pushBytes). */
const LINES_BYTES = 4_096

/** A line up to this many characters may take the common path (chunk-lines.ts). */
const COMMON_CHARS = 65_536

interface Row {
  n: number
  text: string
  /** The runner stage by section markers, and by stage titles (for logs without markers). */
  marked: string | undefined
  inferred: string | undefined
  keep: boolean
}


/**
 * Reads a job log piece by piece (as a stream delivers it) and keeps what diagnosing it needs.
 * What stays is the head of the log (the runner's preamble: executor, image, services, clone),
 * a window at the end (the failure and what led to it), and in between the lines a rule could
 * match (`worthKeeping`) with a few lines of context either side, the newest up to a budget — so
 * a 10 GB log costs the memory of a few MB, and a log shorter than head and window together is
 * kept whole. Sections, the phase, the exit code and the trailer are followed on every line.
 */
export class TraceReader {
  private readonly limits: ReaderLimits
  private readonly head: Row[] = []
  /** Rows after the head, newest last; the oldest leave for `middle` (or are dropped) in batches. */
  private recent: Row[] = []
  private recentChars = 0
  private middle: Row[] = []
  private middleChars = 0
  private n = 0
  // The physical line being read: its text so far, its stage, and the unfinished `\r` piece.
  private piece = ''
  // Bytes of an unfinished line (pushBytes), and whether lines may be slices of bigger strings.
  private carry: Buffer[] = []
  private carryBytes = 0
  private viaDecoder = false
  private readonly decoder = new StringDecoder('utf8')
  private readonly chunkLines = new ChunkLines()
  /** The common path skips the piece machinery: only for a line no piece limit can cut. */
  private readonly commonChars: number
  private sliced = false
  private rowFromBig = false
  private pieceCut = false
  private rowText = ''
  private rowSection: string | undefined
  private rowStarted = false
  private sawNewline = false
  // Section markers.
  private readonly sections: TraceSection[] = []
  private readonly open: TraceSection[] = []
  private stage: string | undefined
  private userSections = 0
  private sawStageMarker = false
  // Stage titles and hints, for logs without markers.
  private readonly inferredSections: TraceSection[] = []
  private inferredCurrent: TraceSection | undefined
  // The trailer and the stages reached before it.
  private failedAt: Row | undefined
  private succeeded = false
  private reached: Reached = {}
  private reachedAtTrailer: Reached = {}
  private keepNext = 0

  /** `pasteRead`: the text is a paste already read without glued numbers and shared indentation (read once). */
  constructor(limits: ReaderLimits = STREAM_LIMITS, private readonly pasteRead = false) {
    this.limits = limits
    this.commonChars = Math.min(COMMON_CHARS, limits.pieceChars)
  }

  /** Feeds decoded text; lines may be split anywhere across calls. */
  push(text: string): void {
    this.sliced = true
    this.pushText(text)
  }

  /**
   * Feeds raw bytes (UTF-8). The whole lines of a chunk are decoded a few KB at a time (a newline
   * byte never splits a character) and read line by line (see `pushLines`). The bytes after the
   * last newline wait for the next chunk; a line longer than the carry limit goes through a
   * streaming decoder instead, which keeps a character split between two chunks whole.
   */
  pushBytes(bytes: Buffer): void {
    let pos = 0
    if (this.viaDecoder || this.carry.length) {
      const nl = bytes.indexOf(10)
      if (nl === -1) {
        this.carryOn(bytes, 0)
        return
      }
      if (this.viaDecoder) this.pushText(this.decoder.end(bytes.subarray(0, nl)))
      else this.pushText(Buffer.concat([...this.carry, bytes.subarray(0, nl)]).toString('utf8'))
      this.carry = []
      this.carryBytes = 0
      this.viaDecoder = false
      this.endPiece()
      this.endRow()
      pos = nl + 1
    }
    const last = bytes.lastIndexOf(10)
    while (pos <= last) {
      // A few KB at a time: the rows of the tail window are slices of the decoded text, and a slice
      // keeps its whole string alive (into the old generation, where V8 moves what lives long), so
      // small strings keep memory near the rows' own size. (A whole chunk's string would be a large
      // object, which V8 maps and unmaps for itself: system time and a higher peak RSS.)
      let cut = last - pos > LINES_BYTES ? bytes.lastIndexOf(10, pos + LINES_BYTES) : last
      if (cut < pos) cut = bytes.indexOf(10, pos + LINES_BYTES)
      this.pushLines(bytes.toString('utf8', pos, cut))
      pos = cut + 1
    }
    if (pos < bytes.length) this.carryOn(bytes, pos)
  }

  /** Bytes of a line that goes on in the next chunk. */
  private carryOn(bytes: Buffer, pos: number): void {
    if (this.viaDecoder) {
      this.pushText(this.decoder.write(bytes.subarray(pos)))
      return
    }
    this.carry.push(bytes.subarray(pos))
    this.carryBytes += bytes.length - pos
    if (this.carryBytes > CARRY_BYTES) {
      this.viaDecoder = true
      this.pushText(this.decoder.write(Buffer.concat(this.carry)))
      this.carry = []
      this.carryBytes = 0
    }
  }

  /**
   * Whole lines, decoded: a common line (plain text and colours) becomes a row straight from the
   * cleaned text, any other goes through the pieces as `push` does. Rows are slices of that
   * text, so those kept for long get strings of their own (see `settle`).
   */
  private pushLines(text: string): void {
    this.sliced = true
    const lines = this.chunkLines
    lines.reset(text)
    while (lines.next()) {
      const clean = lines.cleaned(this.commonChars)
      if (clean === undefined) {
        this.pushText(lines.line())
        this.endPiece()
      } else if (lines.rewrites()) {
        // Each piece of it cleans to itself: the pieces as usual, without the work.
        this.pushText(clean)
        this.endPiece()
      } else {
        if (!this.rowStarted) {
          this.rowStarted = true
          this.rowSection = this.stage
        }
        this.takePiece(clean)
      }
      this.endRow()
    }
  }

  private pushText(text: string): void {
    // A piece of a long text (a megabyte progress line) must not keep all of it alive.
    if (text.length > 65_536) this.rowFromBig = true
    // The next `\r` and `\n` at or after `pos`; none is the text's length, so it is looked for once.
    // (With "none" as -1, V8's optimised code took seconds on a 2 MB text without `\r`: quadratic.)
    let pos = 0
    let cr = find(text, '\r', 0)
    let nl = find(text, '\n', 0)
    while (pos < text.length) {
      if (cr < pos) cr = find(text, '\r', pos)
      if (nl < pos) nl = find(text, '\n', pos)
      const at = Math.min(cr, nl)
      if (at === text.length) {
        this.addToPiece(text.slice(pos))
        return
      }
      this.addToPiece(text.slice(pos, at))
      this.endPiece()
      if (at === nl) this.endRow()
      pos = at + 1
    }
  }

  /** The parsed trace; call once, after the last `push`. */
  end(): ParsedTrace {
    if (this.viaDecoder) this.pushText(this.decoder.end())
    else if (this.carry.length) this.pushText(Buffer.concat(this.carry).toString('utf8'))
    // A final line without a newline counts; the empty "line" after a last newline does not.
    if (!this.sawNewline || this.rowStarted || this.piece !== '') {
      this.endPiece()
      this.endRow()
    }
    if (this.recent.length > this.limits.tailLines) this.settle()
    const total = this.n
    for (const s of this.open) s.endLine = total
    if (this.inferredCurrent) this.inferredCurrent.endLine = total
    const byMarkers = this.sawStageMarker
    const rows = [...this.head, ...this.middle, ...this.recent]
    // Every line kept (a small paste): read again without glued line numbers and shared indentation.
    const dedented = this.pasteRead || byMarkers || rows.length !== total || total > DEDENT_MAX_LINES ? undefined : normalizePaste(rows.map((r) => r.text))
    if (dedented !== undefined) {
      const again = new TraceReader(this.limits, true)
      again.push(dedented)
      return again.end()
    }
    const trailer = this.failedAt
    // The trailer is evidence even when a long log went on after it (it is rarely anywhere but last).
    if (trailer && !rows.includes(trailer)) {
      const after = rows.findIndex((r) => r.n > trailer.n)
      rows.splice(after === -1 ? rows.length : after, 0, trailer)
    }
    const lines = rows.map((r): TraceLine => {
      const section = byMarkers ? r.marked : inferredSection(r)
      return section ? { n: r.n, text: r.text, section } : { n: r.n, text: r.text }
    })
    const sections = byMarkers ? this.sections : this.inferredSections
    const reached = this.failedAt ? this.reachedAtTrailer : this.reached
    return { lines, sections, lineCount: total, ...this.summary(byMarkers ? reached.marked ?? reached.markedAny : reached.inferred ?? reached.inferredAny) }
  }

  private addToPiece(s: string): void {
    if (this.pieceCut || s === '') return
    const room = this.limits.pieceChars - this.piece.length
    if (s.length > room) {
      this.piece += s.slice(0, room)
      this.pieceCut = true
    } else {
      this.piece += s
    }
  }

  /** `\r` rewinds the cursor: the last non-blank piece of a line is what a terminal shows. */
  private endPiece(): void {
    const clean = cleanPiece(this.piece)
    this.piece = ''
    this.pieceCut = false
    if (!this.rowStarted) {
      this.rowStarted = true
      this.rowSection = this.stage
    }
    this.takePiece(clean)
  }

  /** A cleaned piece: a section marker, or (unless blank) what the row shows so far. */
  private takePiece(clean: string): void {
    const marker = markerOf(clean)
    if (marker) {
      this.onMarker(marker.kind, marker.name)
      this.rowSection = this.stage
      return
    }
    if (!isBlank(clean)) {
      this.rowText = clean
      this.rowSection = this.stage
    }
  }

  private onMarker(kind: 'start' | 'end', name: string): void {
    const n = this.n + 1
    const stage = isStage(name)
    if (stage) this.sawStageMarker = true
    if (kind === 'start') {
      const s: TraceSection = { name, startLine: n }
      if (stage || this.userSections++ < this.limits.userSections) this.sections.push(s)
      this.open.push(s)
    } else {
      const at = this.open.map((s) => s.name).lastIndexOf(name)
      if (at >= 0) for (const s of this.open.splice(at)) s.endLine = n
    }
    this.stage = currentStage(this.open)
  }

  private endRow(): void {
    const n = ++this.n
    this.sawNewline = true
    const text = this.rowFromBig ? ownString(trimEnd(this.rowText)) : trimEnd(this.rowText)
    this.rowFromBig = false
    // Every field set, always: one object shape for millions of rows keeps V8 on its fast path.
    const row: Row = { n, text, marked: this.rowSection, inferred: this.infer(text, n), keep: false }
    this.rowText = ''
    this.rowSection = undefined
    this.rowStarted = false

    if (isFailedTrailer(text)) {
      this.failedAt = row
      this.reachedAtTrailer = { ...this.reached }
    } else if (isSucceededTrailer(text)) {
      this.succeeded = true
    }
    reachRow(this.reached, row)
    this.store(row)
  }

  /** Stage titles first, then weaker hints, never moving backwards. */
  private infer(text: string, n: number): string | undefined {
    const header = headerStage(text)
    const hint = header === undefined ? hintStage(text) : undefined
    // A hint only moves forward: `$ ` echoed inside after_script must not reopen step_script.
    const next = header ?? (hint !== undefined && stageIndex(hint) > stageIndex(this.inferredCurrent?.name) ? hint : undefined)
    if (next !== undefined && next !== this.inferredCurrent?.name) {
      if (this.inferredCurrent) this.inferredCurrent.endLine = n - 1
      this.inferredCurrent = { name: next, startLine: n }
      this.inferredSections.push(this.inferredCurrent)
    }
    return this.inferredCurrent?.name
  }

  private store(row: Row): void {
    const { context, headLines, tailLines, tailChars } = this.limits
    if (row.n <= headLines) {
      this.head.push(row)
      return
    }
    if (worthKeeping(row.text)) {
      row.keep = true
      // Tools print the cause just before their summary line: keep the lines before it too.
      for (let i = this.recent.length - 1; i >= 0 && i >= this.recent.length - context; i--) (this.recent[i] as Row).keep = true
      this.keepNext = context
    } else if (this.keepNext > 0) {
      row.keep = true
      this.keepNext--
    }
    this.recent.push(row)
    this.recentChars += row.text.length
    if (this.recent.length > 2 * tailLines || this.recentChars > 2 * tailChars) this.settle()
  }

  /** Leaves the newest rows in the tail window; of the older ones, the kept go to the middle. */
  private settle(): void {
    const { tailLines, tailChars, middleLines, middleChars } = this.limits
    let from = this.recent.length
    let chars = 0
    while (from > 0 && this.recent.length - from < tailLines && chars + (this.recent[from - 1] as Row).text.length <= tailChars) {
      from--
      chars += (this.recent[from] as Row).text.length
    }
    for (let i = 0; i < from; i++) {
      const r = this.recent[i] as Row
      if (!r.keep) continue
      // Kept for long: a line must not hold the megabyte chunk it was cut from alive.
      if (this.sliced) r.text = ownString(r.text)
      this.middle.push(r)
      this.middleChars += r.text.length
    }
    this.recent = this.recent.slice(from)
    this.recentChars = chars
    if (this.middle.length > middleLines || this.middleChars > middleChars) {
      const thinned = thinKeepingEchoes(this.middle, middleLines, middleChars, this.middleChars)
      this.middle = thinned.rows
      this.middleChars = thinned.chars
    }
  }

  private summary(phase: string | undefined): Pick<ParsedTrace, 'failedPhase' | 'exitCode' | 'failed' | 'succeeded'> {
    const failedAt = this.failedAt
    const failed = failedAt !== undefined
    const code = failedAt ? EXIT.exec(failedAt.text)?.[1] : undefined
    const failedPhase = failed || !this.succeeded ? phase ?? phaseFromTrailer(failedAt?.text) : undefined
    return {
      failed,
      succeeded: this.succeeded && !failed,
      ...(code !== undefined ? { exitCode: Number(code) } : {}),
      ...(failedPhase ? { failedPhase } : {}),
    }
  }
}
