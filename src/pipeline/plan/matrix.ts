import { GlrunError } from '../../diagnostics/errors.js'
import type { SourceSpan } from '../../diagnostics/source.js'
import { isPlainObject } from '../model/keywords.js'
import { scalarString } from '../model/job.js'

/** One concrete job made from a `parallel:` job (or the job itself when it has none). */
export interface Instance {
  name: string
  /** Variables the instance adds: the matrix values, CI_NODE_INDEX, CI_NODE_TOTAL. */
  variables: { key: string; value: string }[]
  /** The matrix values, for `needs:parallel:matrix` selection. */
  matrix?: Record<string, string>
}

/** GitLab's limit for `parallel` and for the instances of one `parallel:matrix`. */
export const MAX_PARALLEL = 200

/**
 * Expands `parallel: N` into "job 1/N" … and `parallel:matrix` into "job: [v1, v2]" instances,
 * named exactly as GitLab names them (values in the order the variables are written). GitLab's
 * NumberStrategy expands `parallel: 1` too ("job 1/1", CI_NODE_INDEX=1), and every job has
 * CI_NODE_TOTAL (`ci_node_total_value`: the parallel total, else 1).
 */
export function expandParallel(name: string, parallel: unknown, where: SourceSpan | undefined, errors: GlrunError[]): Instance[] {
  const single = (): Instance[] => [{ name, variables: [{ key: 'CI_NODE_TOTAL', value: '1' }] }]
  if (parallel === undefined || parallel === null) return single()
  if (typeof parallel === 'number') {
    if (!Number.isInteger(parallel) || parallel < 1 || parallel > MAX_PARALLEL) {
      errors.push(new GlrunError('GLRUN_PARALLEL_RANGE', `jobs:${name}:parallel should be an integer between 1 and ${MAX_PARALLEL}`, { where, hint: 'Use a number of copies between 1 and 200.' }))
      return single()
    }
    return Array.from({ length: parallel }, (_, i) => ({
      name: `${name} ${i + 1}/${parallel}`,
      variables: [{ key: 'CI_NODE_INDEX', value: String(i + 1) }, { key: 'CI_NODE_TOTAL', value: String(parallel) }],
    }))
  }
  if (!isPlainObject(parallel) || !Array.isArray(parallel['matrix'])) return single()
  const combos = parallel['matrix'].flatMap((entry) => (isPlainObject(entry) ? cartesian(entry) : []))
  if (combos.length > MAX_PARALLEL) {
    errors.push(new GlrunError('GLRUN_PARALLEL_RANGE', `jobs:${name}:parallel:matrix generates too many jobs (maximum is ${MAX_PARALLEL})`, { where, hint: `This matrix expands to ${combos.length} jobs; split it into several jobs.` }))
    return single()
  }
  const total = combos.length
  return combos.map((combo, i) => ({
    name: `${name}: [${Object.values(combo).join(', ')}]`,
    variables: [
      ...Object.entries(combo).map(([key, value]) => ({ key, value })),
      { key: 'CI_NODE_INDEX', value: String(i + 1) },
      { key: 'CI_NODE_TOTAL', value: String(total) },
    ],
    matrix: combo,
  }))
}

/** `{A: [1, 2], B: x}` → `[{A: 1, B: x}, {A: 2, B: x}]`, keys kept in written order. */
export function cartesian(entry: Record<string, unknown>): Record<string, string>[] {
  let acc: Record<string, string>[] = [{}]
  for (const [key, raw] of Object.entries(entry)) {
    const values = Array.isArray(raw) ? raw.map(scalarString) : [scalarString(raw)]
    const next: Record<string, string>[] = []
    for (const partial of acc) for (const v of values) next.push({ ...partial, [key]: v })
    acc = next
  }
  return acc
}
