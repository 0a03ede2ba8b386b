/** How much of a long log the trace reader (trace-reader.ts) keeps. */
export interface ReaderLimits {
  /** Always kept: the first lines of the log. */
  headLines: number
  /** Always kept: the last lines read (at most this many characters of them). */
  tailLines: number
  tailChars: number
  /**
   * Lines kept either side of a line worth keeping: the line a tool prints before its summary.
   * (Rules look further around a hit, but for lines that are worth keeping on their own.)
   */
  context: number
  /** At most this many kept lines (the newest) between the head and the tail window. */
  middleLines: number
  middleChars: number
  /** A `\r`-piece longer than this is cut (a single line of megabytes is minified code or data). */
  pieceChars: number
  /** At most this many user (non-stage) sections are listed; every runner stage is. */
  userSections: number
}

export const STREAM_LIMITS: ReaderLimits = {
  headLines: 500, tailLines: 5_000, tailChars: 4_000_000, context: 2, middleLines: 5_000, middleChars: 4_000_000,
  pieceChars: 65_536, userSections: 10_000,
}

export const KEEP_ALL: ReaderLimits = {
  headLines: Infinity, tailLines: Infinity, tailChars: Infinity, context: 0, middleLines: Infinity, middleChars: Infinity,
  pieceChars: Infinity, userSections: Infinity,
}
