import { GlrunError } from '../../diagnostics/errors.js'
import { setOwn } from '../yaml/load.js'
import { copyMember, inheritSelf } from '../yaml/positions.js'
import { YamlReference } from '../yaml/reference.js'
import { isPlainObject } from '../model/keywords.js'

/** `!reference` chains may nest 10 deep below the first (GitLab's documented limit). */
const MAX_DEPTH = 10

/**
 * The most values the configuration may hold once every `!reference` is replaced. References are
 * resolved once each and their values shared, so ten levels of ten references each cost a
 * hundred lookups — but the configuration they describe holds 10^10 values, which every later
 * step (validation, `script` flattening, payloads) would walk. GitLab's own limit on one parsed
 * file is ~50,000 Ruby objects (2 MiB); a million leaves every real pipeline plenty of room.
 */
export const MAX_RESOLVED_VALUES = 1_000_000

interface Resolved {
  readonly value: unknown
  /** The longest chain of references this value was built through (0: none). */
  readonly height: number
}

/**
 * Replaces every `!reference [a, b, ...]` in the config with the value found at that path of the
 * same (extended) config, as GitLab does after `extends`. The referenced value is used as is:
 * a list referenced inside a list stays nested, and the keywords that accept nesting (`script`,
 * `rules`, …) flatten it later, exactly like GitLab.
 *
 * Like GitLab's resolver, each reference is resolved once and a reference met again while it is
 * being resolved is a cycle; so the work is linear in the file, whatever the nesting. What the
 * references expand to is measured before anything walks it: over MAX_RESOLVED_VALUES, the
 * references are reported and left out instead of a "billion laughs" taking the machine.
 */
export function resolveReferences(config: Record<string, unknown>, errors: GlrunError[]): Record<string, unknown> {
  const reported = new Set<YamlReference>()
  const done = new Map<YamlReference, Resolved>()
  const inProgress = new Set<YamlReference>()
  const copies = new WeakMap<object, Resolved>()
  const failed: Resolved = { value: undefined, height: 0 }

  const fail = (ref: YamlReference, code: string, message: string, hint: string): Resolved => {
    if (!reported.has(ref)) {
      reported.add(ref)
      errors.push(new GlrunError(code, message, { where: ref.span, hint }))
    }
    return failed
  }

  const lookup = (ref: YamlReference): Resolved => {
    const known = done.get(ref)
    if (known) return known
    const label = labelOf(ref)
    if (ref.path.length === 0 || ref.path.some((p) => typeof p !== 'string' && typeof p !== 'number')) {
      return fail(ref, 'GLRUN_REFERENCE_INVALID', `${label} is not a valid reference`, 'Write `!reference [job, key, ...]` with plain names, e.g. `!reference [.setup, script]`.')
    }
    if (inProgress.has(ref)) {
      return fail(ref, 'GLRUN_REFERENCE_CYCLE', `${label} is part of a circular chain`, 'A reference may not (indirectly) point at itself.')
    }
    inProgress.add(ref)
    const result = follow(ref, label)
    inProgress.delete(ref)
    done.set(ref, result)
    return result
  }

  const follow = (ref: YamlReference, label: string): Resolved => {
    let cur: unknown = config
    let height = 0
    for (const [i, key] of ref.path.entries()) {
      if (cur instanceof YamlReference) {
        const inner = lookup(cur)
        height = Math.max(height, inner.height)
        cur = inner.value
      }
      const k = String(key)
      if (!isPlainObject(cur) || !Object.prototype.hasOwnProperty.call(cur, k)) {
        const missing = ref.path.slice(0, i + 1).join('.')
        return fail(ref, 'GLRUN_REFERENCE_NOT_FOUND', `${label} could not be found`, `Nothing is defined at \`${missing}\`; check the job name (hidden jobs start with a dot) and the key.`)
      }
      cur = cur[k]
    }
    const target = walk(cur)
    height = Math.max(height, target.height) + 1
    if (height > MAX_DEPTH + 1) {
      return fail(ref, 'GLRUN_REFERENCE_TOO_DEEP', `${label} is nested too deeply`, `References may chain at most ${MAX_DEPTH} levels below the first.`)
    }
    return { value: target.value, height }
  }

  /** A copy of `value` with its references resolved; subtrees without any are shared as they are. */
  const walk = (value: unknown): Resolved => {
    if (value instanceof YamlReference) return lookup(value)
    if (typeof value !== 'object' || value === null || !needsWork(value)) return { value, height: 0 }
    const known = copies.get(value)
    if (known) return known
    let height = 0
    let out: unknown
    if (Array.isArray(value)) {
      const arr = value.map((v) => {
        const r = walk(v)
        height = Math.max(height, r.height)
        return r.value
      })
      inheritSelf(value, arr)
      value.forEach((_, i) => copyMember(value, arr, i))
      out = arr
    } else {
      const obj: Record<string, unknown> = {}
      inheritSelf(value, obj)
      for (const k of Object.keys(value)) {
        const r = walk((value as Record<string, unknown>)[k])
        height = Math.max(height, r.height)
        setOwn(obj, k, r.value)
        copyMember(value, obj, k)
      }
      out = obj
    }
    const result = { value: out, height }
    copies.set(value, result)
    return result
  }

  const resolved = walk(config).value as Record<string, unknown>
  if (countValues(resolved, MAX_RESOLVED_VALUES) <= MAX_RESOLVED_VALUES) return resolved
  // Shared values make the result a graph far smaller than the tree it stands for: report the
  // references that expand the most and go on without any reference resolved.
  const worst = [...done.entries()].filter(([, r]) => r !== failed).sort((a, b) => countValues(b[1].value, Infinity) - countValues(a[1].value, Infinity))[0]
  const where = worst?.[0].span
  errors.push(new GlrunError('GLRUN_REFERENCE_TOO_LARGE', `${worst ? labelOf(worst[0]) : '!reference'} expands the configuration to more than ${MAX_RESOLVED_VALUES.toLocaleString('en-US')} values`, {
    ...(where ? { where } : {}),
    hint: 'References that repeat other references multiply: this pipeline would hold more values than any CI configuration could load. Reference the value once, or use `extends:`.',
  }))
  return stripReferences(config) as Record<string, unknown>
}

function labelOf(ref: YamlReference): string {
  return `!reference [${ref.path.map((p) => JSON.stringify(p)).join(', ')}]`
}

const sizes = new WeakMap<object, number>()

/**
 * How many values `value` stands for when written out as a tree (shared parts counted each time
 * they appear), computed once per object so a graph of shared values costs its own size; the
 * count stops growing past `limit`.
 */
function countValues(value: unknown, limit: number): number {
  if (typeof value !== 'object' || value === null) return 1
  const known = sizes.get(value)
  if (known !== undefined) return known
  let n = 1
  for (const v of Array.isArray(value) ? value : Object.values(value)) {
    n += countValues(v, limit)
    if (n > limit) break
  }
  const result = Math.min(n, limit + 1)
  if (limit === Infinity || n <= limit) sizes.set(value, result)
  return result
}

/** The config with every reference replaced by null (after the references were refused). */
function stripReferences(value: unknown): unknown {
  if (value instanceof YamlReference) return null
  if (typeof value !== 'object' || value === null || !needsWork(value)) return value
  if (Array.isArray(value)) {
    const arr = value.map(stripReferences)
    inheritSelf(value, arr)
    value.forEach((_, i) => copyMember(value, arr, i))
    return arr
  }
  const obj: Record<string, unknown> = {}
  inheritSelf(value, obj)
  for (const k of Object.keys(value)) {
    setOwn(obj, k, stripReferences((value as Record<string, unknown>)[k]))
    copyMember(value, obj, k)
  }
  return obj
}

const hasRef = new WeakMap<object, boolean>()

/** Whether a subtree holds any reference; memoised so clean subtrees are shared, not copied. */
function needsWork(value: unknown): boolean {
  if (value instanceof YamlReference) return true
  if (typeof value !== 'object' || value === null) return false
  const known = hasRef.get(value)
  if (known !== undefined) return known
  const result = Array.isArray(value) ? value.some(needsWork) : Object.values(value).some(needsWork)
  hasRef.set(value, result)
  return result
}
