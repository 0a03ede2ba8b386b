/**
 * What a failed connection attempt means, told apart by errno: the words a user needs are
 * "nothing listens there", "something drops the packets" and "there is no route", not the code.
 */
export type ConnectOutcome = 'connected' | 'refused' | 'timed out' | 'unreachable' | 'unresolved' | 'reset' | 'error'

export function connectOutcome(code: string | undefined): ConnectOutcome {
  switch (code) {
    case 'ECONNREFUSED': return 'refused'
    case 'ETIMEDOUT': case 'TIMEOUT': return 'timed out'
    case 'EHOSTUNREACH': case 'ENETUNREACH': case 'EHOSTDOWN': case 'ENETDOWN': case 'EADDRNOTAVAIL': return 'unreachable'
    case 'ENOTFOUND': case 'EAI_AGAIN': case 'EAI_FAIL': case 'EAI_NONAME': case 'ENODATA': return 'unresolved'
    case 'ECONNRESET': case 'EPIPE': return 'reset'
    default: return 'error'
  }
}

export function describeOutcome(outcome: ConnectOutcome, host: string, port: number, timeoutMs: number, code?: string): string {
  switch (outcome) {
    case 'connected': return `connected to ${host}:${port}`
    case 'refused': return `connection to ${host}:${port} refused: the host answers but nothing listens on port ${port}`
    case 'timed out': return `no answer from ${host}:${port} in ${timeoutMs / 1000} s: a firewall drops the packets, or the host is down`
    case 'unreachable': return `${host}:${port} is unreachable (${code}): there is no route to it from here`
    case 'unresolved': return `${host} does not resolve (${code})`
    case 'reset': return `${host}:${port} closed the connection (${code}): a proxy or firewall cuts it`
    default: return `cannot connect to ${host}:${port} (${code ?? 'unknown error'})`
  }
}

/** Runs `fn` with an AbortSignal that fires after `ms`; the promise settles either way. */
export function withTimeout<T>(ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), ms)
  return fn(controller.signal).finally(() => clearTimeout(timer))
}
