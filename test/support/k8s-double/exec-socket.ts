import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { PassThrough, Writable } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import type { Call, DoubleContext } from './context.js'
import type { StreamRequest, StreamResult } from './kubelet.js'
import { containerFor } from './pod-log.js'
import { badRequest, notFound } from './status.js'

/**
 * pods/exec and pods/attach over WebSocket, as the apiserver proxies them to the kubelet's
 * streaming server (k8s.io/apimachinery pkg/util/remotecommand + apiserver wsstream): the
 * subprotocols v5/v4/v3/v2/channel.k8s.io (v5 preferred), one channel byte before every payload
 * (0 stdin, 1 stdout, 2 stderr, 3 status, 4 resize), v5's `[255, 0]` closing stdin while output
 * keeps flowing, and on channel 3 the metav1.Status the kubelet reports (JSON from v4 on), then
 * the close. Authorization: `get` on the subresource — and `create` as well in 1.35 mode.
 */
export const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io']

export function makeSocketServer(): WebSocketServer {
  return new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (offered) => PROTOCOLS.find((p) => offered.has(p)) ?? false,
  })
}

/** Checks an upgrade request; throws the Status to answer instead of switching protocols. */
export function checkStream(ctx: DoubleContext, call: Call): { pod: any; container: string } {
  const { path, req, url } = call
  const sub = path.subresource!
  if (String(req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
    // SPDY/3.1 (client-go's POST exec) is not spoken here; the WebSocket protocol is.
    throw badRequest(`unable to upgrade connection: the k8s double speaks only WebSocket (${String(req.headers.upgrade ?? '')} requested)`)
  }
  const attrs = { group: '', resource: 'pods', subresource: sub, namespace: path.namespace, name: path.name }
  ctx.rbac.authorize(call.account, { ...attrs, verb: 'get' })
  if (ctx.websocketNeedsCreate) ctx.rbac.authorize(call.account, { ...attrs, verb: 'create' })
  const pod = ctx.store.get('pods', path.namespace, path.name!)
  if (!pod) throw notFound('pods', path.name!)
  // The apiserver needs the pod's node to reach a kubelet (pod strategy streamLocation).
  if (!pod.spec.nodeName) throw badRequest(`pod ${path.name} does not have a host assigned`)
  const container = containerFor(pod, url.searchParams.get('container'))
  const q = url.searchParams
  if (!['stdin', 'stdout', 'stderr'].some((k) => q.get(k) === 'true' || q.get(k) === '1')) throw badRequest('you must specify at least 1 of stdin, stdout, stderr')
  return { pod, container }
}

export function serveStream(ctx: DoubleContext, wss: WebSocketServer, call: Call, socket: Duplex, head: Buffer, container: string, onOpen: () => void, dropAfterMs?: number): void {
  wss.handleUpgrade(call.req as IncomingMessage, socket, head, (ws) => {
    onOpen()
    if (dropAfterMs !== undefined) setTimeout(() => ws.terminate(), dropAfterMs).unref()
    void run(ctx, ws, call, container)
  })
}

async function run(ctx: DoubleContext, ws: WebSocket, call: Call, container: string): Promise<void> {
  const q = call.url.searchParams
  const flag = (k: string): boolean => q.get(k) === 'true' || q.get(k) === '1'
  const protocol = ws.protocol || 'channel.k8s.io'
  const tty = flag('tty')
  const open = (): boolean => ws.readyState === ws.OPEN
  const channel = (n: number): Writable => new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (open()) ws.send(Buffer.concat([Buffer.from([n]), chunk]))
      cb()
    },
  })
  const stdin = flag('stdin') ? new PassThrough() : undefined
  const endStdin = (): void => { if (stdin && !stdin.writableEnded) stdin.end() }
  ws.on('message', (data: Buffer, isBinary) => {
    if (!isBinary || data.length === 0) return
    const ch = data[0]
    if (ch === 0) stdin?.write(data.subarray(1))
    else if (ch === 255 && protocol === 'v5.channel.k8s.io' && data[1] === 0) endStdin()
    // Channel 4 (resize, JSON {"Width","Height"}) is accepted; the pipes here have no terminal to size.
  })
  ws.on('close', endStdin)
  ws.on('error', endStdin)
  const req: StreamRequest = {
    namespace: call.path.namespace!, pod: call.path.name!, container, tty,
    stdin, stdout: flag('stdout') ? channel(1) : undefined, stderr: flag('stderr') && !tty ? channel(2) : undefined,
  }
  const sub = call.path.subresource
  if (sub === 'exec') req.command = q.getAll('command')
  let result: StreamResult
  try {
    result = sub === 'exec' ? await ctx.kubelet.exec(req) : await ctx.kubelet.attach(req)
  } catch (e) {
    result = { kind: 'error', reason: 'InternalError', message: (e as Error).message }
  }
  // Let output already handed to the streams reach the socket before the status.
  await new Promise((r) => setImmediate(r))
  if (open()) {
    const status = statusFor(sub === 'exec' ? req.command! : null, result)
    const text = protocol === 'v4.channel.k8s.io' || protocol === 'v5.channel.k8s.io' ? JSON.stringify(status) : status.status === 'Failure' ? status.message : ''
    if (text) ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(text)]))
    ws.close(1000)
  }
  endStdin()
}

/** The status-channel Status the kubelet's streaming server writes (remotecommand/httpstream.go, exec.go). */
export function statusFor(command: string[] | null, r: StreamResult): Record<string, any> {
  if (r.kind === 'exited') {
    if (r.code === 0 || command === null) return { metadata: {}, status: 'Success' }
    return {
      metadata: {}, status: 'Failure',
      message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${r.code}`,
      reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: String(r.code) }] },
    }
  }
  if (r.reason === 'InternalError') {
    return { metadata: {}, status: 'Failure', message: `Internal error occurred: ${r.message}`, reason: 'InternalError', details: { causes: [{ message: r.message }] }, code: 500 }
  }
  return { metadata: {}, status: 'Failure', message: r.message, reason: r.reason, code: r.reason === 'NotFound' ? 404 : 400 }
}
