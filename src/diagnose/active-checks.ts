import { isIP } from 'node:net'
import { probeDns, probeRegistry, probeTcp, probeTls } from '../probe/index.js'
import { hostOf } from './scan.js'
import type { DiagnosisReport, ProbeResult } from './types.js'

/**
 * Active checks: when the likely causes of a failure are the network or trust, glrun looks
 * instead of guessing — the hosts the failing job itself named in the log that the diagnoses
 * cite, resolved from the runner host and from the job's network, connected to, TLS-handshaken
 * and (for registries) asked for /v2/. Each check is short; the results go back into the engine
 * as evidence and are shown to the user.
 */

const NETWORK = new Set(['dns_resolution_failure', 'gitlab_host_unreachable_from_job', 'clone_url_misconfigured', 'egress_blocked_firewall', 'proxy_required', 'tls_untrusted_ca', 'tls_mtu_ssl_error_syscall'])
const REGISTRY = new Set(['registry_tls_untrusted_ca', 'registry_insecure_http', 'registry_rate_limited', 'registry_auth_failed', 'image_not_found', 'helper_image_pull_failed'])
const TLS = new Set(['tls_untrusted_ca', 'tls_mtu_ssl_error_syscall', 'registry_tls_untrusted_ca'])
/** Names that mean something else inside a job container (the dind service, the container itself). */
const LOCAL_ONLY = new Set(['docker', 'localhost', '127.0.0.1', '::1'])
const MAX_TARGETS = 3

export interface CheckTarget {
  host: string
  port?: number
  tls: boolean
  registry: boolean
}

/** The hosts worth checking: named on the evidence lines of network, TLS and registry diagnoses. */
export function checkTargets(report: DiagnosisReport, executor?: string): CheckTarget[] {
  // Shell jobs run on the runner host: its loopback is theirs, so it is worth checking.
  const skip = executor === 'shell' ? new Set(['docker']) : LOCAL_ONLY
  const out = new Map<string, CheckTarget>()
  for (const d of report.diagnoses.slice(0, 3)) {
    const registry = REGISTRY.has(d.category)
    if (!NETWORK.has(d.category) && !registry) continue
    for (const e of d.evidence) {
      for (const t of hostsOn(e.text, registry, TLS.has(d.category))) {
        const key = `${t.host}:${t.port ?? ''}`
        const seen = out.get(key)
        if (seen) Object.assign(seen, { tls: seen.tls || t.tls, registry: seen.registry || t.registry })
        else if (!skip.has(t.host) && out.size < MAX_TARGETS) out.set(key, t)
      }
    }
  }
  // A host named both with and without a port is one target.
  return [...out.values()].filter((t) => t.port !== undefined || ![...out.values()].some((o) => o.host === t.host && o.port !== undefined))
}

function hostsOn(text: string, registry: boolean, tlsCategory: boolean): CheckTarget[] {
  const found: CheckTarget[] = []
  for (const m of text.matchAll(/\b(https?):\/\/([^\s'"/]+)/g)) {
    const hostPort = m[2]!
    const host = hostOf(`${m[1]}://${hostPort}`)
    if (!host) continue
    const port = Number(/:(\d+)$/.exec(hostPort)?.[1] ?? (m[1] === 'https' ? 443 : 80))
    found.push({ host, port, tls: m[1] === 'https', registry })
  }
  const patterns: RegExp[] = [
    /Could(?:n't| not) resolve host:?\s*'?([\w.-]+)/i,
    /\blookup ([\w.-]+)(?: on [\w.:[\]]+)?:/,
    /Failed (?:to )?connect to ([\w.-]+)(?: port |:)(\d+)/,
    /dial tcp ([\w.-]+):(\d+)/,
    /getaddrinfo (?:ENOTFOUND|EAI_AGAIN) ([\w.-]+)/,
    /connect to host ([\w.-]+) port (\d+)/,
    /Temporary failure resolving '([\w.-]+)'/,
  ]
  for (const re of patterns) {
    const m = re.exec(text)
    if (!m?.[1] || !/[a-z]/i.test(m[1]) && !/^\d+\.\d+\.\d+\.\d+$/.test(m[1])) continue
    const port = m[2] ? Number(m[2]) : undefined
    found.push({ host: m[1].toLowerCase(), ...(port ? { port } : {}), tls: tlsCategory || port === 443, registry })
  }
  if (registry && found.length === 0) {
    // "pull access denied for registry.example.com/team/app" / "manifest for reg:5000/x:1 not found"
    const ref = /(?:for|image|manifest for|pulling image|Pulling docker image)\s+"?([\w.-]+(?::\d+)?)\/[\w./-]+/i.exec(text)?.[1]
    if (ref && /[.:]/.test(ref)) {
      const [host, port] = ref.split(':')
      found.push({ host: host!, port: Number(port ?? 443), tls: true, registry: true })
    }
  }
  return found
}

export interface ActiveCheckOptions {
  /** Resolution as the job saw it (the executor's; absent for shell). */
  resolveFromJob?: (host: string) => Promise<ProbeResult>
  /** The runner's tls-ca-file contents: the trust the job had. */
  ca?: string
  timeoutMs?: number
}

/** Runs the checks for each target; DNS first, and nothing more for a name nobody resolves. */
export async function runActiveChecks(targets: readonly CheckTarget[], opts: ActiveCheckOptions = {}): Promise<ProbeResult[]> {
  const timeoutMs = opts.timeoutMs ?? 3000
  const results = await Promise.all(targets.map(async (t) => {
    const out: ProbeResult[] = []
    // An address needs no lookup; a name is looked up from both sides, since the difference is often the cause.
    if (isIP(t.host) === 0) {
      const [runner, job] = await Promise.all([probeDns(t.host, { timeoutMs }), opts.resolveFromJob?.(t.host)])
      out.push(runner)
      if (job) out.push(job)
      if (!runner.ok) return out
    }
    const port = t.port ?? (t.tls ? 443 : undefined)
    if (port === undefined) return out
    const tcp = await probeTcp(t.host, port, { timeoutMs })
    out.push(tcp)
    if (!tcp.ok) return out
    if (t.registry) out.push(await probeRegistry(port === 443 ? t.host : `${t.host}:${port}`, { timeoutMs, ...(opts.ca ? { ca: opts.ca } : {}), ...(t.tls ? {} : { insecure: true }) }))
    else if (t.tls) out.push(await probeTls(t.host, port, { timeoutMs, ...(opts.ca ? { ca: opts.ca } : {}) }))
    return out
  }))
  return results.flat()
}
