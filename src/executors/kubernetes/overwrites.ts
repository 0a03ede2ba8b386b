import { RE2JS } from 're2js'
import type { JobPayload } from '../../payload/types.js'
import { expandAll } from '../../job/variables/runner-expand.js'
import { ExecutorFailure } from '../failure.js'
import type { KubernetesOptions, Resources } from './options.js'

/**
 * gitlab-runner's per-job overwrites (executors/kubernetes/overwrites.go): job variables such as
 * KUBERNETES_NAMESPACE_OVERWRITE, KUBERNETES_POD_LABELS_*, KUBERNETES_MEMORY_LIMIT change the
 * job's pod, each only as far as config.toml allows: a regular expression the value must match
 * (`*_overwrite_allowed`, found anywhere in the value as Go's MatchString does; empty: no
 * overwrite, the variable is ignored), a switch (`bearer_token_overwrite_allowed`), or a maximum
 * (`*_overwrite_max_allowed`, a Kubernetes quantity; empty: ignored). A value the config does
 * not allow fails the job before its pod exists, as a configuration error.
 */

/** What config.toml allows jobs to change (the `*_overwrite_allowed` / `*_overwrite_max_allowed` keys). */
export interface OverwriteLimits {
  namespace?: string
  serviceAccount?: string
  bearerToken?: boolean
  podLabels?: string
  podAnnotations?: string
  nodeSelector?: string
  nodeTolerations?: string
  build: Resources
  helper: Resources
  service: Resources
}

/** The job's options after its overwrites, the lines gitlab-runner prints for them, and a bearer token if one was given. */
export interface Overwritten { opts: KubernetesOptions; lines: string[]; bearerToken?: string }

const RESOURCE_KEYS: [keyof Resources, string, string][] = [
  ['cpuRequest', 'CPU_REQUEST', 'CPURequest'], ['memoryRequest', 'MEMORY_REQUEST', 'MemoryRequest'], ['ephemeralStorageRequest', 'EPHEMERAL_STORAGE_REQUEST', 'EphemeralStorageRequest'],
  ['cpuLimit', 'CPU_LIMIT', 'CPULimit'], ['memoryLimit', 'MEMORY_LIMIT', 'MemoryLimit'], ['ephemeralStorageLimit', 'EPHEMERAL_STORAGE_LIMIT', 'EphemeralStorageLimit'],
]

const q = (s: string): string => JSON.stringify(s)

/** A refusal; `config` when config.toml itself is wrong (a regular expression that does not compile), not the job. */
class Refused extends Error {
  constructor(message: string, readonly config = false) {
    super(message)
  }
}

export function applyOverwrites(opts: KubernetesOptions, job: Pick<JobPayload, 'variables'> & Partial<Pick<JobPayload, 'services' | 'id'>>, localSession?: string): Overwritten {
  const vars = expandAll(job.variables ?? [], (key) => key)
  const get = (key: string): string => vars.find((v) => v.key === key)?.value ?? ''
  const lines: string[] = []
  const limits = opts.overwrite
  const next: KubernetesOptions = { ...opts, build: { ...opts.build }, helper: { ...opts.helper }, service: { ...opts.service } }
  try {
    const one = (field: string, current: string | undefined, regex: string | undefined, value: string): string | undefined => {
      if (!regex || value === '') return current
      check(regex, value)
      lines.push(`${q(field)} overwritten with ${q(field === 'BearerToken' ? 'XXXXXXXX...' : value)}`)
      return value
    }
    next.namespace = one('Namespace', opts.namespace, limits.namespace, get('KUBERNETES_NAMESPACE_OVERWRITE')) ?? opts.namespace
    const sa = one('ServiceAccount', opts.serviceAccount, limits.serviceAccount, get('KUBERNETES_SERVICE_ACCOUNT_OVERWRITE'))
    if (sa !== undefined) next.serviceAccount = sa
    const token = one('BearerToken', undefined, limits.bearerToken ? '.+' : undefined, get('KUBERNETES_BEARER_TOKEN'))
    const map = (field: string, current: Record<string, string>, regex: string | undefined, prefix: string, split: (s: string) => [string, string]): Record<string, string> => {
      if (!regex) return current
      const out = { ...current }
      for (const v of vars) {
        if (!v.key.startsWith(prefix)) continue
        check(regex, v.value)
        const [k, val] = split(v.value)
        out[k] = val
        lines.push(`${q(field)} ${q(k)} overwritten with ${q(val)}`)
      }
      return out
    }
    next.podLabels = map('PodLabels', opts.podLabels, limits.podLabels, 'KUBERNETES_POD_LABELS_', splitPair)
    next.podAnnotations = map('PodAnnotations', opts.podAnnotations, limits.podAnnotations, 'KUBERNETES_POD_ANNOTATIONS_', splitPair)
    next.nodeSelector = map('NodeSelector', opts.nodeSelector, limits.nodeSelector, 'KUBERNETES_NODE_SELECTOR_', splitPair)
    next.nodeTolerations = map('NodeTolerations', opts.nodeTolerations, limits.nodeTolerations, 'KUBERNETES_NODE_TOLERATIONS_', splitToleration)
    // Requests then limits of one kind of container, each value bounded by its maximum; `into` gets what passed.
    const resources = (what: string, varPrefix: string, fieldPrefix: string, maxima: Resources, lookup: (key: string) => string, into: Resources): void => {
      for (const half of ['Request', 'Limit'] as const) {
        try {
          for (const [key, suffix, field] of RESOURCE_KEYS.filter(([k]) => k.endsWith(half))) {
            const value = lookup(`KUBERNETES_${varPrefix}${suffix}`)
            const max = maxima[key]
            if (!max || value === '') continue
            if (compareQuantities(value, max) > 0) throw new Refused(`the resource ${q(fieldPrefix + field)} requested ${q(value)} is higher than limit allowed ${q(max)}`)
            into[key] = value
            lines.push(`${q(fieldPrefix + field)} overwritten with ${q(value)}`)
          }
        } catch (e) {
          if (e instanceof Refused) throw new Refused(`invalid ${what} ${half.toLowerCase()}s specified: ${e.message}`, e.config)
          throw e
        }
      }
    }
    resources('build', '', '', limits.build, get, next.build)
    resources('service', 'SERVICE_', 'Service', limits.service, get, next.service)
    resources('helper', 'HELPER_', 'Helper', limits.helper, get, next.helper)
    // A service's own variables (KUBERNETES_SERVICE_* under the service in the YAML) for that service alone.
    const perService: Record<number, Resources> = {}
    for (const [i, svc] of (job.services ?? []).entries()) {
      const own = expandAll([...(job.variables ?? []), ...(svc.variables ?? [])], (key) => key)
      const ownGet = (key: string): string => (svc.variables ?? []).some((v) => v.key === key) ? own.find((v) => v.key === key)?.value ?? '' : ''
      const r: Resources = { ...next.service }
      try {
        resources('service', 'SERVICE_', 'Service', limits.service, ownGet, r)
      } catch (e) {
        if (e instanceof Refused) throw new Refused(`couldn't prepare explicit service overwrites: ${e.message}`, e.config)
        throw e
      }
      if ((svc.variables ?? []).some((v) => v.key.startsWith('KUBERNETES_SERVICE_'))) perService[i] = r
    }
    next.jobServiceResources = perService
    // namespace_per_job wins over the namespace overwrite, as in gitlab-runner. Job ids are unique
    // under GitLab; a local run numbers its jobs from 1, so it adds its session to the name.
    if (opts.namespacePerJob) next.namespace = `ci-job-${job.id ?? 0}${localSession ? `-${localSession}` : ''}`
    return { opts: next, lines, ...(token ? { bearerToken: token } : {}) }
  } catch (e) {
    if (!(e instanceof Refused)) throw e
    const message = e.message.startsWith('couldn\'t prepare') ? e.message : `couldn't prepare overwrites: ${e.message}`
    throw new ExecutorFailure('GLRUN_K8S_OVERWRITE', message, 'runner_configuration_error', e.config
      ? 'Fix the regular expression of the *_overwrite_allowed key in [runners.kubernetes] (RE2 syntax, as gitlab-runner reads it).'
      : 'A KUBERNETES_* variable of the job asks for more than [runners.kubernetes] allows: change the variable, or widen the matching *_overwrite_allowed / *_overwrite_max_allowed key in config.toml.')
  }
}

function check(regex: string, value: string): void {
  let re: RE2JS
  try {
    re = RE2JS.compile(regex)
  } catch (e) {
    throw new Refused(`error parsing regexp ${q(regex)}: ${(e as Error).message}`, true)
  }
  if (!re.matcher(value).find()) throw new Refused(`provided value ${q(value)} does not match ${q(regex)}`)
}

/** `key=value`, split on the first "=". */
function splitPair(s: string): [string, string] {
  const i = s.indexOf('=')
  if (i < 0) throw new Refused(`provided value ${q(s)} does not match "k=v"`)
  return [s.slice(0, i), s.slice(i + 1)]
}

/** `key[=value][:effect]`: the key part and the effect (the tolerations map's form). */
function splitToleration(s: string): [string, string] {
  const i = s.indexOf(':')
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)]
}

const QUANTITY = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 }
const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 }

/** A Kubernetes quantity exactly, as digits × 10^e10 × 2^e2 (floating point would make 700m > 0.7). */
interface Exact { digits: bigint; e10: number; e2: number }

function exact(s: string): Exact {
  const m = QUANTITY.exec(s)
  const bad = (): Refused => new Refused(`parsing resource limit: ${q(`quantities must match the regular expression '${QUANTITY.source}'`)}`)
  if (!m || !/^[+-]?(?:\d+\.?\d*|\.\d+)$/.test(m[1]!)) throw bad()
  const [whole, frac = ''] = m[1]!.replace(/^[+-]/, '').split('.')
  const digits = BigInt(`${m[1]!.startsWith('-') ? '-' : ''}${whole || '0'}${frac}`)
  const suffix = m[2]!
  let e10 = -frac.length
  let e2 = 0
  if (suffix in DECIMAL) e10 += DECIMAL[suffix]!
  else if (suffix in BINARY) e2 = BINARY[suffix]!
  else {
    const exp = /^[eE]([-+]?[0-9]+)$/.exec(suffix)
    if (!exp) throw bad()
    e10 += Number(exp[1])
  }
  // Kubernetes keeps quantities within int64 scale; a job variable must not make glrun build a
  // number with millions of digits.
  if (Math.abs(e10) > 1000 || m[1]!.length > 100) throw new Refused(`parsing resource limit: ${q('quantity is too great')}`)
  return { digits, e10, e2 }
}

/** -1, 0 or 1, as resource.Quantity.Cmp. */
export function compareQuantities(a: string, b: string): number {
  let x: Exact
  let y: Exact
  try {
    x = exact(a)
    y = exact(b)
  } catch (e) {
    throw e instanceof Refused ? e : new Refused(`parsing resource limit: ${q((e as Error).message)}`)
  }
  const e10 = Math.min(x.e10, y.e10)
  const e2 = Math.min(x.e2, y.e2)
  const scale = (v: Exact): bigint => v.digits * 10n ** BigInt(v.e10 - e10) * 2n ** BigInt(v.e2 - e2)
  const [l, r] = [scale(x), scale(y)]
  return l < r ? -1 : l > r ? 1 : 0
}
