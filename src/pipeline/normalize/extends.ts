import { GlrunError } from '../../diagnostics/errors.js'
import { setOwn } from '../yaml/load.js'
import { copyMember, inheritSelf, keySpan, valueSpan } from '../yaml/positions.js'
import { GLOBAL_KEYWORDS, isPlainObject } from '../model/keywords.js'
import { deepMerge } from './deep-merge.js'
import { closest } from '../../diagnostics/did-you-mean.js'

/** GitLab's `Extendable::Entry::MAX_NESTING_LEVELS`: a job may sit 10 `extends` below its root. */
const MAX_NESTING = 10

/**
 * Resolves `extends:` for every job (GitLab: after includes, before `!reference`). Parents merge
 * left to right, later parents win, the job itself wins over all; mappings deep-merge and arrays
 * are replaced. Errors use GitLab's wording and point at the `extends` entry.
 */
export function resolveExtends(config: Record<string, unknown>, errors: GlrunError[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  inheritSelf(config, out)
  // A resolved job and the longest chain of jobs with `extends` that starts at it (itself
  // first): a later job reaching it through a chain of its own adds its depth to that chain.
  const done = new Map<string, { job: Record<string, unknown>; chain: readonly string[] }>()
  const failed = new Set<string>()

  /**
   * GitLab re-resolves every parent for every job, so whether a chain is too deep never depends
   * on which job is written first. glrun resolves each job once, so the depth check is made on
   * the longest chain below a job, cached or not: a job with `extends` may sit at most 10 below
   * the job being built (GitLab counts its ancestors).
   */
  const tooDeep = (name: string, chain: readonly string[], below: readonly string[]): boolean => {
    if (chain.length + below.length - 1 <= MAX_NESTING) return false
    // The first job of the chain with more than MAX_NESTING ancestors is the one GitLab names.
    const deep = below[MAX_NESTING + 1 - chain.length] ?? name
    const job = config[deep]
    const where = (isPlainObject(job) ? valueSpan(job, 'extends') : undefined) ?? keySpan(config, deep)
    errors.push(new GlrunError('GLRUN_EXTENDS_TOO_DEEP', `${deep}: nesting too deep in \`extends\``, {
      where, hint: `GitLab allows at most ${MAX_NESTING + 1} levels of \`extends\`; flatten the chain ${[...chain, ...below].join(' → ')}.`,
    }))
    return true
  }

  const resolve = (name: string, chain: string[]): Record<string, unknown> | undefined => {
    const cached = done.get(name)
    if (cached) return tooDeep(name, chain, cached.chain) ? undefined : cached.job
    if (failed.has(name)) return undefined
    const job = config[name]
    if (!isPlainObject(job)) return undefined
    const ext = job['extends']
    if (ext === undefined || ext === null) {
      done.set(name, { job, chain: [] })
      return job
    }
    const where = valueSpan(job, 'extends') ?? keySpan(config, name)
    const parents = typeof ext === 'string' ? [ext] : Array.isArray(ext) ? ext : undefined
    if (!parents || parents.some((p) => typeof p !== 'string')) {
      failed.add(name)
      errors.push(new GlrunError('GLRUN_EXTENDS_INVALID', `${name}: invalid base hashes in \`extends\``, {
        where, hint: '`extends:` takes a job name or a list of job names.',
      }))
      return undefined
    }
    const unknown = (parents as string[]).filter((p) => GLOBAL_KEYWORDS.has(p) || !Object.prototype.hasOwnProperty.call(config, p))
    if (unknown.length > 0) {
      failed.add(name)
      errors.push(new GlrunError('GLRUN_EXTENDS_UNKNOWN', `${name}: unknown keys in \`extends\` (${unknown.join(', ')})`, {
        where, hint: suggestJob(unknown[0]!, config) ?? 'Every name in `extends:` must be a job or hidden job (`.name`) defined in this pipeline or an included file.',
      }))
      return undefined
    }
    const notHash = (parents as string[]).filter((p) => !isPlainObject(config[p]))
    if (notHash.length > 0) {
      failed.add(name)
      errors.push(new GlrunError('GLRUN_EXTENDS_INVALID', `${name}: invalid base hashes in \`extends\` (${notHash.join(', ')})`, {
        where, hint: 'A job can only extend a mapping (a job or hidden job), not a list or a value.',
      }))
      return undefined
    }
    if (chain.length > MAX_NESTING) {
      tooDeep(name, chain, [name])
      return undefined
    }
    if (chain.includes(name)) {
      failed.add(name)
      errors.push(new GlrunError('GLRUN_EXTENDS_CYCLE', `${name}: circular dependency detected in \`extends\``, {
        where, hint: `The chain ${[...chain.slice(chain.indexOf(name)), name].join(' → ')} loops; remove one of the links.`,
      }))
      return undefined
    }
    let merged: Record<string, unknown> = {}
    let longest: readonly string[] = []
    for (const p of parents as string[]) {
      const base = resolve(p, [...chain, name])
      if (!base) {
        failed.add(name)
        return undefined
      }
      const below = done.get(p)?.chain ?? []
      if (below.length > longest.length) longest = below
      merged = deepMerge(merged, base)
    }
    const result = deepMerge(merged, job)
    done.set(name, { job: result, chain: [name, ...longest] })
    return result
  }

  for (const key of Object.keys(config)) {
    const value = config[key]
    if (GLOBAL_KEYWORDS.has(key) || !isPlainObject(value)) {
      setOwn(out, key, value)
    } else {
      setOwn(out, key, resolve(key, []) ?? value)
    }
    copyMember(config, out, key)
  }
  return out
}

/** A did-you-mean hint for a mistyped job name, or undefined when nothing is close. */
export function suggestJob(name: string, config: Record<string, unknown>): string | undefined {
  const best = closest(name, Object.keys(config).filter((k) => !GLOBAL_KEYWORDS.has(k)))
  return best ? `did you mean "${best}"?` : undefined
}
