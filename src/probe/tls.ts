import { isIP } from 'node:net'
import { type DetailedPeerCertificate, type PeerCertificate, checkServerIdentity, connect, rootCertificates } from 'node:tls'
import type { ProbeResult } from '../diagnose/types.js'
import { connectOutcome, describeOutcome } from './outcome.js'

export type TlsProblem = 'self-signed' | 'unknown CA' | 'name mismatch' | 'expired' | 'not yet valid'

const PROBLEMS: Record<string, TlsProblem> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'unknown CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown CA',
  UNABLE_TO_GET_ISSUER_CERT: 'unknown CA',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown CA',
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not yet valid',
  ERR_TLS_CERT_ALTNAME_INVALID: 'name mismatch',
}

/** The kind of trust problem an OpenSSL/Node verification code stands for (undefined: another one). */
export function tlsProblem(code: string | undefined): TlsProblem | undefined {
  return code === undefined ? undefined : PROBLEMS[code]
}

export interface TlsProbeOptions {
  /** PEM of extra CAs to trust on top of the system's (the runner's tls-ca-file). */
  ca?: string
  /** The setting that holds such a CA, named in the advice (default tls-ca-file; Kubernetes: ca_file). */
  caSetting?: string
  /** The name to send (SNI) and verify (default: host; an IP address is verified against the IP SANs). */
  servername?: string
  timeoutMs?: number
}

/**
 * A TLS handshake that accepts any certificate, then judges it the way git/curl would (system
 * roots plus the runner's CA): who signed it, for which names, until when. One probe tells
 * "self-signed" from "signed by a CA this machine does not know", "issued for another name"
 * and "expired", each of which has a different fix.
 */
export function probeTls(host: string, port: number, opts: TlsProbeOptions = {}): Promise<ProbeResult> {
  const timeoutMs = opts.timeoutMs ?? 3000
  const base = { kind: 'tls' as const, target: `${host}:${port}`, from: 'runner' as const }
  const servername = opts.servername ?? (isIP(host) ? undefined : host)
  return new Promise((resolve) => {
    const socket = connect({ host, port, rejectUnauthorized: false, ...(servername ? { servername } : {}), ...(opts.ca ? { ca: [...rootCertificates, opts.ca] } : {}) })
    let settled = false
    const finish = (r: ProbeResult): void => {
      if (settled) return
      settled = true
      socket.destroy()
      resolve(r)
    }
    socket.setTimeout(timeoutMs, () => finish({ ...base, ok: false, summary: `no TLS handshake with ${host}:${port} in ${timeoutMs / 1000} s: packets are dropped (firewall, or an MTU problem on the path)`, detail: { outcome: 'timed out', error: 'TIMEOUT' } }))
    socket.once('error', (e: NodeJS.ErrnoException) => {
      const code = e.code ?? 'ERROR'
      const notTls = /WRONG_VERSION_NUMBER|UNKNOWN_PROTOCOL|PACKET_LENGTH_TOO_LONG|RECORD_LAYER/i.test(`${code} ${e.message}`)
      const outcome = connectOutcome(code)
      finish({
        ...base, ok: false, detail: { outcome: notTls ? 'not TLS' : outcome, error: code },
        summary: notTls ? `${host}:${port} does not speak TLS (${code}): it is a plain-HTTP port, or a proxy answers instead`
          : outcome === 'error' || outcome === 'reset' ? `the TLS handshake with ${host}:${port} failed (${code}: ${e.message})` : describeOutcome(outcome, host, port, timeoutMs, code),
      })
    })
    socket.once('secureConnect', () => {
      const leaf = socket.getPeerCertificate(true)
      const chain = chainOf(leaf)
      // git and curl check an IP address against the certificate's IP SANs, so this does too.
      const nameError = checkServerIdentity(servername ?? host, leaf)
      const authError = socket.authorizationError ? String((socket.authorizationError as unknown as { code?: string }).code ?? socket.authorizationError) : undefined
      const error = authError ?? (nameError ? 'ERR_TLS_CERT_ALTNAME_INVALID' : undefined)
      const problem = tlsProblem(error)
      const detail: Record<string, unknown> = {
        subject: dn(leaf.subject), issuer: dn(leaf.issuer), validTo: leaf.valid_to, altNames: altNames(leaf),
        chain: chain.map((c) => `${dn(c.subject)} ← ${dn(c.issuer)}`), protocol: socket.getProtocol(),
        ...(error ? { error } : {}), ...(problem ? { problem } : {}),
      }
      finish({ ...base, ok: !error, summary: summary(host, port, problem, error, leaf, servername ?? host, opts.ca !== undefined, opts.caSetting ?? 'tls-ca-file'), detail })
    })
  })
}

function summary(host: string, port: number, problem: TlsProblem | undefined, error: string | undefined, leaf: PeerCertificate, name: string, withCa: boolean, setting: string): string {
  const who = `the certificate of ${host}:${port} (${dn(leaf.subject)}, issued by ${dn(leaf.issuer)})`
  const trust = withCa ? `the system CAs or the configured ${setting}` : 'the system CAs'
  switch (problem) {
    case undefined: return error ? `${who} is not trusted (${error})` : `${who} is trusted${withCa ? ' with the configured CA' : ''}, valid until ${leaf.valid_to}`
    case 'self-signed': return `${who} is self-signed and not trusted by ${trust}: give the runner ${setting}`
    case 'unknown CA': return `${who} is signed by a CA not in ${trust}: give the runner ${setting} with that CA`
    case 'name mismatch': return `${who} is for ${altNames(leaf).join(', ') || dn(leaf.subject)}, not for ${name}: use the name the certificate was issued for, or reissue it`
    case 'expired': return `${who} expired on ${leaf.valid_to}: renew it`
    case 'not yet valid': return `${who} is not valid before ${leaf.valid_from}: check the clocks, or the certificate's dates`
  }
}

function chainOf(leaf: DetailedPeerCertificate): PeerCertificate[] {
  const out: PeerCertificate[] = []
  let c: DetailedPeerCertificate | undefined = leaf
  while (c && Object.keys(c).length > 0 && out.length < 10) {
    out.push(c)
    if (!c.issuerCertificate || c.issuerCertificate === c || c.issuerCertificate.fingerprint256 === c.fingerprint256) break
    c = c.issuerCertificate
  }
  return out
}

function dn(name: Partial<Record<string, string | string[]>> | undefined): string {
  if (!name) return '?'
  const cn = name['CN']
  if (cn) return `CN=${Array.isArray(cn) ? cn[0] : cn}`
  return Object.entries(name).map(([k, v]) => `${k}=${Array.isArray(v) ? v[0] : v}`).join(', ') || '?'
}

function altNames(c: PeerCertificate): string[] {
  return (c.subjectaltname ?? '').split(/,\s*/).map((s) => s.replace(/^(DNS|IP Address):/, '')).filter(Boolean)
}
