import { connect } from 'node:net'
import type { ProbeResult } from '../diagnose/types.js'
import { connectOutcome, describeOutcome } from './outcome.js'

/**
 * One TCP connect, with the way it failed told apart (refused, timed out, unreachable).
 * detail.address is the IP connected to or last tried: with a name, it shows which of its
 * addresses the failure is about (an AAAA record with no IPv6 route is a classic).
 */
export function probeTcp(host: string, port: number, opts: { timeoutMs?: number } = {}): Promise<ProbeResult> {
  const timeoutMs = opts.timeoutMs ?? 3000
  const base = { kind: 'tcp' as const, target: `${host}:${port}`, from: 'runner' as const }
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    let tried: string | undefined
    socket.on('connectionAttempt', (ip: string) => { tried = ip })
    let settled = false
    const done = (code: string | undefined, address?: string): void => {
      if (settled) return
      settled = true
      const outcome = code === undefined ? 'connected' : connectOutcome(code)
      const at = socket.remoteAddress ?? address ?? tried
      socket.destroy()
      resolve({
        ...base, ok: outcome === 'connected', summary: describeOutcome(outcome, host, port, timeoutMs, code),
        detail: { outcome, ...(code ? { error: code } : {}), ...(at ? { address: at } : {}) },
      })
    }
    socket.setTimeout(timeoutMs, () => done('TIMEOUT'))
    socket.once('connect', () => done(undefined))
    socket.once('error', (e: NodeJS.ErrnoException & { address?: string }) => done(e.code ?? 'ERROR', e.address))
  })
}
