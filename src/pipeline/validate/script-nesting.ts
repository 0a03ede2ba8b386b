import { GlrunError } from '../../diagnostics/errors.js'
import { GLOBAL_KEYWORDS, isHidden, isPlainObject } from '../model/keywords.js'
import { keySpan, valueSpan } from '../yaml/positions.js'

export const SCRIPT_KEYWORDS = ['script', 'before_script', 'after_script'] as const

/**
 * GitLab's `Entry::Commands` (script) and `Entry::Script` (before_script, after_script) accept
 * lists nested up to `MAX_NESTING_LEVEL = 10` levels, the outer list included, and flatten them:
 * that is what a `!reference` to a script that itself holds a `!reference` produces. The editor
 * schema allows two levels, so scripts are validated flattened and their depth is checked here.
 */
export const MAX_SCRIPT_NESTING = 10

export function validateScriptNesting(config: Record<string, unknown>, errors: GlrunError[]): void {
  const check = (path: string, owner: Record<string, unknown>, key: string): void => {
    const value = owner[key]
    if (!Array.isArray(value) || depth(value) <= MAX_SCRIPT_NESTING) return
    const shape = key === 'script' ? 'a string or a nested array of strings' : 'an array of strings or a nested array of strings'
    errors.push(new GlrunError('GLRUN_SCRIPT_TOO_DEEP', `${path} config should be ${shape} up to ${MAX_SCRIPT_NESTING} levels deep`, {
      where: valueSpan(owner, key) ?? keySpan(owner, key),
      hint: `This list nests ${depth(value)} levels (counting the outer list); flatten it, or shorten the chain of \`!reference\`s that builds it.`,
    }))
  }
  for (const key of ['before_script', 'after_script']) check(key, config, key)
  for (const [name, entry] of Object.entries(config)) {
    if (!isPlainObject(entry) || (GLOBAL_KEYWORDS.has(name) && name !== 'default') || isHidden(name)) continue
    const path = name === 'default' ? 'default' : `jobs:${name}`
    for (const key of SCRIPT_KEYWORDS) check(`${path}:${key}`, entry, key)
  }
}

/** How many lists deep a value goes: "x" is 0, ["x"] is 1, [["x"]] is 2. */
function depth(v: unknown): number {
  return Array.isArray(v) ? 1 + v.reduce<number>((m, x) => Math.max(m, depth(x)), 0) : 0
}
