import { GlrunError } from '../../diagnostics/errors.js'
import { setOwn } from '../yaml/load.js'
import { copyMember, inheritSelf } from '../yaml/positions.js'
import { YamlReference } from '../yaml/reference.js'
import { isPlainObject } from '../model/keywords.js'

/** GitLab resolves `!reference` chains at most 10 deep (`Tags::Reference::MAX_NESTING_LEVELS`). */
const MAX_DEPTH = 10

/**
 * Replaces every `!reference [a, b, ...]` in the config with the value found at that path of the
 * same (extended) config, as GitLab does after `extends`. The referenced value is used as is:
 * a list referenced inside a list stays nested, and the keywords that accept nesting (`script`,
 * `rules`, …) flatten it later, exactly like GitLab.
 */
export function resolveReferences(config: Record<string, unknown>, errors: GlrunError[]): Record<string, unknown> {
  const reported = new Set<YamlReference>()

  const fail = (ref: YamlReference, code: string, message: string, hint: string): undefined => {
    if (!reported.has(ref)) {
      reported.add(ref)
      errors.push(new GlrunError(code, message, { where: ref.span, hint }))
    }
    return undefined
  }

  const lookup = (ref: YamlReference, depth: number, chain: readonly YamlReference[]): unknown => {
    const label = `!reference [${ref.path.map((p) => JSON.stringify(p)).join(', ')}]`
    if (ref.path.length === 0 || ref.path.some((p) => typeof p !== 'string' && typeof p !== 'number')) {
      return fail(ref, 'GLRUN_REFERENCE_INVALID', `${label} is not a valid reference`, 'Write `!reference [job, key, ...]` with plain names, e.g. `!reference [.setup, script]`.')
    }
    if (chain.includes(ref)) {
      return fail(ref, 'GLRUN_REFERENCE_CYCLE', `${label} is part of a circular chain`, 'A reference may not (indirectly) point at itself.')
    }
    if (depth > MAX_DEPTH) {
      return fail(ref, 'GLRUN_REFERENCE_TOO_DEEP', `${label} is nested too deeply`, `References may chain at most ${MAX_DEPTH} levels.`)
    }
    let cur: unknown = config
    for (const [i, key] of ref.path.entries()) {
      if (cur instanceof YamlReference) cur = lookup(cur, depth + 1, [...chain, ref])
      const k = String(key)
      if (!isPlainObject(cur) || !Object.prototype.hasOwnProperty.call(cur, k)) {
        const missing = ref.path.slice(0, i + 1).join('.')
        return fail(ref, 'GLRUN_REFERENCE_NOT_FOUND', `${label} could not be found`, `Nothing is defined at \`${missing}\`; check the job name (hidden jobs start with a dot) and the key.`)
      }
      cur = cur[k]
    }
    return walk(cur, depth + 1, [...chain, ref])
  }

  const walk = (value: unknown, depth: number, chain: readonly YamlReference[]): unknown => {
    if (value instanceof YamlReference) return lookup(value, depth, chain)
    if (Array.isArray(value)) {
      if (!value.some(needsWork)) return value
      const arr = value.map((v) => walk(v, depth, chain))
      inheritSelf(value, arr)
      value.forEach((_, i) => copyMember(value, arr, i))
      return arr
    }
    if (isPlainObject(value)) {
      if (!needsWork(value)) return value
      const obj: Record<string, unknown> = {}
      inheritSelf(value, obj)
      for (const k of Object.keys(value)) {
        setOwn(obj, k, walk(value[k], depth, chain))
        copyMember(value, obj, k)
      }
      return obj
    }
    return value
  }

  return walk(config, 0, []) as Record<string, unknown>
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
