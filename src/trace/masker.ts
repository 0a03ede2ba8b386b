/**
 * The streaming masker every byte of output passes through before it reaches any sink (trace
 * file, console, GitLab). It replaces each masked value with `[MASKED]`, also when a value is
 * split across writes: bytes that may be the start of a secret are held back until the next
 * write decides (so output lags by less than the longest secret). Longest secrets win where
 * several match at one place, so `VALUE_OTHER` is masked whole when `VALUE` is also secret.
 * Then GitLab's token prefixes (`glpat-…` keeps its prefix, the token becomes `[MASKED]`) and
 * URL credentials in query strings (`?private_token=…`) are masked the same way.
 */
export const MASK = Buffer.from('[MASKED]')

/** gitlab-runner's default token prefixes (FF_MASK_ALL_DEFAULT_TOKENS). */
export const DEFAULT_TOKEN_PREFIXES = [
  'glpat-', 'gloas-', 'gldt-', 'glrt-', 'glcbt-', 'glrtr-', 'glptt-', 'glft-', 'glimt-', 'glagent-', 'glsoat-', 'glffct-', '_gitlab_session=', 'gltok-',
]

/** Query parameters whose values gitlab-runner's URL sanitizer masks. */
export const URL_PARAMS = ['private_token', 'authenticity_token', 'rss_token', 'x-amz-signature', 'x-amz-credential', 'x-amz-security-token']

/** A character of a token or parameter value: what follows a prefix is masked up to the first other byte. */
function isTokenByte(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2e || b === 0x5f || b === 0x3d || b === 0x2d
}

function isParamValueByte(b: number): boolean {
  return b !== 0x26 && b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09 && b !== 0x22 && b !== 0x27 && b !== 0x23
}

interface Needle {
  bytes: Buffer
  /** Keep the needle itself and mask the run of value bytes after it (prefixes, URL params). */
  keep: boolean
  isValue: (b: number) => boolean
}

export class Masker {
  private readonly needles: Needle[]
  /** Needles grouped by their first two bytes: one native search per group, not per needle. */
  private readonly groups: { prefix: Buffer; needles: Needle[] }[]
  private readonly firstBytes: Set<number>
  private readonly maxHold: number
  private pending: Buffer = Buffer.alloc(0)

  /**
   * @param secrets masked values (trimmed, de-duplicated; empty ones ignored — the runner masks
   *   any length, GitLab refuses to save masked values under 8 characters)
   */
  constructor(secrets: readonly string[], tokenPrefixes: readonly string[] = DEFAULT_TOKEN_PREFIXES) {
    const phrases = [...new Set(secrets.map((s) => s.trim()).filter((s) => s.length > 0))]
      .sort((a, b) => Buffer.byteLength(b) - Buffer.byteLength(a))
    this.needles = [
      ...phrases.map((p): Needle => ({ bytes: Buffer.from(p), keep: false, isValue: isTokenByte })),
      ...[...new Set(tokenPrefixes)].filter(Boolean).map((p): Needle => ({ bytes: Buffer.from(p), keep: true, isValue: isTokenByte })),
      ...URL_PARAMS.flatMap((p) => [`?${p}=`, `&${p}=`]).map((p): Needle => ({ bytes: Buffer.from(p), keep: true, isValue: isParamValueByte })),
    ]
    this.maxHold = Math.max(0, ...this.needles.map((n) => n.bytes.length - 1))
    const byPrefix = new Map<string, Needle[]>()
    for (const n of this.needles) {
      const key = n.bytes.subarray(0, 2).toString('latin1')
      byPrefix.set(key, [...(byPrefix.get(key) ?? []), n])
    }
    this.firstBytes = new Set(this.needles.map((n) => n.bytes[0]!))
    this.groups = [...byPrefix].map(([k, needles]) => ({ prefix: Buffer.from(k, 'latin1'), needles }))
  }

  /** Masks what can be decided now; keeps a possible partial match for the next write. */
  write(chunk: Buffer | string): Buffer {
    const input = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    const data = this.pending.length > 0 ? Buffer.concat([this.pending, input]) : input
    const { out, held } = this.process(data, false)
    this.pending = held
    return out
  }

  /** Releases whatever is held back (at the end of the stream). */
  flush(): Buffer {
    const { out } = this.process(this.pending, true)
    this.pending = Buffer.alloc(0)
    return out
  }

  private process(data: Buffer, final: boolean): { out: Buffer; held: Buffer } {
    if (this.needles.length === 0 || data.length === 0) return { out: data, held: Buffer.alloc(0) }
    // Every match of every needle, then the leftmost-longest that do not overlap.
    const found: { start: number; end: number; needle: Needle }[] = []
    for (const group of this.groups) {
      let at = data.indexOf(group.prefix)
      while (at >= 0) {
        for (const needle of group.needles) {
          const len = needle.bytes.length
          if (at + len > data.length || data.compare(needle.bytes, 0, len, at, at + len) !== 0) continue
          let end = at + len
          if (needle.keep) while (end < data.length && needle.isValue(data[end]!)) end++
          found.push({ start: at, end, needle })
        }
        at = data.indexOf(group.prefix, at + 1)
      }
    }
    found.sort((a, b) => a.start - b.start || b.end - b.start - (a.end - a.start))
    const parts: Buffer[] = []
    let pos = 0
    let holdFrom = final ? data.length : this.holdStart(data)
    for (const m of found) {
      if (m.start < pos) continue
      // A value run that reaches the end of the data may continue in the next write: wait.
      if (!final && m.needle.keep && m.end === data.length) {
        holdFrom = Math.min(holdFrom, m.start)
        break
      }
      if (m.start >= holdFrom) break
      parts.push(data.subarray(pos, m.start))
      if (m.needle.keep) parts.push(m.needle.bytes)
      parts.push(MASK)
      pos = m.end
      if (holdFrom < pos) holdFrom = pos
    }
    if (holdFrom < pos) holdFrom = pos
    parts.push(data.subarray(pos, holdFrom))
    return { out: parts.length === 1 ? parts[0]! : Buffer.concat(parts), held: Buffer.from(data.subarray(holdFrom)) }
  }

  /** Where the longest tail of `data` that could still become a needle starts. */
  private holdStart(data: Buffer): number {
    const from = Math.max(0, data.length - this.maxHold)
    for (let i = from; i < data.length; i++) {
      if (!this.firstBytes.has(data[i]!)) continue
      const tail = data.subarray(i)
      if (this.needles.some((n) => n.bytes.length > tail.length && n.bytes.subarray(0, tail.length).equals(tail))) return i
    }
    return data.length
  }
}
