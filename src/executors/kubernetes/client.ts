import { existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, join } from 'node:path'
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node'
import { GlrunError } from '../../diagnostics/errors.js'
import type { KubernetesOptions } from './options.js'

/**
 * The API server a kubernetes runner talks to, found as gitlab-runner finds it: `host` (with
 * `ca_file`, `bearer_token`, `cert_file`/`key_file`) from [runners.kubernetes]; else the pod's
 * service account when glrun runs in a cluster (KUBERNETES_SERVICE_HOST); else the kubeconfig
 * ($KUBECONFIG, ~/.kube/config) at its current context, or `context` when set.
 */
export function kubeConfigFor(opts: KubernetesOptions, env: NodeJS.ProcessEnv = process.env): { kc: KubeConfig; source: string } {
  const kc = new KubeConfig()
  if (opts.host) {
    const server = /^[a-z]+:\/\//.test(opts.host) ? opts.host : `https://${opts.host}`
    kc.loadFromOptions({
      clusters: [{ name: 'runner', server, skipTLSVerify: false, ...(opts.caFile ? { caData: readFile(opts.caFile, 'ca_file') } : {}) }],
      users: [{ name: 'runner', ...(opts.bearerToken ? { token: opts.bearerToken } : {}), ...(opts.certFile ? { certData: readFile(opts.certFile, 'cert_file') } : {}), ...(opts.keyFile ? { keyData: readFile(opts.keyFile, 'key_file') } : {}) }],
      contexts: [{ name: 'runner', cluster: 'runner', user: 'runner', namespace: opts.namespace }],
      currentContext: 'runner',
    })
    return { kc, source: '[runners.kubernetes] host' }
  }
  if (env['KUBERNETES_SERVICE_HOST']) {
    kc.loadFromCluster()
    return { kc, source: 'in-cluster service account' }
  }
  // client-node falls back to http://localhost:8080 when there is no kubeconfig at all: say so instead.
  const files = (env['KUBECONFIG'] ?? '').split(delimiter).filter(Boolean)
  const home = join(env['HOME'] || homedir(), '.kube', 'config')
  if (!(files.length ? files : [home]).some((f) => existsSync(f))) throw noApi()
  try {
    kc.loadFromDefault()
  } catch (e) {
    throw new GlrunError('GLRUN_K8S_CONFIG', `the kubeconfig could not be read: ${(e as Error).message}`, { hint: 'Fix the file $KUBECONFIG (or ~/.kube/config) names, or set host, ca_file and bearer_token under [runners.kubernetes].' })
  }
  if (opts.context) {
    if (!kc.getContexts().some((c) => c.name === opts.context)) {
      throw new GlrunError('GLRUN_K8S_CONFIG', `the kubeconfig has no context "${opts.context}" ([runners.kubernetes] context)`, { hint: `Use one of: ${kc.getContexts().map((c) => c.name).join(', ') || '(none)'}.` })
    }
    kc.setCurrentContext(opts.context)
  }
  if (!kc.getCurrentCluster()) throw noApi()
  return { kc, source: `kubeconfig context ${kc.getCurrentContext()}` }
}

function readFile(path: string, key: string): string {
  try {
    return readFileSync(path).toString('base64')
  } catch (e) {
    throw new GlrunError('GLRUN_K8S_CONFIG', `cannot read ${key} ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { hint: `Fix ${key} under [runners.kubernetes] in config.toml.` })
  }
}

function noApi(): GlrunError {
  return new GlrunError('GLRUN_K8S_NO_API', 'there is no Kubernetes API to create job pods with: [runners.kubernetes] has no host, glrun is not in a cluster (no KUBERNETES_SERVICE_HOST), and there is no kubeconfig', {
    hint: 'Set host, ca_file and bearer_token under [runners.kubernetes] in config.toml, or point KUBECONFIG at a kubeconfig whose current context is the cluster.',
  })
}

export const coreApi = (kc: KubeConfig): CoreV1Api => kc.makeApiClient(CoreV1Api)

/** The same cluster and context with the current user's credential replaced by a bearer token (gitlab-runner's BearerToken overwrite). */
export function withBearerToken(kc: KubeConfig, token: string): KubeConfig {
  const current = kc.getCurrentUser()
  const out = new KubeConfig()
  out.loadFromOptions({
    clusters: kc.getClusters(),
    users: kc.getUsers().map((u) => (u.name === current?.name ? { name: u.name, token, ...(u.certData ? { certData: u.certData } : {}), ...(u.keyData ? { keyData: u.keyData } : {}) } : u)),
    contexts: kc.getContexts(),
    currentContext: kc.getCurrentContext(),
  })
  return out
}

/** The Status an API call failed with (apiserver's own words), when it was one. */
export interface ApiStatus { code: number; message: string; reason?: string }

export function apiStatus(e: unknown): ApiStatus | undefined {
  if (!(e instanceof ApiException)) return undefined
  const code = e.code as number
  let message = ''
  let reason: string | undefined
  try {
    const body = (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as { message?: string; reason?: string }
    message = body?.message ?? ''
    reason = body?.reason
  } catch {
    message = String(e.body ?? '')
  }
  return { code, message: message || `HTTP ${code}`, ...(reason ? { reason } : {}) }
}

/** An API error in one line: the apiserver's message when there is one, else the transport's. */
export function apiErrorText(e: unknown): string {
  const s = apiStatus(e)
  if (s) return s.message
  const err = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException }
  const cause = err?.cause
  return cause?.message ? `${err.message}: ${cause.message}` : err?.message ?? String(e)
}
