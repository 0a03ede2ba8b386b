import { connect } from 'node:net'
import type { ProbeResult } from '../diagnose/types.js'
import { connectOutcome, describeOutcome } from './outcome.js'

/** One TCP connect, with the way it failed told apart (refused, timed out, unreachable). */
export function probeTcp(host: string, port: number, opts: { timeoutMs?: number } = {}): Promise<ProbeResult> {
  const timeoutMs = opts.timeoutMs ?? 3000
  const base = { kind: 'tcp' as const, target: `${host}:${port}`, from: 'runner' as const }
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    const done = (code: string | undefined): void => {
      const outcome = code === undefined ? 'connected' : connectOutcome(code)
      const address = socket.remoteAddress
      socket.destroy()
      resolve({
        ...base, ok: outcome === 'connected', summary: describeOutcome(outcome, host, port, timeoutMs, code),
        detail: { outcome, ...(code ? { error: code } : {}), ...(address ? { address } : {}) },
      })
    }
    socket.setTimeout(timeoutMs, () => done('TIMEOUT'))
    socket.once('connect', () => done(undefined))
    socket.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? 'ERROR'))
  })
}
