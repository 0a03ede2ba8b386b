import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { GlrunError } from '../../diagnostics/errors.js'
import type { SourceSpan } from '../../diagnostics/source.js'
import { isPlainObject } from '../model/keywords.js'
import type { LoadResult } from './load.js'
import { memberSpans, recordMember, recordSelf, spanOf } from './positions.js'
import { YamlReference } from './reference.js'

/**
 * A cache of parsed YAML files, with their source positions, keyed by the file's name and
 * content. Why: parsing YAML with positions costs tens of milliseconds per file on a cold start,
 * most of a `glrun lint`/`list`; reading the parsed form back is a few. The cache lives in the
 * user's cache directory (never in the project), is safe to delete, and is bypassed with
 * GLRUN_NO_PARSE_CACHE=1. Only clean parses (no errors) are cached.
 */
const FORMAT = 1

type Span4 = [number, number, number, number]
type Enc = null | boolean | number | string | { o: [string, Enc][]; s?: Span4; k: (Span4 | 0)[]; v: (Span4 | 0)[] } | { a: Enc[]; s?: Span4; v: (Span4 | 0)[] } | { r: Enc[]; s: Span4 }

function cacheDir(): string {
  const base = process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache')
  return join(base, 'glrun', 'yaml')
}

export function cacheKey(text: string, file: string, version: string): string {
  return createHash('sha256').update(`${FORMAT}\0${version}\0${file}\0${text}`).digest('hex')
}

function enabled(): boolean {
  return process.env['GLRUN_NO_PARSE_CACHE'] !== '1'
}

export function readParseCache(key: string, file: string): LoadResult | undefined {
  if (!enabled()) return undefined
  let raw: string
  try {
    raw = readFileSync(join(cacheDir(), `${key}.json`), 'utf8')
  } catch {
    return undefined
  }
  try {
    const data = JSON.parse(raw) as { docs: { v: Enc; s: Span4 }[]; warnings: { code: string; message: string; hint?: string; where?: Span4 }[] }
    return {
      documents: data.docs.map((d) => ({ value: decode(d.v, file), span: toSpan(d.s, file) })),
      errors: [],
      warnings: data.warnings.map((w) => new GlrunError(w.code, w.message, { severity: 'warning', ...(w.hint ? { hint: w.hint } : {}), ...(w.where ? { where: toSpan(w.where, file) } : {}) })),
    }
  } catch {
    return undefined
  }
}

export function writeParseCache(key: string, result: LoadResult): void {
  if (!enabled() || result.errors.length > 0) return
  try {
    const docs = result.documents.map((d) => ({ v: encode(d.value), s: fromSpan(d.span) }))
    const warnings = result.warnings.map((w) => ({ code: w.code, message: w.message, ...(w.hint ? { hint: w.hint } : {}), ...(w.where ? { where: fromSpan(w.where) } : {}) }))
    const dir = cacheDir()
    mkdirSync(dir, { recursive: true })
    const tmp = join(dir, `${key}.${process.pid}.tmp`)
    writeFileSync(tmp, JSON.stringify({ docs, warnings }))
    renameSync(tmp, join(dir, `${key}.json`))
  } catch {
    // A cache that cannot be written is only a slower next start.
  }
}

function fromSpan(s: SourceSpan | undefined): Span4 {
  return s ? [s.line, s.col, s.endLine ?? 0, s.endCol ?? 0] : [1, 1, 0, 0]
}

function toSpan(s: Span4, file: string): SourceSpan {
  return s[2] ? { file, line: s[0], col: s[1], endLine: s[2], endCol: s[3] } : { file, line: s[0], col: s[1] }
}

class Uncacheable extends Error {}

function encode(v: unknown): Enc {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Uncacheable()
    return v
  }
  if (v instanceof YamlReference) return { r: v.path.map(encode), s: fromSpan(v.span) }
  if (Array.isArray(v)) {
    const self = spanOf(v)
    return { a: v.map(encode), ...(self ? { s: fromSpan(self) } : {}), v: v.map((_, i) => spanPair(v, i).value) }
  }
  if (isPlainObject(v)) {
    const keys = Object.keys(v)
    const self = spanOf(v)
    return { o: keys.map((k) => [k, encode(v[k])]), ...(self ? { s: fromSpan(self) } : {}), k: keys.map((k) => spanPair(v, k).key), v: keys.map((k) => spanPair(v, k).value) }
  }
  throw new Uncacheable()
}

/** The recorded key and value spans of one member (0 when none was recorded). */
function spanPair(container: object, key: string | number): { key: Span4 | 0; value: Span4 | 0 } {
  const entry = memberSpans(container, key)
  return { key: entry.key ? fromSpan(entry.key) : 0, value: entry.value ? fromSpan(entry.value) : 0 }
}

function decode(e: Enc, file: string): unknown {
  if (e === null || typeof e !== 'object') return e
  if ('r' in e) return new YamlReference(e.r.map((x) => decode(x, file)), toSpan(e.s, file))
  if ('a' in e) {
    const arr = e.a.map((x) => decode(x, file))
    if (e.s) recordSelf(arr, toSpan(e.s, file))
    e.v.forEach((s, i) => { if (s) recordMember(arr, i, undefined, toSpan(s, file)) })
    return arr
  }
  const obj: Record<string, unknown> = {}
  if (e.s) recordSelf(obj, toSpan(e.s, file))
  e.o.forEach(([k, x], i) => {
    Object.defineProperty(obj, k, { value: decode(x, file), enumerable: true, writable: true, configurable: true })
    const ks = e.k[i]
    const vs = e.v[i]
    if (vs) recordMember(obj, k, ks ? toSpan(ks, file) : undefined, toSpan(vs, file))
  })
  return obj
}

