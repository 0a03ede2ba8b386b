import { readFileSync } from 'node:fs'
import { RE2JS } from 're2js'
import { TomlError, parse } from 'smol-toml'
import { closest } from '../diagnostics/did-you-mean.js'
import { GlrunError, GlrunErrors } from '../diagnostics/errors.js'
import type { DockerExecutorOptions } from '../executors/docker/options.js'
import type { PullPolicy } from '../payload/types.js'
import { TomlPositions } from './positions.js'
import { DNS_POLICIES, EXECUTORS, GLOBAL, type KeyType, PULL_POLICIES, type Schema } from './schema.js'
import type { KubernetesSettings, RunnerConfigFile, RunnerSettings } from './types.js'

type Table = Record<string, unknown>

export interface LoadedConfig {
  config: RunnerConfigFile
  warnings: GlrunError[]
  text: string
}

/** Reads and checks a config.toml; all errors at once (GlrunErrors), warnings returned. */
export function loadRunnerConfig(path: string): LoadedConfig {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    throw new GlrunError('GLRUN_CONFIG_READ', `cannot read the runner config ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, {
      hint: 'Pass the path of a gitlab-runner config.toml with --config.',
    })
  }
  return { ...parseRunnerConfig(text, path), text }
}

export function parseRunnerConfig(text: string, path: string): { config: RunnerConfigFile; warnings: GlrunError[] } {
  let doc: Table
  try {
    doc = parse(text) as Table
  } catch (e) {
    if (e instanceof TomlError) {
      throw new GlrunError('GLRUN_CONFIG_SYNTAX', `${path} is not valid TOML: ${e.message.split('\n')[0]}`, {
        where: { file: path, line: e.line, col: e.column },
        hint: 'gitlab-runner would refuse it too ("decoding configuration file: toml: ..."). Fix the line shown.',
      })
    }
    throw e
  }
  const pos = new TomlPositions(text)
  const errors: GlrunError[] = []
  const warnings: GlrunError[] = []
  const where = (p: string): { file: string; line: number; col: number } | undefined => {
    const at = pos.of(p)
    return at ? { file: path, line: at.line, col: at.col } : undefined
  }
  const err = (code: string, p: string, message: string, hint?: string): void => {
    const w = where(p)
    errors.push(new GlrunError(code, message, { ...(w ? { where: w } : {}), ...(hint ? { hint } : {}) }))
  }
  const warn = (code: string, p: string, message: string, hint?: string): void => {
    const w = where(p)
    warnings.push(new GlrunError(code, message, { severity: 'warning', ...(w ? { where: w } : {}), ...(hint ? { hint } : {}) }))
  }

  checkTable(doc, GLOBAL, '', { err, warn })
  const config = toModel(doc, path)
  if (doc['concurrent'] !== undefined && typeof doc['concurrent'] === 'number' && doc['concurrent'] < 1) {
    err('GLRUN_CONFIG_VALUE', 'concurrent', `Current configuration 'concurrent = ${doc['concurrent']}' means that no jobs will be processed`, 'Set concurrent to 1 or more.')
  }
  const runners = Array.isArray(doc['runners']) ? (doc['runners'] as Table[]) : []
  runners.forEach((r, i) => {
    const at = `runners[${i}]`
    const ui = r['unhealthy_interval']
    if (ui !== undefined && durationMs(ui) === undefined) {
      err('GLRUN_CONFIG_VALUE', `${at}.unhealthy_interval`, `unhealthy_interval ${describe(ui)} is not a duration`, 'Write it as gitlab-runner reads it, a Go duration such as "1h", "30m" or "90s".')
    }
    const ex = r['executor']
    if (typeof ex === 'string' && !EXECUTORS.includes(ex)) {
      const near = closest(ex, EXECUTORS)
      err('GLRUN_CONFIG_VALUE', `${at}.executor`, `executor "${ex}" is not one of gitlab-runner's executors`, near ? `Did you mean "${near}"?` : `Use one of: ${EXECUTORS.join(', ')}.`)
    }
    for (const [old, now] of [['pre_clone_script', 'pre_get_sources_script'], ['post_clone_script', 'post_get_sources_script']] as const) {
      if (r[old] !== undefined) {
        warn('GLRUN_CONFIG_DEPRECATED', `${at}.${old}`, `${old} is deprecated and was removed in gitlab-runner 17.0 (newer runners ignore it)`, `Rename it to ${now}; glrun uses it as ${now}${r[now] !== undefined ? ' only if that is unset (it is set here, so this one is ignored)' : ''}.`)
      }
    }
    const docker = (r['docker'] ?? {}) as Table
    for (const key of ['pull_policy', 'allowed_pull_policies']) checkPolicies(docker[key], `${at}.docker.${key}`, err)
    for (const [j, h] of (Array.isArray(docker['extra_hosts']) ? docker['extra_hosts'] : []).entries()) {
      if (typeof h === 'string' && !/^[^:\s]+:\S+$/.test(h)) err('GLRUN_CONFIG_VALUE', `${at}.docker.extra_hosts`, `extra_hosts entry ${j + 1} "${h}" is not "host:ip"`, 'Write each entry as "gitlab.example.com:10.0.0.232".')
    }
    const k8s = (r['kubernetes'] ?? {}) as Table
    for (const key of ['pull_policy', 'allowed_pull_policies']) checkPolicies(k8s[key], `${at}.kubernetes.${key}`, err, true)
    const dp = k8s['dns_policy']
    if (typeof dp === 'string' && dp !== '' && !DNS_POLICIES.includes(dp)) err('GLRUN_CONFIG_VALUE', `${at}.kubernetes.dns_policy`, `dns_policy "${dp}" is not one of ${DNS_POLICIES.join(', ')}`)
    // The *_overwrite_allowed keys are RE2 regular expressions (gitlab-runner compiles them per job and fails
    // the job with "couldn't prepare overwrites"): one that does not compile is config.toml's mistake, told now.
    for (const [key, value] of Object.entries(k8s)) {
      if (!key.endsWith('_overwrite_allowed') || typeof value !== 'string' || value === '') continue
      const problem = re2Problem(value)
      if (problem) err('GLRUN_CONFIG_VALUE', `${at}.kubernetes.${key}`, `${key} "${value}" is not a valid regular expression: ${problem}`, 'Write it in RE2 syntax (Go\'s regexp, as gitlab-runner reads it): no lookarounds or backreferences; escape literal dots and brackets.')
    }
  })
  if (errors.length > 0) throw new GlrunErrors(errors, warnings)
  return { config, warnings }
}

function re2Problem(regex: string): string | undefined {
  try {
    RE2JS.compile(regex)
    return undefined
  } catch (e) {
    return (e as Error).message
  }
}

interface Report {
  err: (code: string, p: string, message: string, hint?: string) => void
  warn: (code: string, p: string, message: string, hint?: string) => void
}

function checkTable(t: Table, schema: Schema, at: string, r: Report): void {
  const known = Object.keys(schema)
  for (const [key, value] of Object.entries(t)) {
    const p = at ? `${at}.${key}` : key
    const type = schema[key]
    if (type === undefined) {
      const near = closest(key, known)
      r.warn('GLRUN_CONFIG_UNKNOWN_KEY', p, `unknown key "${p.replace(/\[\d+\]/g, '')}" (gitlab-runner ignores it silently)`, near ? `Did you mean "${near}"?` : undefined)
      continue
    }
    checkValue(value, type, p, r)
  }
}

function checkValue(v: unknown, type: KeyType, p: string, r: Report): void {
  const bad = (expected: string): void => r.err('GLRUN_CONFIG_TYPE', p, `${p.replace(/\[\d+\]/g, '')} must be ${expected}, not ${describe(v)}`)
  if (type === 'any') return
  if (type === 'string') { if (typeof v !== 'string') bad('a string'); return }
  if (type === 'bool') { if (typeof v !== 'boolean') bad('true or false'); return }
  if (type === 'int') { if (typeof v !== 'number' && typeof v !== 'bigint') bad('a whole number'); return }
  if (type === 'number') { if (typeof v !== 'number') bad('a number'); return }
  if (type === 'strings') { if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) bad('a list of strings, e.g. ["a", "b"]'); return }
  if (type === 'policy') { if (typeof v !== 'string' && !(Array.isArray(v) && v.every((x) => typeof x === 'string'))) bad('a string or a list of strings'); return }
  if (type === 'bools') {
    if (!isTable(v)) return bad('a table')
    for (const [k, x] of Object.entries(v)) if (typeof x !== 'boolean') r.err('GLRUN_CONFIG_TYPE', `${p}.${k}`, `feature flag ${k} must be true or false, not ${describe(x)}`)
    return
  }
  if ('table' in type) { if (!isTable(v)) return bad('a table'); checkTable(v, type.table, p, r); return }
  if (!Array.isArray(v) || !v.every(isTable)) return bad('an array of tables ([[...]])')
  v.forEach((t, i) => checkTable(t as Table, type.tables, `${p}[${i}]`, r))
}

function checkPolicies(v: unknown, p: string, err: Report['err'], allowEmpty = false): void {
  for (const x of typeof v === 'string' ? [v] : Array.isArray(v) ? v : []) {
    if (typeof x === 'string' && !PULL_POLICIES.includes(x) && !(allowEmpty && x === '')) err('GLRUN_CONFIG_VALUE', p, `unsupported pull_policy config: "${x}"`, `Use ${PULL_POLICIES.join(', ')}.`)
  }
}

const isTable = (v: unknown): v is Table => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date)
function describe(v: unknown): string {
  if (typeof v === 'string') return `the string "${v}"`
  if (Array.isArray(v)) return 'a list'
  if (isTable(v)) return 'a table'
  return `${typeof v} ${String(v)}`
}

const GO_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/**
 * A TOML value gitlab-runner decodes into a Go time.Duration, in ms: a string as Go's
 * time.ParseDuration reads it ("1h30m", "1.5s"), or an integer, which Go takes as nanoseconds.
 */
export function durationMs(v: unknown): number | undefined {
  if (typeof v === 'number' || typeof v === 'bigint') return Number(v) / 1e6
  if (typeof v !== 'string') return undefined
  const s = v.trim()
  if (s === '0') return 0
  const m = /^([+-]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/.exec(s)
  if (!m) return undefined
  let ms = 0
  for (const [, n, unit] of m[2]!.matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) ms += Number(n) * GO_UNITS[unit!]!
  return m[1] === '-' ? -ms : ms
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [])
const num = (v: unknown, d: number): number => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : d)
const policies = (v: unknown): PullPolicy[] => (typeof v === 'string' ? [v] : strs(v)).filter((x): x is PullPolicy => PULL_POLICIES.includes(x))
const expandEnv = (s: string | undefined): string | undefined => s?.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, k: string) => process.env[k] ?? '')
const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T

function toModel(doc: Table, path: string): RunnerConfigFile {
  const runners = (Array.isArray(doc['runners']) ? doc['runners'] : []).filter(isTable).map(toRunner)
  return defined({ path, concurrent: num(doc['concurrent'], 1), checkInterval: num(doc['check_interval'], 3), logLevel: str(doc['log_level']), listenAddress: str(doc['listen_address']), runners })
}

function toRunner(r: Table, i: number): RunnerSettings {
  const d = isTable(r['docker']) ? r['docker'] : undefined
  const k = isTable(r['kubernetes']) ? r['kubernetes'] : undefined
  return defined({
    name: str(r['name']) ?? `runner-${i + 1}`,
    url: expandEnv(str(r['url'])),
    token: expandEnv(str(r['token'])),
    executor: str(r['executor']) ?? 'shell',
    shell: str(r['shell']),
    buildsDir: str(r['builds_dir']),
    cacheDir: str(r['cache_dir']),
    cloneUrl: str(r['clone_url']),
    environment: strs(r['environment']),
    limit: num(r['limit'], 0),
    // gitlab-runner's GetRequestConcurrency / GetUnhealthyRequestsLimit / GetUnhealthyInterval:
    // below 1 means the default; the interval is a Go duration ("1h", "90s").
    requestConcurrency: Math.max(1, num(r['request_concurrency'], 1)),
    unhealthyRequestsLimit: num(r['unhealthy_requests_limit'], 0) < 1 ? 3 : num(r['unhealthy_requests_limit'], 3),
    unhealthyIntervalMs: durationMs(r['unhealthy_interval']) ?? 60 * 60_000,
    outputLimitKb: num(r['output_limit'], 4096),
    preGetSourcesScript: str(r['pre_get_sources_script']) ?? str(r['pre_clone_script']),
    postGetSourcesScript: str(r['post_get_sources_script']) ?? str(r['post_clone_script']),
    preBuildScript: str(r['pre_build_script']),
    postBuildScript: str(r['post_build_script']),
    tlsCaFile: str(r['tls-ca-file']),
    tlsCertFile: str(r['tls-cert-file']),
    tlsKeyFile: str(r['tls-key-file']),
    featureFlags: Object.fromEntries(Object.entries(isTable(r['feature_flags']) ? r['feature_flags'] : {}).filter(([, v]) => typeof v === 'boolean')) as Record<string, boolean>,
    docker: d ? toDocker(d) : undefined,
    kubernetes: k ? toKubernetes(k) : undefined,
  })
}

function toDocker(d: Table): DockerExecutorOptions {
  return defined({
    host: str(d['host']), tlsVerify: typeof d['tls_verify'] === 'boolean' ? d['tls_verify'] : undefined, tlsCertPath: str(d['tls_cert_path']),
    image: str(d['image']), helperImage: str(d['helper_image']), hostname: str(d['hostname']),
    privileged: d['privileged'] === true, servicesPrivileged: typeof d['services_privileged'] === 'boolean' ? d['services_privileged'] : undefined,
    networkMode: str(d['network_mode']), extraHosts: strs(d['extra_hosts']), dns: strs(d['dns']), dnsSearch: strs(d['dns_search']),
    volumes: strs(d['volumes']), pullPolicy: policies(d['pull_policy']), allowedPullPolicies: policies(d['allowed_pull_policies']),
    allowedImages: strs(d['allowed_images']), allowedServices: strs(d['allowed_services']),
    waitForServicesTimeout: typeof d['wait_for_services_timeout'] === 'number' ? d['wait_for_services_timeout'] : undefined,
    memory: str(d['memory']), cpus: str(d['cpus']), capAdd: strs(d['cap_add']), capDrop: strs(d['cap_drop']),
    shmSize: typeof d['shm_size'] === 'number' ? d['shm_size'] : undefined, user: str(d['user']),
    disableEntrypointOverwrite: d['disable_entrypoint_overwrite'] === true,
    services: (Array.isArray(d['services']) ? d['services'] : []).filter(isTable).map((s) => defined({
      name: str(s['name']) ?? '', alias: str(s['alias']), command: Array.isArray(s['command']) ? strs(s['command']) : undefined,
      entrypoint: Array.isArray(s['entrypoint']) ? strs(s['entrypoint']) : undefined, environment: strs(s['environment']),
    })),
  })
}

function toKubernetes(k: Table): KubernetesSettings {
  return defined({
    namespace: str(k['namespace']), image: str(k['image']), helperImage: str(k['helper_image']), pullPolicy: policies(k['pull_policy']),
    hostAliases: (Array.isArray(k['host_aliases']) ? k['host_aliases'] : []).filter(isTable).map((h) => ({ ip: str(h['ip']) ?? '', hostnames: strs(h['hostnames']) })),
    dnsPolicy: str(k['dns_policy']), privileged: typeof k['privileged'] === 'boolean' ? k['privileged'] : undefined,
    pollInterval: num(k['poll_interval'], 3), pollTimeout: num(k['poll_timeout'], 180), serviceAccount: str(k['service_account']),
    imagePullSecrets: strs(k['image_pull_secrets']), raw: k,
  })
}
