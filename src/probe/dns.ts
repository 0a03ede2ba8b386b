import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import type { ProbeResult } from '../diagnose/types.js'

const WORDS: Record<string, string> = {
  ENOTFOUND: 'no such name',
  EAI_AGAIN: 'the DNS server did not answer in time',
  EAI_FAIL: 'the DNS server failed',
  ENODATA: 'the name has no address',
  TIMEOUT: 'no answer',
}

/**
 * Resolves `host` on the runner host the way git and curl do (getaddrinfo: /etc/hosts first,
 * then DNS), so "the runner resolves it" means what the runner's own requests would see.
 */
export async function probeDns(host: string, opts: { timeoutMs?: number } = {}): Promise<ProbeResult> {
  const timeoutMs = opts.timeoutMs ?? 3000
  const base = { kind: 'dns' as const, target: host, from: 'runner' as const }
  if (isIP(host)) return { ...base, ok: true, summary: `${host} is an IP address: nothing to resolve`, detail: { addresses: [host] } }
  let timer: NodeJS.Timeout | undefined
  try {
    const found = await Promise.race([
      lookup(host, { all: true }),
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })), timeoutMs) }),
    ])
    const addresses = [...new Set(found.map((a) => a.address))]
    return { ...base, ok: true, summary: `the runner host resolves ${host} to ${addresses.join(', ')}`, detail: { addresses } }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'ERROR'
    const why = code === 'TIMEOUT' ? `no answer in ${timeoutMs / 1000} s` : `${code}: ${WORDS[code] ?? (e as Error).message}`
    return { ...base, ok: false, summary: `the runner host cannot resolve ${host} (${why})`, detail: { error: code } }
  } finally {
    clearTimeout(timer)
  }
}
