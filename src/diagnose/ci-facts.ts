import { parse } from 'yaml'

/**
 * What a job's .gitlab-ci.yml (given with --ci) says that a log cannot: the images and their
 * entrypoints, the services and their tags, DOCKER_* variables, cache settings. Read leniently
 * (the file may not even be valid, which is a diagnosis of its own), over every job, because the
 * log rarely names the job.
 */
export interface CiImage { name: string; entrypoint?: string[] }
export interface CiService { name: string; alias?: string }
/** One job of the YAML, with what it inherits from `default:` and the top level (image, services). */
export interface CiJob { name: string; image?: CiImage; services: CiService[]; script: string[]; artifacts: string[]; variables: Record<string, string> }
export interface CiFacts {
  images: CiImage[]
  services: CiService[]
  variables: Record<string, string>
  cache: boolean
  submodules?: string
  /** Every job's artifacts:paths (as written: globs and directories too). */
  artifacts: string[]
  jobs: CiJob[]
}

const RESERVED = new Set(['stages', 'variables', 'include', 'workflow', 'default', 'image', 'services', 'cache', 'before_script', 'after_script', 'spec'])

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

function imageOf(x: unknown): CiImage | undefined {
  if (typeof x === 'string' && x !== '') return { name: x }
  if (isRecord(x) && typeof x['name'] === 'string') {
    const ep = x['entrypoint']
    return { name: x['name'], ...(Array.isArray(ep) ? { entrypoint: ep.map(String) } : {}) }
  }
  return undefined
}

function servicesOf(x: unknown): CiService[] {
  if (!Array.isArray(x)) return []
  return x.flatMap((s): CiService[] => {
    if (typeof s === 'string') return [{ name: s }]
    if (isRecord(s) && typeof s['name'] === 'string') return [{ name: s['name'], ...(typeof s['alias'] === 'string' ? { alias: s['alias'] } : {}) }]
    return []
  })
}

// The last YAML read and its facts: one diagnosis asks from a dozen rules for the same text, and the
// facts are only read, never changed, by them.
let last: { yaml: string; facts: CiFacts | undefined } | undefined

export function ciFacts(ciYaml: string | undefined): CiFacts | undefined {
  if (!ciYaml) return undefined
  if (last?.yaml !== ciYaml) last = { yaml: ciYaml, facts: readFacts(ciYaml) }
  return last.facts
}

function readFacts(ciYaml: string): CiFacts | undefined {
  let doc: unknown
  try {
    doc = parse(ciYaml, { uniqueKeys: false, logLevel: 'silent' })
  } catch {
    return undefined
  }
  if (!isRecord(doc)) return undefined
  const facts: CiFacts = { images: [], services: [], variables: {}, cache: false, artifacts: [], jobs: jobsOf(doc) }
  const scopes = [doc, ...(isRecord(doc['default']) ? [doc['default']] : []),
    ...Object.entries(doc).filter(([k, v]) => !RESERVED.has(k) && isRecord(v)).map(([, v]) => v as Record<string, unknown>)]
  for (const scope of scopes) {
    const img = imageOf(scope['image'])
    if (img) facts.images.push(img)
    facts.services.push(...servicesOf(scope['services']))
    if (scope['cache'] !== undefined) facts.cache = true
    const artifacts = scope['artifacts']
    if (isRecord(artifacts) && Array.isArray(artifacts['paths'])) facts.artifacts.push(...artifacts['paths'].filter((x): x is string => typeof x === 'string'))
    const vars = scope['variables']
    if (isRecord(vars)) {
      for (const [k, v] of Object.entries(vars)) {
        const value = isRecord(v) ? v['value'] : v
        if (typeof value === 'string' || typeof value === 'number') facts.variables[k] ??= String(value)
      }
    }
  }
  const sub = facts.variables['GIT_SUBMODULE_STRATEGY']
  if (sub !== undefined) facts.submodules = sub
  return facts
}

function variablesOf(x: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (!isRecord(x)) return out
  for (const [k, v] of Object.entries(x)) {
    const value = isRecord(v) ? v['value'] : v
    if (typeof value === 'string' || typeof value === 'number') out[k] = String(value)
  }
  return out
}

function lines(x: unknown): string[] {
  return typeof x === 'string' ? [x] : Array.isArray(x) ? x.flatMap(lines) : []
}

// A job as GitLab reads it: its `extends:` templates merged in first (hashes deeply, anything else replaced),
// at most 11 levels as GitLab allows. The YAML is untrusted: each name is expanded once (memoised), a cycle
// contributes nothing, a parent listed twice counts once, and the whole expansion has a budget of copied
// keys — past it, jobs keep only their own keys (the facts get thinner, glrun never slows down).
const MERGE_BUDGET = 200_000

function expander(doc: Record<string, unknown>): (name: string) => Record<string, unknown> {
  const done = new Map<string, Record<string, unknown>>()
  const open = new Set<string>()
  let budget = MERGE_BUDGET
  // Copies src's keys into target (target is ours; src's hashes are copied, never shared, so later merges
  // into target cannot change a memoised template).
  const mergeInto = (target: Record<string, unknown>, src: Record<string, unknown>): void => {
    for (const [k, v] of Object.entries(src)) {
      if (--budget < 0) return
      const old = target[k]
      if (isRecord(v)) {
        const into = isRecord(old) ? old : {}
        target[k] = into
        mergeInto(into, v)
      } else {
        target[k] = v
      }
    }
  }
  const expand = (name: string, depth: number): Record<string, unknown> => {
    const cached = done.get(name)
    if (cached) return cached
    const job = doc[name]
    if (!isRecord(job) || open.has(name) || depth > 11) return {}
    open.add(name)
    const ext = job['extends']
    const parents = typeof ext === 'string' ? [ext] : Array.isArray(ext) ? [...new Set(ext.filter((x): x is string => typeof x === 'string'))] : []
    const merged: Record<string, unknown> = {}
    for (const p of parents) if (budget > 0) mergeInto(merged, expand(p, depth + 1))
    mergeInto(merged, job)
    // Past the budget a job keeps its own keys whole (a shallow copy costs nothing more).
    const result = budget > 0 ? merged : { ...job }
    open.delete(name)
    done.set(name, result)
    return result
  }
  return (name) => expand(name, 0)
}

// `inherit: default:` / `inherit: variables:` (false, or a list of what to keep) limit what a job takes from
// `default:` and the top-level `variables:`.
function inherited(job: Record<string, unknown>, what: 'default' | 'variables', from: Record<string, unknown>): Record<string, unknown> {
  const inherit = isRecord(job['inherit']) ? job['inherit'][what] : undefined
  if (inherit === false) return {}
  if (Array.isArray(inherit)) return Object.fromEntries(Object.entries(from).filter(([k]) => inherit.includes(k)))
  return from
}

function jobsOf(doc: Record<string, unknown>): CiJob[] {
  const topDefault = isRecord(doc['default']) ? doc['default'] : {}
  const expand = expander(doc)
  return Object.entries(doc).filter(([k, v]) => !RESERVED.has(k) && !k.startsWith('.') && isRecord(v)).map(([name]) => {
    const job = expand(name)
    const dflt = inherited(job, 'default', { ...(doc['image'] !== undefined ? { image: doc['image'] } : {}), ...(doc['services'] !== undefined ? { services: doc['services'] } : {}), ...topDefault })
    const own = imageOf(job['image']) ?? imageOf(dflt['image'])
    const artifacts = isRecord(job['artifacts']) && Array.isArray(job['artifacts']['paths']) ? job['artifacts']['paths'].filter((x): x is string => typeof x === 'string') : []
    const topVars = isRecord(doc['variables']) ? inherited(job, 'variables', doc['variables']) : {}
    return { name, ...(own ? { image: own } : {}), services: servicesOf(job['services'] ?? dflt['services']), script: ['before_script', 'script', 'after_script'].flatMap((k) => lines(job[k] ?? dflt[k])), artifacts, variables: { ...variablesOf(topVars), ...variablesOf(job['variables']) } }
  })
}

/**
 * The YAML's jobs this log can be: those whose script lines the log echoes (`$ cmd`), else those running the
 * image the log names, else all of them. A rule takes a fact from them only when every one agrees.
 */
export function jobsOfLog(facts: CiFacts | undefined, echoes: readonly string[], image: string | undefined): CiJob[] {
  if (!facts) return []
  const said = new Set(echoes.map((e) => e.trim()))
  const scored = facts.jobs.map((j) => ({ j, n: j.script.filter((l) => said.has(l.trim())).length }))
  const best = Math.max(0, ...scored.map((x) => x.n))
  if (best > 0) return scored.filter((x) => x.n === best).map((x) => x.j)
  if (image !== undefined) return facts.jobs.filter((j) => j.image?.name === image)
  return facts.jobs
}

/** Tags that move: the image behind them changes without any change in the project. */
export function floatingTag(image: string): boolean {
  const tag = /:([^:/@]+)$/.exec(image)?.[1]
  return !image.includes('@') && (tag === undefined || /^(?:latest|stable|dind|stable-dind|rc|rc-dind|edge|git|\d+-dind|\d+)$/.test(tag))
}
