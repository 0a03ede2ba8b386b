import type { PipelineContext } from '../context/types.js'
import { isTruthful } from '../expressions/index.js'
import { isPlainObject } from '../model/keywords.js'
import { flattenRules, flattenStrings, scalarString } from '../model/job.js'
import { changedFilesMatch, existingFilesMatch } from './globs.js'
import { refMatches } from './refs.js'

export type When = 'on_success' | 'on_failure' | 'always' | 'manual' | 'delayed' | 'never'

/** The outcome of `rules:` (or `only`/`except`) for one job. */
export interface RuleMatch {
  /** false: the job is not added (no rule matched, or only/except excluded it). */
  matched: boolean
  ruleIndex?: number
  /** Human explanation, shown by `glrun list --all`. */
  reason: string
  when?: When
  startIn?: string
  allowFailure?: boolean
  variables?: Record<string, string>
  needs?: unknown
  interruptible?: boolean
}

export interface RuleEnv {
  vars: (name: string) => string | undefined
  ctx: PipelineContext
  /** GitLab-side expansion of `$VAR` in paths. */
  expand: (s: string) => string
}

/** Evaluates one rule's clauses (if, changes, exists), all of which must hold. */
function clausesHold(rule: Record<string, unknown>, env: RuleEnv): { ok: boolean; why: string[] } {
  const why: string[] = []
  if (rule['if'] !== undefined && rule['if'] !== null) {
    const expr = scalarString(rule['if'])
    if (!isTruthful(expr, env.vars)) return { ok: false, why }
    why.push(`if: ${expr}`)
  }
  if (rule['changes'] !== undefined && rule['changes'] !== null) {
    if (!changesMatch(rule['changes'], env)) return { ok: false, why }
    why.push('changes matched')
  }
  if (rule['exists'] !== undefined && rule['exists'] !== null) {
    if (!existsMatch(rule['exists'], env)) return { ok: false, why }
    why.push('exists matched')
  }
  return { ok: true, why }
}

export function changesMatch(v: unknown, env: RuleEnv): boolean {
  const paths = isPlainObject(v) ? flattenStrings(v['paths']) : flattenStrings(v)
  const compareTo = isPlainObject(v) && v['compare_to'] !== undefined ? env.expand(scalarString(v['compare_to'])) : undefined
  const changed = env.ctx.changedFiles(compareTo)
  // No push to compare against (tags, schedules, web, new branch): GitLab treats changes as true.
  if (changed === null) return true
  return changedFilesMatch(paths.map(env.expand), changed)
}

export function existsMatch(v: unknown, env: RuleEnv): boolean {
  if (isPlainObject(v) && v['project'] !== undefined) return false
  const paths = isPlainObject(v) ? flattenStrings(v['paths']) : flattenStrings(v)
  return existingFilesMatch(paths.map(env.expand), env.ctx.treeFiles())
}

function readWhen(v: unknown): When | undefined {
  return v === 'on_success' || v === 'on_failure' || v === 'always' || v === 'manual' || v === 'delayed' || v === 'never' ? v : undefined
}

function stringMap(v: unknown): Record<string, string> | undefined {
  if (!isPlainObject(v)) return undefined
  const out: Record<string, string> = {}
  for (const [k, x] of Object.entries(v)) out[k] = isPlainObject(x) ? scalarString(x['value']) : scalarString(x)
  return out
}

/**
 * Job `rules:` — first matching rule wins; no match means the job is not added. A matching rule
 * may set when, start_in, allow_failure, variables, needs and interruptible.
 */
export function evaluateRules(rules: unknown, env: RuleEnv): RuleMatch {
  const list = flattenRules(rules) ?? []
  for (const [i, rule] of list.entries()) {
    if (!isPlainObject(rule)) continue
    const { ok, why } = clausesHold(rule, env)
    if (!ok) continue
    const when = readWhen(rule['when'])
    const label = `rule ${i + 1} matched${why.length ? ` (${why.join(', ')})` : ''}`
    if (when === 'never') return { matched: false, ruleIndex: i, reason: `${label} with when: never` }
    const m: RuleMatch = { matched: true, ruleIndex: i, reason: label }
    if (when) m.when = when
    if (rule['start_in'] !== undefined) m.startIn = scalarString(rule['start_in'])
    if (typeof rule['allow_failure'] === 'boolean') m.allowFailure = rule['allow_failure']
    const vars = stringMap(rule['variables'])
    if (vars) m.variables = vars
    if (rule['needs'] !== undefined) m.needs = rule['needs']
    if (typeof rule['interruptible'] === 'boolean') m.interruptible = rule['interruptible']
    return m
  }
  return { matched: false, reason: list.length === 0 ? 'rules: is empty, so no rule can match' : `none of its ${list.length} rule${list.length === 1 ? '' : 's'} matched` }
}

/** `workflow:rules` — decides whether the pipeline is created at all. */
export function evaluateWorkflow(workflow: unknown, env: RuleEnv): RuleMatch & { name?: string; autoCancel?: unknown } {
  const name = isPlainObject(workflow) && workflow['name'] !== undefined ? scalarString(workflow['name']) : undefined
  const base = name !== undefined ? { name } : {}
  const rules = isPlainObject(workflow) ? workflow['rules'] : undefined
  if (rules === undefined || rules === null) {
    return { matched: true, reason: 'no workflow:rules', ...base, ...(isPlainObject(workflow) && workflow['auto_cancel'] ? { autoCancel: workflow['auto_cancel'] } : {}) }
  }
  const list = flattenRules(rules) ?? []
  for (const [i, rule] of list.entries()) {
    if (!isPlainObject(rule)) continue
    const { ok, why } = clausesHold(rule, env)
    if (!ok) continue
    const label = `workflow rule ${i + 1} matched${why.length ? ` (${why.join(', ')})` : ''}`
    if (rule['when'] === 'never') return { matched: false, ruleIndex: i, reason: `${label} with when: never`, ...base }
    const m: RuleMatch & { name?: string; autoCancel?: unknown } = { matched: true, ruleIndex: i, reason: label, ...base }
    const vars = stringMap(rule['variables'])
    if (vars) m.variables = vars
    if (rule['auto_cancel'] !== undefined) m.autoCancel = rule['auto_cancel']
    else if (isPlainObject(workflow) && workflow['auto_cancel'] !== undefined) m.autoCancel = workflow['auto_cancel']
    return m
  }
  return { matched: false, reason: `none of the ${list.length} workflow rules matched`, ...base }
}

/** Legacy `only:` / `except:`; with neither, GitLab's default is `only: [branches, tags]`. */
export function evaluateOnlyExcept(only: unknown, except: unknown, env: RuleEnv): RuleMatch {
  const onlySpec = only === undefined || only === null ? { refs: ['branches', 'tags'] } : only
  const inOnly = policyMatches(onlySpec, env, 'only')
  if (!inOnly.matches) return { matched: false, reason: `only: ${inOnly.why}` }
  if (except !== undefined && except !== null) {
    const inExcept = policyMatches(except, env, 'except')
    if (inExcept.matches) return { matched: false, reason: `except: ${inExcept.why}` }
  }
  return { matched: true, reason: only === undefined || only === null ? 'default only: [branches, tags]' : `only: ${inOnly.why}` }
}

/** Within one policy the keys are ANDed; within a key the entries are ORed. */
function policyMatches(spec: unknown, env: RuleEnv, which: 'only' | 'except'): { matches: boolean; why: string } {
  const policy: Record<string, unknown> = Array.isArray(spec) || typeof spec === 'string' ? { refs: spec } : isPlainObject(spec) ? spec : {}
  const why: string[] = []
  if (policy['refs'] !== undefined && policy['refs'] !== null) {
    const refs = flattenStrings(policy['refs'])
    const hit = refs.find((r) => refMatches(r, env.ctx))
    if (!hit) return { matches: false, why: `no ref matched [${refs.join(', ')}]` }
    why.push(`ref ${hit}`)
  }
  if (policy['variables'] !== undefined && policy['variables'] !== null) {
    const exprs = flattenStrings(policy['variables'])
    const hit = exprs.find((e) => isTruthful(e, env.vars))
    if (!hit) return { matches: false, why: 'no variables expression was true' }
    why.push(hit)
  }
  if (policy['changes'] !== undefined && policy['changes'] !== null) {
    if (!changesMatch(policy['changes'], env)) return { matches: false, why: 'no file in changes: changed' }
    why.push('changes matched')
  }
  if (policy['kubernetes'] !== undefined && policy['kubernetes'] !== null) {
    // A local run has no project Kubernetes integration, so `kubernetes: active` never holds.
    return { matches: false, why: 'kubernetes: active is false (no Kubernetes integration locally)' }
  }
  return { matches: true, why: why.join(', ') || (which === 'only' ? 'matched' : 'matched') }
}

/** `include:rules` — if/changes/exists, with when: never|always. */
export function evaluateIncludeRules(rules: unknown, env: RuleEnv): boolean {
  const list = flattenRules(rules) ?? []
  for (const rule of list) {
    if (!isPlainObject(rule)) continue
    if (!clausesHold(rule, env).ok) continue
    return rule['when'] !== 'never'
  }
  return false
}
