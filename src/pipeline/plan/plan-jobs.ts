import { GlrunError } from '../../diagnostics/errors.js'
import type { SourceSpan } from '../../diagnostics/source.js'
import type { PipelineContext } from '../context/types.js'
import { parseDuration } from '../model/duration.js'
import {
  type AllowFailure, type NeedSpec, type When, type YamlVariable,
  flattenRules, flattenStrings, readAllowFailure, readNeeds, readRetry, readVariables, readWhen, scalarString,
} from '../model/job.js'
import { isPlainObject } from '../model/keywords.js'
import { applyDefaults, inheritList } from '../normalize/defaults.js'
import { closest } from '../../diagnostics/did-you-mean.js'
import type { FilesDigest } from '../payload/cache.js'
import { type IdSource, toPayload } from '../payload/to-payload.js'
import type { JobPayload } from '../../payload/types.js'
import { type RuleMatch, evaluateOnlyExcept, evaluateRules } from '../rules/index.js'
import { expandCollection, expandExisting } from '../variables/expand.js'
import { coverageError } from '../validate/coverage.js'
import { keySpan, valueSpan } from '../yaml/positions.js'
import { type Instance, expandParallel } from './matrix.js'
import { type JobIndexEntry, type ResolvedNeed, findNeedsCycle, resolveDependencies, resolveNeeds } from './needs.js'
import type { ExcludedJob, JobSource, PlannedJob } from './types.js'

/** GitLab's default job timeout when neither the job nor the project sets one. */
export const DEFAULT_TIMEOUT_SECONDS = 3600

export interface PlanInput {
  config: Record<string, unknown>
  stages: readonly string[]
  visible: readonly string[]
  /** The root variables: global `variables:` with workflow:rules:variables merged over them. */
  globalVariables: readonly YamlVariable[]
  pipelineName?: string
  ctx: PipelineContext
  errors: GlrunError[]
  /** Jobs with schema errors already reported: no further shape checks. */
  faulted?: ReadonlySet<string>
  ids: IdSource
  digest: FilesDigest
}

/** A job instance that passed its rules, before ids and payloads are assigned. */
interface Candidate {
  name: string
  base: string
  order: number
  stage: string
  stageIndex: number
  job: Record<string, unknown>
  instance: Instance
  jobVariables: YamlVariable[]
  globals: YamlVariable[]
  match: RuleMatch
  when: Exclude<When, 'never'>
  allowFailure: AllowFailure
  needs: NeedSpec[] | undefined
  span: SourceSpan | undefined
  /** The job's variables as its rules saw them (GitLab-side expansion). */
  vars: (name: string) => string | undefined
}

export interface PlanOutput {
  jobs: PlannedJob[]
  excluded: ExcludedJob[]
  /** Every job defined (visible and hidden), for explanations when the pipeline is not created. */
  all: ExcludedJob[]
}

/** Defaults, parallel expansion, rules, needs and payloads for every visible job. */
export function planJobs(input: PlanInput): PlanOutput {
  const { config, stages, errors } = input
  const index = new Map<string, JobIndexEntry>()
  const candidates: Candidate[] = []
  const excluded: ExcludedJob[] = []
  const all: ExcludedJob[] = []
  let order = 0
  const seenNames = new Set<string>()

  for (const key of Object.keys(config)) {
    if (!key.startsWith('.') || !isPlainObject(config[key])) continue
    const hidden: ExcludedJob = { name: key, stage: '', reason: 'hidden job (its name starts with a dot): never runs, used by extends/!reference', hidden: true, span: keySpan(config, key) }
    all.push(hidden)
    excluded.push(hidden)
  }

  for (const name of input.visible) {
    const raw = config[name]
    const span = keySpan(config, name)
    if (!isPlainObject(raw)) {
      errors.push(new GlrunError('GLRUN_JOB_NOT_HASH', `jobs:${name} config should be a hash`, { where: span, hint: 'A job is a mapping with at least a `script:`.' }))
      continue
    }
    const job = applyDefaults(raw, config)
    const stage = job['stage'] === undefined || job['stage'] === null ? 'test' : scalarString(job['stage'])
    const stageIndex = stages.indexOf(stage)
    if (stageIndex < 0) {
      const guess = closest(stage, stages)
      errors.push(new GlrunError('GLRUN_STAGE_UNKNOWN', `${name} job: chosen stage ${stage} does not exist; available stages are ${stages.join(', ')}`, {
        where: valueSpan(raw, 'stage') ?? span,
        hint: guess ? `did you mean "${guess}"? Otherwise add "${stage}" to \`stages:\`.` : `Add "${stage}" to \`stages:\`, or use one of the stages listed.`,
      }))
      continue
    }
    if (!input.faulted?.has(name)) checkJobShape(name, raw, job, span, errors)
    const coverage = coverageError(name, job, span)
    if (coverage) errors.push(coverage)
    const instances = expandParallel(name, job['parallel'], valueSpan(job, 'parallel') ?? span, errors)
    index.set(name, { base: name, stage, stageIndex, instances: instances.map((i) => ({ name: i.name, ...(i.matrix ? { matrix: i.matrix } : {}) })) })

    const jobVariables = readVariables(job['variables'])
    const globals = inheritedGlobals(job, input.globalVariables)
    for (const instance of instances) {
      if (seenNames.has(instance.name)) {
        errors.push(new GlrunError('GLRUN_JOB_DUPLICATE', `jobs:${name}:parallel:matrix produces the job name "${instance.name}" more than once`, {
          where: valueSpan(job, 'parallel') ?? span, hint: 'Each matrix combination must be unique; remove the repeated values.',
        }))
        continue
      }
      seenNames.add(instance.name)
      const candidate = evaluateInstance({ name: instance.name, base: name, order: order++, stage, stageIndex, job, instance, jobVariables, globals, span }, input)
      if ('reason' in candidate) {
        excluded.push(candidate)
        all.push(candidate)
      } else {
        candidates.push(candidate)
        all.push({ name: candidate.name, stage, reason: candidate.match.reason, hidden: false, span })
      }
    }
  }
  for (const name of index.keys()) {
    // Matrix/parallel instances may also be named directly in needs/dependencies.
    for (const inst of index.get(name)!.instances) {
      if (!index.has(inst.name)) index.set(inst.name, { ...index.get(name)!, base: inst.name, instances: [inst] })
    }
  }
  return { jobs: finish(candidates, index, input), excluded, all }
}

function inheritedGlobals(job: Record<string, unknown>, globals: readonly YamlVariable[]): YamlVariable[] {
  const allow = inheritList(job, 'variables')
  if (allow === true) return [...globals]
  if (allow === false) return []
  return globals.filter((v) => allow.includes(v.key))
}

function checkJobShape(name: string, raw: Record<string, unknown>, job: Record<string, unknown>, span: SourceSpan | undefined, errors: GlrunError[]): void {
  const hasScript = job['script'] !== undefined && job['script'] !== null
  if (!hasScript && job['trigger'] === undefined && job['run'] === undefined && !(name === 'pages' && job['pages'] !== undefined)) {
    errors.push(new GlrunError('GLRUN_JOB_NO_SCRIPT', `jobs:${name} config should implement the script:, run:, or trigger: keyword`, {
      where: span, hint: 'Give the job a `script:` (the commands it runs), or make it a hidden job by starting its name with a dot.',
    }))
  } else if (hasScript && flattenStrings(job['script']).length === 0 && job['trigger'] === undefined) {
    errors.push(new GlrunError('GLRUN_JOB_EMPTY_SCRIPT', `jobs:${name}:script config should be an array containing strings and arrays of strings`, {
      where: valueSpan(job, 'script') ?? span, hint: 'The script must contain at least one command.',
    }))
  }
  if (raw['rules'] !== undefined && raw['rules'] !== null && (raw['only'] !== undefined || raw['except'] !== undefined)) {
    const keys = ['only', 'except'].filter((k) => raw[k] !== undefined)
    errors.push(new GlrunError('GLRUN_RULES_WITH_ONLY', `jobs:${name} config key may not be used with \`rules\`: ${keys.join(', ')}`, {
      where: keySpan(raw, keys[0]!) ?? span, hint: 'Use either `rules:` or `only:`/`except:` in a job, not both; `rules:` is the current form.',
    }))
  }
  if (job['when'] === 'delayed' && job['start_in'] === undefined) {
    errors.push(new GlrunError('GLRUN_DELAYED_NO_START_IN', `jobs:${name} start in should be specified for delayed job`, {
      where: valueSpan(job, 'when') ?? span, hint: 'Add `start_in:` (e.g. `start_in: 30 minutes`) to a `when: delayed` job.',
    }))
  }
}

type InstanceInput = Pick<Candidate, 'name' | 'base' | 'order' | 'stage' | 'stageIndex' | 'job' | 'instance' | 'jobVariables' | 'globals' | 'span'>

function evaluateInstance(c: InstanceInput, input: PlanInput): Candidate | ExcludedJob {
  const { ctx } = input
  const expanded = expandCollection([
    ...ctx.predefined,
    { key: 'CI_JOB_NAME', value: c.name },
    { key: 'CI_JOB_STAGE', value: c.stage },
    ...c.globals,
    ...c.jobVariables,
    ...c.instance.variables,
    ...ctx.userVariables,
  ])
  const vars = (n: string): string | undefined => expanded.get(n)
  const env = { vars, ctx, expand: (s: string) => expandExisting(s, vars) }
  const rules = flattenRules(c.job['rules'])
  const match = rules !== undefined ? evaluateRules(rules, env) : evaluateOnlyExcept(c.job['only'], c.job['except'], env)
  const jobWhen = readWhen(c.job['when'])
  if (!match.matched || match.when === 'never' || (match.when === undefined && jobWhen === 'never')) {
    return { name: c.name, stage: c.stage, reason: match.matched ? `${match.reason} (when: never)` : match.reason, hidden: false, span: c.span }
  }
  const when = (match.when ?? jobWhen) as Exclude<When, 'never'>
  let allowFailure = readAllowFailure(c.job['allow_failure'])
  if (match.allowFailure !== undefined) allowFailure = match.allowFailure
  // Job-level `when: manual` is non-blocking by default; a manual job from rules is blocking.
  if (allowFailure === undefined) allowFailure = when === 'manual' && match.when === undefined
  const needs = match.needs !== undefined ? readNeeds(match.needs) : readNeeds(c.job['needs'])
  return { ...c, match, when, allowFailure, needs, vars }
}

function finish(candidates: Candidate[], index: Map<string, JobIndexEntry>, input: PlanInput): PlannedJob[] {
  const { errors, ctx } = input
  const kept = new Map(candidates.map((c) => [c.name, c]))
  candidates.sort((a, b) => a.stageIndex - b.stageIndex || a.order - b.order)
  const ids = new Map(candidates.map((c, i) => [c.name, input.ids.jobId(i)]))

  // Without `needs`/`dependencies` a job takes the artifacts of every job of earlier stages. Only
  // jobs that declare artifacts can hand any over, so only they are listed (the runner skips the
  // others anyway); the lists are shared per stage to keep big pipelines linear.
  const producersBefore = new Map<number, string[]>()
  {
    const acc: string[] = []
    let stage = -1
    for (const c of candidates) {
      if (c.stageIndex !== stage) {
        for (let s = stage + 1; s <= c.stageIndex; s++) producersBefore.set(s, [...acc])
        stage = c.stageIndex
      }
      if (declaresArtifacts(c.job)) acc.push(c.name)
    }
  }
  const resolved = new Map<string, { needs: ResolvedNeed[] | null; deps: string[] }>()
  for (const c of candidates) {
    const where = valueSpan(c.job, 'needs') ?? c.span
    let needs: ResolvedNeed[] | null = null
    if (c.needs !== undefined) {
      needs = []
      for (const n of resolveNeeds(c.name, c.stageIndex, c.needs, index, where, errors, c.instance.matrix)) {
        if (kept.has(n.job)) needs.push(n)
        else if (!n.optional) {
          errors.push(new GlrunError('GLRUN_NEEDS_MISSING', `'${c.name}' job needs '${n.job}' job, but '${n.job}' does not exist in the pipeline. This might be because of the only, except, or rules keywords. To need a job that sometimes does not exist in the pipeline, use needs:optional.`, {
            where, hint: `"${n.job}" is left out of this pipeline by its rules; mark the need \`optional: true\` or make the rules agree.`,
          }))
        }
      }
    }
    let deps: string[]
    if (c.job['dependencies'] !== undefined && c.job['dependencies'] !== null) {
      const names = needs ? new Set(needs.map((n) => n.job)) : undefined
      // With needs, GitLab (Ci::BuildDependencies#from_needs) only takes artifacts from the needs
      // that want them: `dependencies:` narrows that set, it cannot bring back `artifacts: false`.
      const fromNeeds = needs ? new Set(needs.filter((n) => n.artifacts).map((n) => n.job)) : undefined
      deps = resolveDependencies(c.name, c.stageIndex, flattenStrings(c.job['dependencies']), index, valueSpan(c.job, 'dependencies') ?? c.span, errors, names)
        .filter((d) => kept.has(d) && (!fromNeeds || fromNeeds.has(d)))
    } else if (needs) {
      deps = needs.filter((n) => n.artifacts).map((n) => n.job)
    } else {
      deps = producersBefore.get(c.stageIndex) ?? []
    }
    resolved.set(c.name, { needs, deps })
  }

  const edges = new Map([...resolved].map(([k, v]) => [k, (v.needs ?? []).map((n) => n.job)]))
  const cycle = findNeedsCycle(edges)
  if (cycle) {
    errors.push(new GlrunError('GLRUN_NEEDS_CYCLE', `circular dependency detected in \`needs\`: ${cycle.join(' → ')}`, {
      where: kept.get(cycle[0]!)?.span, hint: 'A job cannot (indirectly) need itself; remove one of these needs.',
    }))
  }

  const userKeys = new Set(input.ctx.userVariables.map((v) => v.key))
  return candidates.map((c, i): PlannedJob => {
    const r = resolved.get(c.name)!
    const timeout = readTimeout(c, errors)
    const build = (): JobPayload => toPayload({
      index: i, name: c.name, stage: c.stage, job: c.job,
      globalVariables: c.globals, jobVariables: c.jobVariables,
      ruleVariables: c.match.variables ?? {}, instanceVariables: c.instance.variables,
      ...(input.pipelineName ? { pipelineName: input.pipelineName } : {}),
      manual: c.when === 'manual', timeoutSeconds: timeout,
      dependencies: r.deps.map((d) => ({ name: d, id: ids.get(d) ?? 0 })),
      ctx, ids: input.ids, digest: input.digest,
    })
    // GitLab expands resource_group when it creates the pipeline, with the job's variables.
    const resourceGroup = c.job['resource_group'] !== undefined ? expandExisting(scalarString(c.job['resource_group']), c.vars) : undefined
    const planned: PlannedJob = {
      name: c.name, stage: c.stage, stageIndex: c.stageIndex, when: c.when,
      ...(c.when === 'delayed' && c.job['start_in'] !== undefined ? { startIn: c.match.startIn ?? scalarString(c.job['start_in']) } : {}),
      allowFailure: c.allowFailure, needs: r.needs, dependencies: r.deps,
      retry: readRetry(c.job['retry']),
      interruptible: (c.match.interruptible ?? c.job['interruptible']) === true,
      ...(resourceGroup !== undefined ? { resourceGroup } : {}),
      timeoutSeconds: timeout, reason: c.match.reason, span: c.span,
      commands: [...flattenStrings(c.job['before_script']), ...flattenStrings(c.job['script'])],
      // Built when asked for, and not kept: `glrun list` never needs the payloads of a
      // 2,000-job pipeline, and `glrun run` lets each go once its job has run.
      get payload(): JobPayload {
        return build()
      },
      ...(c.job['trigger'] !== undefined ? { trigger: readTrigger(c.job['trigger']) } : {}),
      source: jobSource(c, input, userKeys),
    }
    return planned
  })
}

function jobSource(c: Candidate, input: PlanInput, user: ReadonlySet<string>): JobSource {
  const rules = c.match.variables ?? {}
  const globals = input.config['variables']
  return {
    definition: c.job,
    // Rule variables override the job's own; the user's (project-level) variables override both.
    variable: (n) => (Object.hasOwn(rules, n) && !user.has(n) ? expandExisting(rules[n]!, c.vars) : c.vars(n)),
    variableSpan: (n) => {
      const own = c.job['variables']
      if (isPlainObject(own) && Object.hasOwn(own, n)) return valueSpan(own, n)
      if (isPlainObject(globals) && Object.hasOwn(globals, n) && c.globals.some((v) => v.key === n)) return valueSpan(globals, n)
      return undefined
    },
  }
}

function declaresArtifacts(job: Record<string, unknown>): boolean {
  const a = job['artifacts']
  return isPlainObject(a) && (a['paths'] !== undefined || a['untracked'] === true || a['reports'] !== undefined)
}


function readTimeout(c: Candidate, errors: GlrunError[]): number {
  const t = c.job['timeout']
  if (t === undefined || t === null) return DEFAULT_TIMEOUT_SECONDS
  const seconds = parseDuration(scalarString(t))
  if (seconds === undefined || seconds <= 0) {
    errors.push(new GlrunError('GLRUN_TIMEOUT_INVALID', `jobs:${c.base}:timeout config should be a duration`, {
      where: valueSpan(c.job, 'timeout') ?? c.span, hint: 'Write a human duration such as `30 minutes`, `1h 30m` or `3h`.',
    }))
    return DEFAULT_TIMEOUT_SECONDS
  }
  return seconds
}

function readTrigger(v: unknown): PlannedJob['trigger'] {
  if (isPlainObject(v) && v['include'] !== undefined) {
    const entries = Array.isArray(v['include']) ? v['include'] : [v['include']]
    const files: string[] = []
    for (const e of entries) {
      if (typeof e === 'string' && !/^https?:/.test(e)) files.push(e)
      else if (isPlainObject(e) && typeof e['local'] === 'string') files.push(e['local'])
      else return { kind: 'unsupported', what: `trigger:include ${JSON.stringify(e)}` }
    }
    return { kind: 'child', files }
  }
  const project = typeof v === 'string' ? v : isPlainObject(v) ? scalarString(v['project']) : ''
  return { kind: 'unsupported', what: `multi-project trigger of "${project}"` }
}
