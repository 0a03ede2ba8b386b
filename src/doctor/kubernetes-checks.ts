import { existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, dirname, isAbsolute, join } from 'node:path'
import { parse } from 'yaml'
import { probeTcp, probeTls } from '../probe/index.js'
import type { RunnerSettings } from '../runner-config/types.js'
import { parseHttpUrl } from './gitlab-checks.js'
import type { CheckContext, Finding } from './types.js'

const SERVICE_ACCOUNT_CA = '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt'

/** Where a kubernetes runner would find the API server, and the CA it would trust it with. */
interface ApiServer {
  url: string
  /** How it was found, for the finding: "[runners.kubernetes] host", "in-cluster", a kubeconfig. */
  source: string
  /** Where a CA for it is set: what the advice names. */
  caSetting: string
  ca?: string
  /** The CA file could not be read: the trust check runs without it and says so. */
  caProblem?: string
  insecure?: boolean
}

/**
 * The Kubernetes API a kubernetes runner talks to: reachable over TCP, its certificate trusted
 * with the CA the runner would use. gitlab-runner takes `host` (with `ca_file`) from
 * [runners.kubernetes]; without it, the in-cluster service account, then the kubeconfig
 * ($KUBECONFIG, else ~/.kube/config).  A runner whose API is out of reach fails every job at
 * "prepare environment".
 */
export async function checkKubernetesApi(scope: string, runner: RunnerSettings | undefined, ctx: CheckContext): Promise<Finding> {
  const env = ctx.env ?? process.env
  const api = locateApi(runner, env)
  if (!api) {
    return {
      scope, check: 'kubernetes', status: 'fail',
      what: '[runners.kubernetes] has no host, this machine is not in a cluster (no KUBERNETES_SERVICE_HOST) and there is no kubeconfig: the runner has no Kubernetes API to create job pods with',
      fix: 'Give the runner the API server and the CA that signed its certificate:',
      snippet: '[runners.kubernetes]\n  host = "https://<API server>:6443"\n  ca_file = "/etc/gitlab-runner/kube-ca.crt"',
    }
  }
  const at = parseHttpUrl(api.url)
  if (!at) return { scope, check: 'kubernetes', status: 'fail', what: `the Kubernetes API "${api.url}" (${api.source}) is not an https:// URL`, fix: 'Set host to the API server as kubectl cluster-info shows it.' }
  const tcp = await probeTcp(at.host, at.port, { timeoutMs: ctx.timeoutMs })
  if (!tcp.ok) {
    return { scope, check: 'kubernetes', status: 'fail', what: `the Kubernetes API at ${api.url} (${api.source}) is out of reach: ${tcp.summary}`, probe: tcp, fix: 'Check the address (kubectl cluster-info on a machine that works), the VPN or firewall between this machine and the API server.' }
  }
  if (!at.https) return { scope, check: 'kubernetes', status: 'warn', what: `the Kubernetes API at ${api.url} (${api.source}) answers, over plain HTTP`, probe: tcp, fix: 'Use the API server\'s https:// address: plain HTTP exposes the runner\'s credentials.' }
  if (api.insecure) return { scope, check: 'kubernetes', status: 'warn', what: `the Kubernetes API at ${api.url} (${api.source}) answers; its certificate is not checked (insecure-skip-tls-verify)`, probe: tcp, fix: 'Set the cluster\'s certificate-authority instead of skipping verification.' }
  const tls = await probeTls(at.host, at.port, { timeoutMs: ctx.timeoutMs, caSetting: api.caSetting, ...(api.ca ? { ca: api.ca } : {}) })
  if (tls.ok) return { scope, check: 'kubernetes', status: 'ok', what: `the Kubernetes API at ${api.url} (${api.source}) answers and its certificate is trusted${api.ca ? ' with the configured CA' : ''}`, probe: tls }
  const untrusted = tls.detail?.['problem'] === 'self-signed' || tls.detail?.['problem'] === 'unknown CA'
  const caNote = api.caProblem ? ` (${api.caProblem})` : ''
  return {
    scope, check: 'kubernetes', status: 'fail', what: `the Kubernetes API at ${api.url} (${api.source}): ${tls.summary}${caNote}`, probe: tls,
    fix: untrusted
      ? 'Trust the cluster\'s CA: point ca_file at it (on a control-plane node it is /etc/kubernetes/pki/ca.crt; in a kubeconfig, certificate-authority-data base64-decoded).'
      : `Check the API server's certificate: \`openssl s_client -connect ${at.host}:${at.port}\` shows what it presents.`,
    ...(untrusted ? { snippet: `[runners.kubernetes]\n  host = "${api.url}"\n  ca_file = "/etc/gitlab-runner/kube-ca.crt"` } : {}),
  }
}

function locateApi(runner: RunnerSettings | undefined, env: NodeJS.ProcessEnv): ApiServer | undefined {
  const raw = runner?.kubernetes?.raw ?? {}
  const host = typeof raw['host'] === 'string' && raw['host'] ? raw['host'] : undefined
  if (host) {
    const caFile = typeof raw['ca_file'] === 'string' && raw['ca_file'] ? raw['ca_file'] : undefined
    return { url: /^[a-z]+:\/\//.test(host) ? host : `https://${host}`, source: '[runners.kubernetes] host', caSetting: 'ca_file', ...readCa(caFile, 'ca_file') }
  }
  if (env['KUBERNETES_SERVICE_HOST']) {
    const h = env['KUBERNETES_SERVICE_HOST']
    const url = `https://${h.includes(':') ? `[${h}]` : h}:${env['KUBERNETES_SERVICE_PORT'] ?? '443'}`
    return { url, source: 'in-cluster', caSetting: 'ca_file', ...(existsSync(SERVICE_ACCOUNT_CA) ? readCa(SERVICE_ACCOUNT_CA, 'the service account CA') : {}) }
  }
  const file = (env['KUBECONFIG'] ?? '').split(delimiter).find((f) => f && existsSync(f)) ?? join(env['HOME'] || homedir(), '.kube', 'config')
  if (!existsSync(file)) return undefined
  return fromKubeconfig(file)
}

/** The current context's cluster of a kubeconfig; an unreadable one counts as none. */
function fromKubeconfig(file: string): ApiServer | undefined {
  let doc: Record<string, unknown>
  try {
    doc = parse(readFileSync(file, 'utf8')) as Record<string, unknown>
  } catch {
    return undefined
  }
  const named = (list: unknown, name: unknown): Record<string, unknown> | undefined => {
    if (!Array.isArray(list)) return undefined
    const hit = (list as Record<string, unknown>[]).find((e) => e?.['name'] === name) ?? (name === undefined ? list[0] : undefined)
    return hit as Record<string, unknown> | undefined
  }
  const context = named(doc?.['contexts'], doc?.['current-context'])?.['context'] as Record<string, unknown> | undefined
  const cluster = named(doc?.['clusters'], context?.['cluster'])?.['cluster'] as Record<string, unknown> | undefined
  const server = cluster?.['server']
  if (typeof server !== 'string') return undefined
  const source = `kubeconfig ${file}`
  const caSetting = 'certificate-authority-data'
  if (cluster?.['insecure-skip-tls-verify'] === true) return { url: server, source, caSetting, insecure: true }
  const data = cluster?.['certificate-authority-data']
  if (typeof data === 'string') return { url: server, source, caSetting, ca: Buffer.from(data, 'base64').toString('utf8') }
  const caPath = cluster?.['certificate-authority']
  if (typeof caPath === 'string') return { url: server, source, caSetting: 'certificate-authority', ...readCa(isAbsolute(caPath) ? caPath : join(dirname(file), caPath), 'certificate-authority') }
  return { url: server, source, caSetting }
}

function readCa(path: string | undefined, what: string): Pick<ApiServer, 'ca' | 'caProblem'> {
  if (!path) return {}
  try {
    return { ca: readFileSync(path, 'utf8') }
  } catch (e) {
    return { caProblem: `${what} "${path}" cannot be read: ${(e as NodeJS.ErrnoException).code ?? String(e)}` }
  }
}
