import type { Writable } from 'node:stream'
import type { KubeConfig } from '@kubernetes/client-node'
import WebSocket from 'ws'

/** How an exec ended: the process's exit code, or why it could not run (the Status's message). */
export type ExecEnd = { kind: 'exited'; code: number } | { kind: 'error'; message: string; httpCode?: number }

export interface ExecIO {
  stdin?: NodeJS.ReadableStream
  stdout?: Writable
  stderr?: Writable
}

const STDIN = 0
const STDOUT = 1
const STDERR = 2
const STATUS = 3
const CLOSE = 255
/** Stop reading stdin while this much is queued on the socket: a 2 GB artifact never sits in memory. */
const HIGH_WATER = 1 << 20

/**
 * Runs a command in a pod's container over the exec subresource (WebSocket, channel protocol v5,
 * v4 accepted), as kubectl does. Written here rather than through client-node's Exec because
 * that one sends stdin without back-pressure and pauses none of the output: artifacts and
 * caches of gigabytes cross this way.
 * stdout and stderr back-pressure the socket; under v5 stdin's end is sent as "close stdin" and
 * the output keeps coming; under v4 the socket is closed at the end of stdin (there is no other way).
 */
export async function execInPod(kc: KubeConfig, namespace: string, pod: string, container: string, command: string[] | 'attach', io: ExecIO, signal?: AbortSignal): Promise<ExecEnd> {
  const cluster = kc.getCurrentCluster()
  if (!cluster) return { kind: 'error', message: 'no cluster in the kubeconfig' }
  const q = new URLSearchParams()
  // `attach`: the container's main process (its stdin and output) instead of a new command.
  if (command !== 'attach') for (const c of command) q.append('command', c)
  q.set('container', container)
  q.set('stdin', String(!!io.stdin))
  q.set('stdout', String(!!io.stdout))
  q.set('stderr', String(!!io.stderr))
  q.set('tty', 'false')
  const url = `${cluster.server.replace(/^http/, 'ws')}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/${command === 'attach' ? 'attach' : 'exec'}?${q}`
  const opts: WebSocket.ClientOptions = {}
  await kc.applyToHTTPSOptions(opts)
  return new Promise<ExecEnd>((resolve) => {
    const ws = new WebSocket(url, ['v5.channel.k8s.io', 'v4.channel.k8s.io'], opts)
    let end: ExecEnd | undefined
    const finish = (e: ExecEnd): void => {
      end ??= e
    }
    const onAbort = (): void => {
      finish({ kind: 'error', message: 'canceled' })
      ws.terminate()
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    ws.on('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (d: Buffer) => { body += d.toString() })
      res.on('end', () => {
        let message = body.trim() || `HTTP ${res.statusCode}`
        try {
          message = (JSON.parse(body) as { message?: string }).message ?? message
        } catch { /* not a Status: keep the text */ }
        finish({ kind: 'error', message, ...(res.statusCode ? { httpCode: res.statusCode } : {}) })
        ws.terminate()
      })
    })
    ws.on('error', (e) => finish({ kind: 'error', message: e.message }))
    ws.on('close', () => {
      signal?.removeEventListener('abort', onAbort)
      io.stdout?.end()
      if (io.stderr && io.stderr !== io.stdout) io.stderr.end()
      resolve(end ?? { kind: 'error', message: 'the exec stream closed without an exit status' })
    })
    ws.on('open', () => {
      if (io.stdin) pumpStdin(ws, io.stdin)
    })
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary || data.length === 0) return
      const ch = data[0]
      const payload = data.subarray(1)
      if (ch === STDOUT || ch === STDERR) {
        const to = ch === STDOUT ? io.stdout : io.stderr
        if (to && payload.length && !to.write(payload)) {
          ws.pause()
          to.once('drain', () => ws.resume())
        }
      } else if (ch === STATUS) {
        finish(statusEnd(payload.toString('utf8')))
      } else if (ch === CLOSE) {
        /* the server closed one of our streams: nothing to do */
      }
    })
  })
}

function statusEnd(text: string): ExecEnd {
  try {
    const s = JSON.parse(text) as { status?: string; message?: string; reason?: string; details?: { causes?: { reason?: string; message?: string }[] } }
    if (s.status === 'Success') return { kind: 'exited', code: 0 }
    const exit = s.details?.causes?.find((c) => c.reason === 'ExitCode')?.message
    if (s.reason === 'NonZeroExitCode' && exit !== undefined && /^\d+$/.test(exit)) return { kind: 'exited', code: Number(exit) }
    return { kind: 'error', message: s.message ?? text }
  } catch {
    return { kind: 'error', message: text }
  }
}

function pumpStdin(ws: WebSocket, stdin: NodeJS.ReadableStream): void {
  const header = Buffer.from([STDIN])
  stdin.on('data', (chunk: Buffer | string) => {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    if (ws.readyState !== WebSocket.OPEN) return
    ws.send(Buffer.concat([header, b]))
    if (ws.bufferedAmount > HIGH_WATER) {
      stdin.pause()
      const wait = (): void => {
        if (ws.readyState !== WebSocket.OPEN || ws.bufferedAmount <= HIGH_WATER / 4) stdin.resume()
        else setTimeout(wait, 5)
      }
      setTimeout(wait, 5)
    }
  })
  stdin.on('end', () => {
    if (ws.readyState !== WebSocket.OPEN) return
    if (ws.protocol === 'v5.channel.k8s.io') ws.send(Buffer.from([CLOSE, STDIN]))
    else ws.close()
  })
  stdin.on('error', () => ws.terminate())
}
