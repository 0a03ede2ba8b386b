import { setOwn } from '../yaml/load.js'
import { copyMember, inheritSelf } from '../yaml/positions.js'
import { isPlainObject } from '../model/keywords.js'

/**
 * GitLab's deep merge (ActiveSupport `Hash#deep_merge`), used by `extends`: mappings merge key by
 * key, recursively; anything else (arrays included) in `over` replaces what is in `base`.
 * Neither input is modified. Source positions follow each key to the side it came from.
 */
export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  inheritSelf(over, out)
  for (const k of Object.keys(base)) {
    setOwn(out, k, base[k])
    copyMember(base, out, k)
  }
  for (const k of Object.keys(over)) {
    const a = out[k]
    const b = over[k]
    if (isPlainObject(a) && isPlainObject(b) && Object.prototype.hasOwnProperty.call(out, k)) {
      setOwn(out, k, deepMerge(a, b))
    } else {
      setOwn(out, k, b)
    }
    copyMember(over, out, k)
  }
  return out
}
