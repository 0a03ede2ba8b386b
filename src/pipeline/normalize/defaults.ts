import { setOwn } from '../yaml/load.js'
import { copyMember, inheritSelf } from '../yaml/positions.js'
import { DEFAULT_KEYS, LEGACY_DEFAULT_KEYS, isPlainObject } from '../model/keywords.js'

/**
 * Applies `default:` (and the deprecated top-level image/services/cache/before_script/
 * after_script) to one job, honouring `inherit:default`. A job's own value always replaces the
 * default, never merges with it (so `before_script: []` clears it).
 */
export function applyDefaults(job: Record<string, unknown>, config: Record<string, unknown>): Record<string, unknown> {
  const defaults = collectDefaults(config)
  const allowed = inheritList(job, 'default')
  const out: Record<string, unknown> = {}
  inheritSelf(job, out)
  for (const k of Object.keys(job)) {
    setOwn(out, k, job[k])
    copyMember(job, out, k)
  }
  for (const [key, { value, from }] of defaults) {
    if (Object.prototype.hasOwnProperty.call(job, key)) continue
    if (allowed !== true && (allowed === false || !allowed.includes(key))) continue
    setOwn(out, key, value)
    copyMember(from, out, key)
  }
  return out
}

type DefaultEntry = { value: unknown; from: Record<string, unknown> }

const memo = new WeakMap<object, Map<string, DefaultEntry>>()

function collectDefaults(config: Record<string, unknown>): Map<string, DefaultEntry> {
  const hit = memo.get(config)
  if (hit) return hit
  const map = new Map<string, DefaultEntry>()
  for (const key of LEGACY_DEFAULT_KEYS) {
    if (config[key] !== undefined && config[key] !== null) map.set(key, { value: config[key], from: config })
  }
  const def = config['default']
  if (isPlainObject(def)) {
    for (const key of DEFAULT_KEYS) {
      if (Object.prototype.hasOwnProperty.call(def, key)) map.set(key, { value: def[key], from: def })
    }
  }
  memo.set(config, map)
  return map
}

/**
 * Reads `inherit:default` or `inherit:variables`: true (everything), false (nothing) or a list
 * of the names to take.
 */
export function inheritList(job: Record<string, unknown>, which: 'default' | 'variables'): boolean | string[] {
  const inherit = job['inherit']
  if (!isPlainObject(inherit)) return true
  const v = inherit[which]
  if (v === false) return false
  if (Array.isArray(v)) return v.map(String)
  return true
}
