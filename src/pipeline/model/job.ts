import type { SourceSpan } from '../../diagnostics/source.js'
import { YamlReference } from '../yaml/reference.js'
import { isPlainObject } from './keywords.js'

/**
 * Typed readers over a job's plain YAML value (after includes, extends, !reference and
 * defaults). The schema validator has already reported wrong shapes with positions; these
 * readers are forgiving so one mistake yields one diagnostic, not a cascade.
 */

export type When = 'on_success' | 'on_failure' | 'always' | 'manual' | 'delayed' | 'never'

export interface YamlVariable {
  key: string
  value: string
  /** `expand: false` → raw. */
  raw: boolean
  description?: string
}

export interface NeedSpec {
  job: string
  artifacts: boolean
  optional: boolean
  /** `needs:parallel:matrix` — which instances of a matrix job are needed. */
  matrix?: Record<string, unknown>[]
  /** Needs that refer to other pipelines or projects; not runnable locally. */
  external?: { pipeline?: string; project?: string; ref?: string }
}

/** GitLab flattens nested script arrays (from `!reference`) up to 10 levels. */
export function flattenStrings(v: unknown, depth = 0): string[] {
  if (v === undefined || v === null) return []
  if (typeof v === 'string') return [v]
  if (typeof v === 'number' || typeof v === 'boolean') return [String(v)]
  if (Array.isArray(v) && depth <= 10) return v.flatMap((x) => flattenStrings(x, depth + 1))
  return []
}

/** `rules:` after `!reference`: nested lists are flattened into one list of rules. */
export function flattenRules(v: unknown): unknown[] | undefined {
  if (v === undefined || v === null) return undefined
  if (!Array.isArray(v)) return [v]
  const out: unknown[] = []
  const add = (x: unknown, depth: number): void => {
    if (Array.isArray(x) && depth < 10) x.forEach((y) => add(y, depth + 1))
    else out.push(x)
  }
  v.forEach((x) => add(x, 0))
  return out
}

export function scalarString(v: unknown): string {
  if (v === null || v === undefined) return ''
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (v instanceof YamlReference) return ''
  return JSON.stringify(v)
}

/** `variables:` → ordered list; values are strings, `{value, expand: false}` is raw. */
export function readVariables(v: unknown): YamlVariable[] {
  if (!isPlainObject(v)) return []
  const out: YamlVariable[] = []
  for (const [key, raw] of Object.entries(v)) {
    if (isPlainObject(raw)) {
      const entry: YamlVariable = { key, value: scalarString(raw['value']), raw: raw['expand'] === false }
      if (typeof raw['description'] === 'string') entry.description = raw['description']
      out.push(entry)
    } else {
      out.push({ key, value: scalarString(raw), raw: false })
    }
  }
  return out
}

export function readWhen(v: unknown, fallback: When = 'on_success'): When {
  return v === 'on_success' || v === 'on_failure' || v === 'always' || v === 'manual' || v === 'delayed' || v === 'never' ? v : fallback
}

export type AllowFailure = boolean | { exitCodes: number[] }

export function readAllowFailure(v: unknown): AllowFailure | undefined {
  if (typeof v === 'boolean') return v
  if (isPlainObject(v)) {
    const codes = v['exit_codes']
    const list = Array.isArray(codes) ? codes : [codes]
    return { exitCodes: list.filter((c): c is number => typeof c === 'number') }
  }
  return undefined
}

export interface RetrySpec {
  max: number
  when: string[]
  exitCodes: number[]
}

export function readRetry(v: unknown): RetrySpec {
  if (typeof v === 'number') return { max: v, when: ['always'], exitCodes: [] }
  if (isPlainObject(v)) {
    const when = v['when']
    const codes = v['exit_codes']
    return {
      max: typeof v['max'] === 'number' ? v['max'] : 0,
      when: when === undefined ? ['always'] : flattenStrings(when),
      exitCodes: (Array.isArray(codes) ? codes : codes === undefined ? [] : [codes]).filter((c): c is number => typeof c === 'number'),
    }
  }
  return { max: 0, when: [], exitCodes: [] }
}

export function readNeeds(v: unknown): NeedSpec[] | undefined {
  if (v === undefined || v === null) return undefined
  const list = flattenRules(v) ?? []
  const out: NeedSpec[] = []
  for (const item of list) {
    if (typeof item === 'string') {
      out.push({ job: item, artifacts: true, optional: false })
    } else if (isPlainObject(item)) {
      const need: NeedSpec = {
        job: scalarString(item['job']),
        artifacts: item['artifacts'] !== false,
        optional: item['optional'] === true,
      }
      if (typeof item['pipeline'] === 'string' || typeof item['project'] === 'string') {
        need.external = {}
        if (typeof item['pipeline'] === 'string') need.external.pipeline = item['pipeline']
        if (typeof item['project'] === 'string') need.external.project = item['project']
        if (typeof item['ref'] === 'string') need.external.ref = item['ref']
      }
      const par = item['parallel']
      if (isPlainObject(par) && Array.isArray(par['matrix'])) {
        need.matrix = par['matrix'].filter(isPlainObject)
      }
      out.push(need)
    }
  }
  return out
}

/** A job's position for diagnostics. */
export interface Located {
  readonly span: SourceSpan | undefined
}
