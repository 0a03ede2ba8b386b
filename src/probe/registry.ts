import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { rootCertificates } from 'node:tls'
import type { ProbeResult } from '../diagnose/types.js'
import { connectOutcome, describeOutcome } from './outcome.js'
import { type TlsProblem, tlsProblem } from './tls.js'

export interface RegistryProbeOptions {
  /** PEM of extra CAs to trust (a registry with a private CA). */
  ca?: string
  /** Plain HTTP (an insecure registry). */
  insecure?: boolean
  timeoutMs?: number
}

/** Docker Hub's names in image references all mean the same API host. */
const HUB = new Set(['', 'docker.io', 'index.docker.io', 'registry-1.docker.io'])

/**
 * Asks a registry for `/v2/`, the first request of every pull. 200 or 401 means the registry is
 * there and speaks the API (401: pulls need a token, which docker gets by itself for public
 * images); 429 is a rate limit; anything else, or no answer, is why pulls fail.
 */
export function probeRegistry(registry: string, opts: RegistryProbeOptions = {}): Promise<ProbeResult> {
  const timeoutMs = opts.timeoutMs ?? 3000
  const target = HUB.has(registry) ? 'registry-1.docker.io' : registry
  const base = { kind: 'registry' as const, target, from: 'runner' as const }
  const url = `${opts.insecure ? 'http' : 'https'}://${target}/v2/`
  const [host, portText] = target.startsWith('[') ? [target.slice(1, target.indexOf(']')), target.split(']:')[1]] : target.split(':')
  const port = Number(portText ?? (opts.insecure ? 80 : 443))
  return new Promise((resolve) => {
    const request = opts.insecure ? httpRequest : httpsRequest
    const req = request(url, { method: 'GET', timeout: timeoutMs, headers: { 'user-agent': 'glrun-doctor' }, ...(opts.ca && !opts.insecure ? { ca: [...rootCertificates, opts.ca] } : {}) }, (res) => {
      res.resume()
      const status = res.statusCode ?? 0
      const auth = res.headers['www-authenticate']
      const detail = { status, ...(auth ? { authenticate: auth } : {}) }
      if (status === 200) resolve({ ...base, ok: true, summary: `${url} answers 200: the registry is reachable and open`, detail })
      else if (status === 401) resolve({ ...base, ok: true, summary: `${url} answers 401: the registry is reachable; pulls need a login or token${auth ? ` (${String(auth).split(' ')[0]})` : ''}`, detail })
      else if (status === 429) resolve({ ...base, ok: false, summary: `${url} answers 429 Too Many Requests: this address is rate-limited; log in, or use a mirror or proxy cache`, detail })
      else if (status >= 300 && status < 400) resolve({ ...base, ok: false, summary: `${url} redirects (${status}) to ${res.headers.location ?? '?'}: not a registry API at this address (a proxy or login page answers)`, detail })
      else resolve({ ...base, ok: false, summary: `${url} answers ${status}: not a Docker registry API at this address${status === 403 ? ', or this network may not use it' : ''}`, detail })
    })
    req.once('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })))
    req.once('error', (e: NodeJS.ErrnoException) => {
      const code = e.code ?? 'ERROR'
      if (/CERT|SELF_SIGNED|UNABLE_TO|ALTNAME/.test(code)) {
        const problem = tlsProblem(code)
        resolve({ ...base, ok: false, summary: `the registry's certificate at ${target} is not trusted (${code}${problem ? `: ${problem}` : ''}): ${untrustedFix(problem, target)}`, detail: { error: code, outcome: 'untrusted', ...(problem ? { problem } : {}) } })
        return
      }
      if (/WRONG_VERSION_NUMBER|UNKNOWN_PROTOCOL/.test(`${code} ${e.message}`)) {
        resolve({ ...base, ok: false, summary: `${target} does not speak TLS (${code}): an insecure (plain-HTTP) registry needs "insecure-registries" in the engine's daemon.json`, detail: { error: code, outcome: 'not TLS' } })
        return
      }
      const outcome = connectOutcome(code)
      resolve({ ...base, ok: false, summary: describeOutcome(outcome, host!, port, timeoutMs, code), detail: { error: code, outcome } })
    })
    req.end()
  })
}

/** What fixes each kind of untrusted registry certificate (pulls are the engine's, so its trust store). */
function untrustedFix(problem: TlsProblem | undefined, target: string): string {
  switch (problem) {
    case 'name mismatch': return `the certificate is for another name; use the name it was issued for in the image reference, or reissue it`
    case 'expired': case 'not yet valid': return `renew the certificate (or check this host's clock)`
    default: return `add its CA to the engine (/etc/docker/certs.d/${target}/ca.crt) and to the runner`
  }
}
