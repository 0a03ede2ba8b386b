import type { SourceSpan } from '../../diagnostics/source.js'

/**
 * Source positions for the plain JS values the compiler works on.
 *
 * Why a side table instead of wrapping every value: the compiler (includes, extends, defaults,
 * !reference) is far simpler over plain objects and arrays. Objects and arrays have identity, so
 * each gets its own span and the spans of its keys and values; scalars are located through the
 * container that holds them. Deep-merge code calls `copyPositions` so merged objects keep pointing
 * at the line each key came from.
 */
interface Entry {
  self: SourceSpan
  keys: Map<string | number, SourceSpan>
  values: Map<string | number, SourceSpan>
}

const table = new WeakMap<object, Entry>()

export function recordSelf(container: object, span: SourceSpan): void {
  table.set(container, { self: span, keys: new Map(), values: new Map() })
}

export function recordMember(container: object, key: string | number, keySpan: SourceSpan | undefined, valueSpan: SourceSpan): void {
  let e = table.get(container)
  if (!e) {
    e = { self: valueSpan, keys: new Map(), values: new Map() }
    table.set(container, e)
  }
  if (keySpan) e.keys.set(key, keySpan)
  e.values.set(key, valueSpan)
}

/** Where a mapping or sequence starts. */
export function spanOf(value: unknown): SourceSpan | undefined {
  return typeof value === 'object' && value !== null ? table.get(value)?.self : undefined
}

/** Where `container[key]`'s value is written. Falls back to the key, then the container. */
export function valueSpan(container: unknown, key: string | number): SourceSpan | undefined {
  if (typeof container !== 'object' || container === null) return undefined
  const e = table.get(container)
  return e?.values.get(key) ?? e?.keys.get(key) ?? e?.self
}

/** Where the key `key` of a mapping is written. */
export function keySpan(container: unknown, key: string | number): SourceSpan | undefined {
  if (typeof container !== 'object' || container === null) return undefined
  const e = table.get(container)
  return e?.keys.get(key) ?? e?.values.get(key) ?? e?.self
}

/** Follows a path of keys from `root`, returning the span of the deepest value that has one. */
export function spanAt(root: unknown, path: readonly (string | number)[]): SourceSpan | undefined {
  let best = spanOf(root)
  let cur: unknown = root
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null) break
    const s = valueSpan(cur, key)
    if (s) best = s
    cur = (cur as Record<string | number, unknown>)[key]
  }
  return best
}

/** Gives `to` the positions of `from`'s key `key` (used when a merge copies one member over). */
export function copyMember(from: object, to: object, key: string | number, toKey: string | number = key): void {
  const src = table.get(from)
  if (!src) return
  let dst = table.get(to)
  if (!dst) {
    dst = { self: src.self, keys: new Map(), values: new Map() }
    table.set(to, dst)
  }
  const k = src.keys.get(key)
  const v = src.values.get(key)
  if (k) dst.keys.set(toKey, k)
  if (v) dst.values.set(toKey, v)
}

/** Gives a fresh container the self-span of another, if it has none yet. */
export function inheritSelf(from: object, to: object): void {
  const src = table.get(from)
  if (!src || table.has(to)) return
  table.set(to, { self: src.self, keys: new Map(), values: new Map() })
}

/** The spans recorded for one member, exactly (no fallbacks): for serialising positions. */
export function memberSpans(container: object, key: string | number): { key?: SourceSpan; value?: SourceSpan } {
  const e = table.get(container)
  const out: { key?: SourceSpan; value?: SourceSpan } = {}
  const k = e?.keys.get(key)
  const v = e?.values.get(key)
  if (k) out.key = k
  if (v) out.value = v
  return out
}
