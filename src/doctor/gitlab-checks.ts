import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import type { ProbeResult } from '../diagnose/types.js'
import { probeDns, probeTcp, probeTls } from '../probe/index.js'
import type { RunnerSettings } from '../runner-config/types.js'
import type { CheckContext, Finding } from './types.js'

/** A certificate this close to its end is worth a warning: renewals get forgotten. */
const EXPIRY_WARNING_DAYS = 14

/**
 * GitLab as the runner reaches it: the name resolves on this machine, something answers on the
 * port, and (https) the certificate is one the runner trusts, with its tls-ca-file if it has one.
 * Each step runs only when the one before passed: a refused connection has no certificate.
 */
export async function checkGitlabUrl(scope: string, runner: RunnerSettings, key: 'url' | 'clone_url', url: string, ctx: CheckContext): Promise<Finding[]> {
  const at = parseHttpUrl(url)
  if (!at) {
    return [{ scope, check: key, status: 'fail', what: `${key} "${url}" is not an http:// or https:// URL`, fix: `Set ${key} to GitLab's address as the browser shows it:`, snippet: `${key} = "https://gitlab.example.com/"` }]
  }
  const { host, port, https } = at
  const timeoutMs = ctx.timeoutMs
  const out: Finding[] = []
  const dns = await probeDns(host, { timeoutMs })
  if (!dns.ok) {
    out.push({
      scope, check: 'dns', status: 'fail', what: dns.summary, probe: dns,
      fix: `Make ${host} resolvable on this machine: fix the DNS server it uses (/etc/resolv.conf), or pin the name in /etc/hosts:`,
      snippet: `echo "<GitLab's IP address>  ${host}" >> /etc/hosts`,
    })
    return out
  }
  out.push({ scope, check: 'dns', status: 'ok', what: dns.summary, probe: dns })

  const tcp = await probeTcp(host, port, { timeoutMs })
  if (!tcp.ok) {
    out.push({ scope, check: 'tcp', status: 'fail', what: tcp.summary, probe: tcp, fix: connectFix(tcp, host, port, key) })
    return out
  }
  out.push({ scope, check: 'tcp', status: 'ok', what: tcp.summary, probe: tcp })

  if (!https) {
    out.push(plainHttpFinding(scope, key, url, (dns.detail?.['addresses'] as string[] | undefined) ?? []))
    return out
  }
  let ca: string | undefined
  if (runner.tlsCaFile) {
    try {
      ca = readFileSync(runner.tlsCaFile, 'utf8')
    } catch (e) {
      out.push({
        scope, check: 'tls-ca-file', status: 'fail', what: `tls-ca-file "${runner.tlsCaFile}" cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
        fix: `Point tls-ca-file at a PEM file with the certificate of ${host}, or the CA that signed it (the TLS check below ran without it).`,
      })
    }
  }
  const tls = await probeTls(host, port, { timeoutMs, ...(ca ? { ca } : {}) })
  out.push(tlsFinding(scope, runner, key, tls, host, port, ca !== undefined))
  return out
}

/** The host, port and scheme of an http(s) URL; undefined for anything else. */
export function parseHttpUrl(url: string): { host: string; port: number; https: boolean } | undefined {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return undefined
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return undefined
  const https = u.protocol === 'https:'
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname
  return { host, port: u.port ? Number(u.port) : https ? 443 : 80, https }
}

/**
 * Plain HTTP: the runner's token and every job's token cross the network readable by anyone on
 * the path — unless the path is this machine's loopback.
 */
export function plainHttpFinding(scope: string, key: string, url: string, addresses: readonly string[]): Finding {
  const loopback = addresses.length > 0 && addresses.every((a) => /^127\./.test(a) || a === '::1' || /^::ffff:127\./.test(a))
  if (loopback) return { scope, check: 'http', status: 'ok', what: `${key} ${url} is plain HTTP, but only over this machine's loopback` }
  return {
    scope, check: 'http', status: 'warn', what: `${key} ${url} is plain HTTP: the runner token and job tokens travel unencrypted`,
    fix: 'Serve GitLab over HTTPS (external_url "https://..." in gitlab.rb) and use the https:// address here.',
    snippet: `${key} = "${url.replace(/^http:/, 'https:').replace(/:80(?=\/|$)/, '')}"`,
  }
}

function connectFix(tcp: ProbeResult, host: string, port: number, key: string): string {
  switch (tcp.detail?.['outcome']) {
    case 'refused': return `Nothing listens on ${host}:${port}. Check the port in ${key} (GitLab serves HTTPS on 443 unless configured otherwise) and that GitLab is running.`
    case 'timed out': return `Something drops the traffic to ${host}:${port}, or the host is down. Allow outgoing TCP ${port} from this machine to it; if this network needs a proxy, give the runner HTTPS_PROXY / NO_PROXY in its environment.`
    case 'unreachable': return `This machine has no route to ${host}${tcp.detail?.['address'] ? ` (${String(tcp.detail['address'])})` : ''}. Check the VPN or routes (ip route get ${String(tcp.detail?.['address'] ?? host)}), or a local firewall.`
    case 'reset': return `A proxy or firewall closes connections to ${host}:${port}. Allow them, or give the runner the proxy it must use (HTTPS_PROXY).`
    default: return `Check that ${key} points at GitLab and that GitLab is up.`
  }
}

function tlsFinding(scope: string, runner: RunnerSettings, key: string, tls: ProbeResult, host: string, port: number, withCa: boolean): Finding {
  const base = { scope, check: 'tls', what: tls.summary, probe: tls }
  const d = tls.detail ?? {}
  if (tls.ok) {
    const days = (Date.parse(String(d['validTo'])) - Date.now()) / 86_400_000
    const left = Math.max(0, Math.floor(days))
    if (days < EXPIRY_WARNING_DAYS) return { ...base, status: 'warn', what: `${tls.summary} — ${left === 0 ? 'less than a day' : `${left} day${left === 1 ? '' : 's'}`} from now`, fix: `Renew the certificate of ${host} before it expires: then every clone and API call fails.` }
    return { ...base, status: 'ok' }
  }
  switch (d['problem']) {
    case 'self-signed':
    case 'unknown CA': {
      const file = `/etc/gitlab-runner/certs/${host}.crt`
      const connect = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`
      const fetch = `openssl s_client -showcerts -connect ${connect}${isIP(host) ? '' : ` -servername ${host}`} </dev/null 2>/dev/null | sed -n '/BEGIN CERTIFICATE/,/END CERTIFICATE/p' > ${file}`
      const why = withCa
        ? `tls-ca-file "${runner.tlsCaFile}" does not hold ${d['problem'] === 'self-signed' ? 'this self-signed certificate' : `the CA that signed it (${String(d['issuer'])})`}. Replace it with the certificates ${host} presents (check them before you trust them):`
        : `Trust it: save the certificates ${host} presents (check them before you trust them) and point the runner's tls-ca-file at the file; the runner then also hands it to git and the jobs:`
      return { ...base, status: 'fail', fix: why, snippet: `mkdir -p /etc/gitlab-runner/certs\n${fetch}\n\n# config.toml, in this runner's [[runners]] section:\ntls-ca-file = "${file}"` }
    }
    case 'name mismatch': {
      const names = ((d['altNames'] as string[] | undefined) ?? []).filter((n) => !n.includes('*'))
      return {
        ...base, status: 'fail', fix: `Use a name the certificate is issued for in ${key}${names.length ? ` (${names.join(', ')})` : ''}, or reissue the certificate with ${host} in its subjectAltName.`,
        ...(names[0] ? { snippet: `${key} = "https://${names[0]}${port === 443 ? '' : `:${port}`}/"` } : {}),
      }
    }
    case 'expired': return { ...base, status: 'fail', fix: `Renew the certificate of ${host} (it expired on ${String(d['validTo'])}); if it looks valid on GitLab, check this machine's clock (date -u).` }
    case 'not yet valid': return { ...base, status: 'fail', fix: `Check this machine's clock (date -u; enable NTP): the certificate of ${host} is not valid yet.` }
  }
  if (d['outcome'] === 'not TLS') return { ...base, status: 'fail', fix: `${host}:${port} speaks plain HTTP: use http:// in ${key}, or the port GitLab serves HTTPS on.` }
  if (d['outcome'] === 'timed out') return { ...base, status: 'fail', fix: `The TCP connection works but the handshake never completes: look for a proxy or firewall inspecting TLS, or an MTU problem on the path (try a smaller MTU on the VPN).` }
  return { ...base, status: 'fail', fix: `Check what answers on ${host}:${port}: \`openssl s_client -connect ${isIP(host) === 6 ? `[${host}]` : host}:${port}\` shows the handshake.` }
}
