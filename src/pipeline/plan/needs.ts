import { GlrunError } from '../../diagnostics/errors.js'
import type { SourceSpan } from '../../diagnostics/source.js'
import type { NeedSpec } from '../model/job.js'
import { closest } from '../../diagnostics/did-you-mean.js'
import { cartesian } from './matrix.js'

/** What the needs/dependencies resolver knows of every job defined in the config. */
export interface JobIndexEntry {
  /** The name written in the YAML (before parallel expansion). */
  base: string
  stage: string
  stageIndex: number
  /** Instance names after parallel expansion, with their matrix values. */
  instances: { name: string; matrix?: Record<string, string> }[]
}

export interface ResolvedNeed {
  job: string
  artifacts: boolean
  optional: boolean
}

/**
 * `$[[ matrix.NAME ]]` in a needs:parallel:matrix value: this job's own matrix value. The name
 * grammar is GitLab's MatrixInterpolator's (`[a-zA-Z0-9_-]+`), so `matrix.MY-VAR` is one too.
 */
const MATRIX_EXPRESSION = /\$\[\[\s*matrix\.([a-zA-Z0-9_-]+)\s*\]\]/g

/**
 * Turns `needs:` entries into concrete instance names, as GitLab's config normalizer does:
 * needing a parallel job means needing all its instances; `needs:parallel:matrix` picks some.
 * Static checks use GitLab's wording ("undefined need", "is not defined in current or prior
 * stages"). Needs on other pipelines/projects cannot run locally: reported once as a warning.
 */
export function resolveNeeds(
  jobName: string,
  stageIndex: number,
  needs: readonly NeedSpec[],
  index: ReadonlyMap<string, JobIndexEntry>,
  where: SourceSpan | undefined,
  errors: GlrunError[],
  selfMatrix?: Readonly<Record<string, string>>,
): ResolvedNeed[] {
  const out: ResolvedNeed[] = []
  const seen = new Set<string>()
  for (const need of needs) {
    if (need.external) {
      const what = need.external.project ? `project "${need.external.project}"` : `pipeline "${need.external.pipeline}"`
      errors.push(new GlrunError('GLRUN_NEEDS_EXTERNAL', `${jobName} job: needs job "${need.job}" from ${what}, which glrun cannot fetch in a local run`, {
        where, severity: 'warning', hint: 'The need is ignored locally; its artifacts will be missing. Run the job in GitLab, or provide the files another way.',
      }))
      continue
    }
    const target = index.get(need.job)
    if (!target) {
      if (need.optional) continue
      const guess = closest(need.job, [...index.keys()])
      errors.push(new GlrunError('GLRUN_NEEDS_UNDEFINED', `${jobName} job: undefined need: ${need.job}`, {
        where, hint: guess ? `did you mean "${guess}"?` : 'Every job listed in `needs:` must be defined in this pipeline (hidden jobs cannot be needed).',
      }))
      continue
    }
    if (target.stageIndex > stageIndex) {
      errors.push(new GlrunError('GLRUN_NEEDS_LATER_STAGE', `${jobName} job: need ${need.job} is not defined in current or prior stages`, {
        where, hint: `"${need.job}" is in stage "${target.stage}", which runs after this job's stage; move one of them, or drop the need.`,
      }))
      continue
    }
    let picked = target.instances
    if (need.matrix) {
      // `$[[ matrix.NAME ]]` is this job's own matrix value (1:1 needs between matrix jobs).
      const own = (v: string): string => v.replace(MATRIX_EXPRESSION, (m, k: string) => selfMatrix?.[k] ?? m)
      const wanted = need.matrix.flatMap((m) => cartesian(m)).map((c) => Object.fromEntries(Object.entries(c).map(([k, v]) => [k, own(v)])))
      picked = target.instances.filter((inst) => wanted.some((w) => inst.matrix && Object.entries(w).every(([k, v]) => inst.matrix![k] === v)))
      if (picked.length === 0) {
        // GitLab names the needed instances from the selector and drops the ones that do not
        // exist when the need is optional (validate_job_dependency!), so nothing is needed then.
        if (need.optional) continue
        errors.push(new GlrunError('GLRUN_NEEDS_MATRIX', `${jobName} job: need ${need.job} has no instance matching the given parallel:matrix`, {
          where, hint: `Available instances: ${target.instances.map((i) => `"${i.name}"`).join(', ')}.`,
        }))
        continue
      }
    }
    for (const inst of picked) {
      if (seen.has(inst.name)) continue
      seen.add(inst.name)
      out.push({ job: inst.name, artifacts: need.artifacts, optional: need.optional })
    }
  }
  return out
}

/** Same for `dependencies:`: names must be in strictly earlier stages. */
export function resolveDependencies(
  jobName: string,
  stageIndex: number,
  deps: readonly string[],
  index: ReadonlyMap<string, JobIndexEntry>,
  where: SourceSpan | undefined,
  errors: GlrunError[],
  needsNames: ReadonlySet<string> | undefined,
): string[] {
  const out: string[] = []
  for (const dep of deps) {
    const target = index.get(dep)
    if (!target) {
      const guess = closest(dep, [...index.keys()])
      errors.push(new GlrunError('GLRUN_DEPENDENCY_UNDEFINED', `${jobName} job: undefined dependency: ${dep}`, {
        where, hint: guess ? `did you mean "${guess}"?` : 'Every job listed in `dependencies:` must be defined in this pipeline.',
      }))
      continue
    }
    const inNeeds = needsNames?.has(dep) ?? false
    if (!inNeeds && target.stageIndex >= stageIndex) {
      errors.push(new GlrunError('GLRUN_DEPENDENCY_LATER_STAGE', `${jobName} job: dependency ${dep} is not defined in current or prior stages`, {
        where, hint: `"${dep}" is in stage "${target.stage}"; a job can only take artifacts from jobs of earlier stages (or from jobs it \`needs\`).`,
      }))
      continue
    }
    for (const inst of target.instances) out.push(inst.name)
  }
  return out
}

/** Finds a cycle in the needs graph; returns its path (a → b → a) or undefined. */
export function findNeedsCycle(edges: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 1 | 2>()
  const stack: string[] = []
  const visit = (n: string): string[] | undefined => {
    const s = state.get(n)
    if (s === 2) return undefined
    if (s === 1) return [...stack.slice(stack.indexOf(n)), n]
    state.set(n, 1)
    stack.push(n)
    for (const m of edges.get(n) ?? []) {
      const c = visit(m)
      if (c) return c
    }
    stack.pop()
    state.set(n, 2)
    return undefined
  }
  for (const n of edges.keys()) {
    const c = visit(n)
    if (c) return c
  }
  return undefined
}
