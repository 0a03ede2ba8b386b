import { GlrunError } from '../../diagnostics/errors.js'
import type { SourceSpan } from '../../diagnostics/source.js'
import { GLOBAL_KEYWORDS, isPlainObject } from '../model/keywords.js'
import { closest } from '../../diagnostics/did-you-mean.js'
import { copyMember, inheritSelf, keySpan, recordMember, spanAt, valueSpan } from '../yaml/positions.js'
import { setOwn } from '../yaml/load.js'
import { allowedJobWhen, jobWhenMessage } from './job-when.js'
import { SCRIPT_KEYWORDS } from './script-nesting.js'
import { type SchemaError, gitlabSchema, schemaValidator } from './schema-validator.js'

/**
 * Validates a pipeline with GitLab's own JSON schema and turns ajv's raw errors into few,
 * precise diagnostics: one per mistake, at the key or value at fault, in GitLab's wording
 * (`jobs:build config contains unknown keys: scirpt`), with a did-you-mean where it helps.
 */
export async function validateSchema(config: unknown): Promise<GlrunError[]> {
  const validate = schemaValidator()
  const view = flattenRulesForSchema(config)
  if (validate(view)) return []
  return explain(validate.errors ?? [], view)
}

/**
 * GitLab flattens nested `rules:` lists (what `- !reference [.x, rules]` produces) before it
 * validates; the editor schema only sees the tag. Validate the flattened form, like GitLab.
 */
function flattenRulesForSchema(config: unknown): unknown {
  if (!isPlainObject(config)) return config
  const out: Record<string, unknown> = {}
  inheritSelf(config, out)
  for (const [name, job] of Object.entries(config)) {
    let value = job
    if (SCRIPT_KEYS.includes(name) && Array.isArray(job) && job.some(Array.isArray)) value = flatWithSpans(job, Infinity)
    const nested = (k: string): boolean => isPlainObject(job) && Array.isArray(job[k]) && (job[k] as unknown[]).some(Array.isArray)
    // GitLab treats a job key written with no value (`variables:`, `parallel: null`) as not set:
    // it is how a job drops what it extends, and real pipelines (gitlab-runner, omnibus-gitlab)
    // rely on it. The editor schema rejects that; GitLab's own fixtures keep only `image:` and
    // `services:` without a value as errors, so those stay errors here too.
    const dropsNull = (k: string, v: unknown): boolean => v === null && k !== 'image' && k !== 'services'
    const hasNull = isPlainObject(job) && !GLOBAL_KEYWORDS.has(name) && !name.startsWith('.') && Object.entries(job).some(([k, v]) => dropsNull(k, v))
    if (isPlainObject(job) && (hasNull || FLATTENED.some(nested))) {
      const copy: Record<string, unknown> = {}
      inheritSelf(job, copy)
      for (const k of Object.keys(job)) {
        if (hasNull && dropsNull(k, job[k])) continue
        setOwn(copy, k, FLATTENED.includes(k) && nested(k) ? flatWithSpans(job[k] as unknown[], SCRIPT_KEYS.includes(k) ? Infinity : 9) : job[k])
        copyMember(job, copy, k)
      }
      value = copy
    }
    setOwn(out, name, value)
    copyMember(config, out, name)
  }
  return out
}

/**
 * Lists GitLab flattens before validating: `rules` (nested by `!reference`), `cache` (nested
 * by a YAML alias of a list, as gitlab-org/gitlab-shell's pipeline does) and the scripts.
 */
const FLATTENED = ['rules', 'cache', 'script', 'before_script', 'after_script']

/** Scripts are validated flat; how deep they may nest is checked by ./script-nesting.ts. */
const SCRIPT_KEYS: readonly string[] = SCRIPT_KEYWORDS

/** Flattens `list`, opening lists nested at most `maxDepth` levels below its items. */
function flatWithSpans(list: unknown[], maxDepth: number): unknown[] {
  const flat: unknown[] = []
  const spans: (SourceSpan | undefined)[] = []
  const add = (x: unknown, span: SourceSpan | undefined, depth: number): void => {
    if (Array.isArray(x) && depth <= maxDepth) x.forEach((y, i) => add(y, valueSpan(x, i) ?? span, depth + 1))
    else {
      flat.push(x)
      spans.push(span)
    }
  }
  list.forEach((x, i) => add(x, valueSpan(list, i), 0))
  inheritSelf(list, flat)
  spans.forEach((sp, i) => { if (sp) recordMember(flat, i, undefined, sp) })
  return flat
}

/** Which error to show when several are raised at the same place: the most specific first. */
const PRIORITY = ['additionalProperties', 'enum', 'const', 'maximum', 'minimum', 'maxItems', 'minItems', 'maxLength', 'minLength', 'pattern', 'format', 'uniqueItems', 'required', 'not', 'type']

export function explain(raw: readonly SchemaError[], config: unknown): GlrunError[] {
  const errors = raw.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'anyOf' && e.keyword !== 'if')
  // Places where the schema chose between branches (oneOf/anyOf failed there).
  const branchPoints = new Set(raw.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf').map((e) => e.instancePath))
  // An error whose place holds a deeper error is a branch mismatch of oneOf/anyOf: the deeper one
  // is the cause. Except an unknown key that no branch knows (a job's `scirpt:` beside a bad
  // `when:`, a cache's `pathz:` beside a bad `paths:`): it is a mistake of its own, and GitLab
  // reports every error at once. A key another branch knows (`project:` of an include checked
  // against the `local:` branch) is only the mismatch of that branch.
  const ownMistake = (e: SchemaError): boolean => e.keyword === 'additionalProperties' &&
    (!branchPoints.has(e.instancePath) || !knownKeys(segments(e.instancePath)).includes(String(e.params['additionalProperty'])))
  const leaves = errors.filter((e) => ownMistake(e) || !errors.some((o) => o.instancePath.startsWith(`${e.instancePath}/`)))
  const byPath = new Map<string, SchemaError>()
  for (const e of leaves) {
    const prev = byPath.get(e.instancePath)
    if (!prev || rank(e) < rank(prev)) byPath.set(e.instancePath, e)
  }
  return [...byPath.values()].map((e) => {
    const d = toDiagnostic(e, config)
    paths.set(d, segments(e.instancePath))
    return d
  })
}

const paths = new WeakMap<GlrunError, (string | number)[]>()

/** The top-level key (job or keyword) a schema diagnostic is about. */
export function faultedKey(e: GlrunError): string | undefined {
  const p = paths.get(e)
  return p && p.length > 0 ? String(p[0]) : undefined
}

function rank(e: SchemaError): number {
  const i = PRIORITY.indexOf(e.keyword)
  return i < 0 ? PRIORITY.length : i
}

function segments(pointer: string): (string | number)[] {
  if (pointer === '') return []
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).map((s) => (/^\d+$/.test(s) ? Number(s) : s))
}

/** `/build/artifacts/paths` → `jobs:build:artifacts:paths`; `/stages` → `stages`. */
export function gitlabPath(segs: readonly (string | number)[]): string {
  if (segs.length === 0) return 'root'
  const [first, ...rest] = segs
  const head = GLOBAL_KEYWORDS.has(String(first)) ? String(first) : `jobs:${String(first)}`
  return [head, ...rest.map(String)].join(':')
}

function valueAt(root: unknown, segs: readonly (string | number)[]): unknown {
  let cur = root
  for (const s of segs) cur = isPlainObject(cur) || Array.isArray(cur) ? (cur as Record<string | number, unknown>)[s] : undefined
  return cur
}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'a list'
  if (isPlainObject(v)) return 'a mapping'
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`
  return `${typeof v} ${String(v)}`
}

function toDiagnostic(e: SchemaError, config: unknown): GlrunError {
  const segs = segments(e.instancePath)
  const path = gitlabPath(segs)
  const value = valueAt(config, segs)
  const where: SourceSpan | undefined = spanAt(config, segs)
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(e.params['additionalProperty'])
      const at = keySpan(value, key) ?? where
      if (segs.length === 1 && !GLOBAL_KEYWORDS.has(String(segs[0]))) {
        const guess = closest(String(segs[0]), [...GLOBAL_KEYWORDS])
        if (guess) {
          return new GlrunError('GLRUN_SCHEMA_UNKNOWN_KEY', `${String(segs[0])} is not a keyword, so GitLab reads it as a job, and ${path} config contains unknown keys: ${key}`, {
            where: keySpan(config, String(segs[0])) ?? at, hint: `did you mean the \`${guess}:\` keyword?`,
          })
        }
      }
      const known = knownKeys(segs)
      const guess = closest(key, known)
      return new GlrunError('GLRUN_SCHEMA_UNKNOWN_KEY', `${path} config contains unknown keys: ${key}`, {
        where: at,
        hint: guess ? `did you mean "${guess}"?` : known.length ? `Valid keys here: ${known.slice(0, 12).join(', ')}${known.length > 12 ? ', …' : ''}.` : 'Remove the key.',
      })
    }
    case 'enum':
      // A job's `when:` is checked by GitLab's Job entry, not the shared enum (which lists `never`).
      if (segs.length === 2 && segs[1] === 'when' && !GLOBAL_KEYWORDS.has(String(segs[0]))) {
        const jobValue = valueAt(config, segs.slice(0, 1))
        return new GlrunError('GLRUN_SCHEMA_ENUM', jobWhenMessage(String(segs[0]), jobValue), {
          where, hint: `It is ${describe(value)}.${typeof value === 'string' ? suggest(value, [...allowedJobWhen(jobValue)]) : ''}`,
        })
      }
      return new GlrunError('GLRUN_SCHEMA_ENUM', `${path} config should be one of: ${(e.params['allowedValues'] as unknown[]).map(String).join(', ')}`, {
        where, hint: `It is ${describe(value)}.${typeof value === 'string' ? suggest(value, e.params['allowedValues'] as unknown[]) : ''}`,
      })
    case 'type': {
      const expected = typeWords(String(e.params['type']))
      return new GlrunError('GLRUN_SCHEMA_TYPE', `${path} config should be ${expected}, not ${describe(value)}`, {
        where, hint: colonHint(expected, value) ?? (expected === 'a list' && typeof value === 'string' ? `Write it as a list: [${JSON.stringify(value)}].` : `Change it to ${expected}.`),
      })
    }
    case 'required':
      return new GlrunError('GLRUN_SCHEMA_REQUIRED', `${path} config is missing required key: ${String(e.params['missingProperty'])}`, { where, hint: `Add \`${String(e.params['missingProperty'])}:\`.` })
    default:
      return new GlrunError('GLRUN_SCHEMA_INVALID', `${path} config ${e.message ?? 'is invalid'}${e.keyword === 'maximum' || e.keyword === 'minimum' ? `, not ${String(value)}` : ''}`, {
        where, hint: hintFor(e),
      })
  }
}

/**
 * The classic YAML trap: `- echo "a: b"` is a mapping because of the `: `. When a string was
 * expected and a one-key mapping was found, say so and show the quoted line.
 */
function colonHint(expected: string, value: unknown): string | undefined {
  if (!expected.includes('string') || !isPlainObject(value) || Object.keys(value).length !== 1) return undefined
  const [k] = Object.keys(value)
  const v = value[k!]
  if (typeof v !== 'string' && v !== null) return undefined
  const line = `${k}: ${v ?? ''}`.trimEnd()
  return `YAML read this as a mapping because of the ": " in it. Quote the whole line: - '${line.replace(/'/g, "''")}'`
}

/** ajv's "boolean,number,string" → "a boolean, number or string". */
function typeWords(types: string): string {
  const words = types.split(',').map((t) => (t === 'array' ? 'list' : t === 'object' ? 'mapping' : t))
  const text = words.length > 1 ? `${words.slice(0, -1).join(', ')} or ${words.at(-1)}` : words[0]!
  return withArticle(text)
}

function withArticle(t: string): string {
  return /^a /.test(t) ? t : /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`
}

function suggest(value: string, allowed: unknown[]): string {
  const guess = closest(value, allowed.map(String))
  return guess ? ` Did you mean "${guess}"?` : ''
}

function hintFor(e: SchemaError): string {
  switch (e.keyword) {
    case 'maxItems': return `At most ${String(e.params['limit'])} entries are allowed here.`
    case 'minItems': return `At least ${String(e.params['limit'])} entries are needed here.`
    case 'maximum': return `The maximum is ${String(e.params['limit'])}.`
    case 'minimum': return `The minimum is ${String(e.params['limit'])}.`
    case 'pattern': return `It must match ${String(e.params['pattern'])}.`
    default: return 'See https://docs.gitlab.com/ci/yaml/ for this keyword.'
  }
}

/**
 * The keys that may stand where an unknown key was found, for did-you-mean. ajv reports schema
 * paths relative to the `$ref`'d definition, so the place is recognised from the instance path:
 * a job, `default:`, or else any key the schema knows anywhere.
 */
function knownKeys(instanceSegs: readonly (string | number)[]): string[] {
  const schema = gitlabSchema()
  const defs = (schema['definitions'] ?? {}) as Record<string, unknown>
  const propsOf = (n: unknown): string[] => (isPlainObject(n) && isPlainObject(n['properties']) ? Object.keys(n['properties']) : [])
  if (instanceSegs.length === 1) {
    const first = String(instanceSegs[0])
    return first === 'default' ? propsOf(defs['default']) : GLOBAL_KEYWORDS.has(first) ? [] : propsOf(defs['job_template'])
  }
  const all = new Set<string>()
  const walk = (n: unknown, depth: number): void => {
    if (depth > 12) return
    if (Array.isArray(n)) n.forEach((x) => walk(x, depth + 1))
    else if (isPlainObject(n)) {
      propsOf(n).forEach((k) => all.add(k))
      Object.values(n).forEach((x) => walk(x, depth + 1))
    }
  }
  walk(defs, 0)
  return [...all]
}
