/**
 * What a failed connection attempt means, told apart by errno: the words a user needs are
 * "nothing listens there", "something drops the packets" and "there is no route", not the code.
 */
export type ConnectOutcome = 'connected' | 'refused' | 'timed out' | 'unreachable' | 'unresolved' | 'reset' | 'error'

export function connectOutcome(code: string | undefined): ConnectOutcome {
  switch (code) {
    case 'ECONNREFUSED': return 'refused'
    case 'ETIMEDOUT': case 'TIMEOUT': return 'timed out'
    // EACCES/EPERM on connect: a prohibit route or this host's own firewall (iptables OUTPUT
    // DROP/REJECT) — no packet leaves, so "unreachable from here" is what it means.
    case 'EHOSTUNREACH': case 'ENETUNREACH': case 'EHOSTDOWN': case 'ENETDOWN': case 'EADDRNOTAVAIL': case 'EACCES': case 'EPERM': return 'unreachable'
    case 'ENOTFOUND': case 'EAI_AGAIN': case 'EAI_FAIL': case 'EAI_NONAME': case 'ENODATA': return 'unresolved'
    case 'ECONNRESET': case 'EPIPE': return 'reset'
    default: return 'error'
  }
}

export function describeOutcome(outcome: ConnectOutcome, host: string, port: number, timeoutMs: number, code?: string): string {
  switch (outcome) {
    case 'connected': return `connected to ${host}:${port}`
    case 'refused': return `connection to ${host}:${port} refused: ${host} is up but nothing listens on port ${port} (or a firewall rejects it)`
    case 'timed out': return `connecting to ${host}:${port} timed out after ${timeoutMs / 1000} s: a firewall drops the packets, or the host is down`
    case 'unreachable': return code === 'EACCES' || code === 'EPERM'
      ? `${host}:${port} is unreachable (${code}): a firewall rule or a prohibit route on this host forbids the connection`
      : `${host}:${port} is unreachable (${code}): no route to ${host} from here (a missing route or VPN, or a router says so)`
    case 'unresolved': return `${host} does not resolve (${code})`
    case 'reset': return `${host}:${port} closed the connection (${code}): a proxy or firewall cuts it`
    default: return `cannot connect to ${host}:${port} (${code ?? 'unknown error'})`
  }
}

