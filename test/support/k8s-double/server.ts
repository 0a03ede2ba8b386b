import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { Duplex } from 'node:stream'
import { makeCertificates } from '../git-https.js'
import { type Call, type DoubleContext, type RecordedRequest, parseResourcePath } from './context.js'
import { apiGroups, apiVersions, resourceList, selfSubjectAccessReview, version } from './discovery.js'
import { checkStream, makeSocketServer, serveStream } from './exec-socket.js'
import type { Kubelet } from './kubelet.js'
import { ALL, type Account, Rbac, type RbacRule } from './rbac.js'
import { handleResource, parseBody } from './rest.js'
import { ApiError, failure, injected, sendJson, sendStatus } from './status.js'
import { Store } from './store.js'

export type { RbacRule } from './rbac.js'
export type { RecordedRequest } from './context.js'

export interface K8sDoubleOptions {
  kubelet: Kubelet
  /** bearer token → service account ("namespace:name") and its rules; default: one token 'admin-token' for "kube-system:admin" with every verb on every resource */
  accounts?: Record<string, { serviceAccount: string; rules: RbacRule[] }>
  /** 1.35 behaviour: WebSocket exec/attach also need `create` (not only `get`) on pods/exec, pods/attach */
  websocketNeedsCreate?: boolean
  /** GET /version; default 'v1.33.2' */
  gitVersion?: string
  /** existing namespaces (each with a 'default' ServiceAccount); default ['default'] */
  namespaces?: string[]
  /** extra "ns:name" service accounts that exist */
  serviceAccounts?: string[]
  /** how often a watch with allowWatchBookmarks sends a BOOKMARK; default 1000 ms (the apiserver: about a minute) */
  bookmarkMs?: number
}

export interface Fault {
  method?: string
  path: RegExp
  times?: number
  status?: number
  retryAfter?: number
  reset?: boolean
  /** answer only after this long (then normally, or with `status`/`reset`): a slow apiserver */
  delayMs?: number
  /** exec/attach: serve the stream, then drop its connection after this long (a network blip) */
  dropAfterMs?: number
}

export interface K8sDouble {
  url: string
  caPath: string
  caPem: string
  /** writes a kubeconfig for this token (current context, namespace) and returns its path */
  kubeconfig(token: string, namespace?: string): string
  /** every request: method, path, query, headers (Authorization redacted), parsed body, status */
  requests: RecordedRequest[]
  /** stored objects of a kind ('pods','secrets','configmaps','events','namespaces','serviceaccounts', …), optionally in one namespace */
  objects(kind: string, namespace?: string): any[]
  /** fault injection: answer the next `times` requests matching method+path regex with status (+Retry-After), or reset the connection */
  inject(f: Fault): void
  /** etcd compaction: every resourceVersion up to now becomes too old to watch from (⇒ ERROR 410 Expired) */
  compact(): void
  /** Closes the listener and every open stream (the kubelet is the caller's to close). */
  close(): Promise<void>
}

/** Paths anyone may GET without a token (system:public-info-viewer). */
const PUBLIC = new Set(['/version', '/healthz', '/livez', '/readyz'])

export async function startK8sDouble(dir: string, opts: K8sDoubleOptions): Promise<K8sDouble> {
  mkdirSync(dir, { recursive: true })
  const tls = makeCertificates(join(dir, 'tls'), ['localhost', '127.0.0.1'])
  const caPem = readFileSync(tls.ca, 'utf8')
  const store = new Store()
  const ctx: DoubleContext = {
    store, kubelet: opts.kubelet, dir,
    rbac: new Rbac(opts.accounts ?? { 'admin-token': { serviceAccount: 'kube-system:admin', rules: ALL } }),
    websocketNeedsCreate: opts.websocketNeedsCreate ?? false,
    gitVersion: opts.gitVersion ?? 'v1.33.2',
    bookmarkMs: opts.bookmarkMs ?? 1000,
  }
  seed(store, opts)
  const requests: RecordedRequest[] = []
  const faults: (Fault & { left: number })[] = []
  const wss = makeSocketServer()

  const begin = (req: IncomingMessage): { record: RecordedRequest; url: URL } => {
    const url = new URL(req.url ?? '/', 'https://double')
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v
    if (headers.authorization) headers.authorization = headers.authorization.replace(/^(\S+)\s.*$/, '$1 <redacted>')
    const query: Record<string, string | string[]> = {}
    for (const k of new Set(url.searchParams.keys())) {
      const all = url.searchParams.getAll(k)
      query[k] = all.length === 1 ? all[0]! : all
    }
    const record: RecordedRequest = { seq: requests.length + 1, method: req.method ?? '', path: url.pathname, query, headers, body: null, status: null, serviceAccount: null, warnings: [] }
    requests.push(record)
    return { record, url }
  }

  /** A matching fault, consumed. */
  const fault = (req: IncomingMessage, url: URL): Fault | undefined => {
    const f = faults.find((x) => x.left > 0 && (!x.method || x.method === req.method) && x.path.test(url.pathname))
    if (f) f.left--
    return f
  }

  const authenticate = (req: IncomingMessage, url: URL, record: RecordedRequest): Account | null => {
    if (req.headers.authorization === undefined && PUBLIC.has(url.pathname) && req.method === 'GET') return null
    const account = ctx.rbac.authenticate(req.headers.authorization)
    record.serviceAccount = account.serviceAccount
    return account
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const { record, url } = begin(req)
    const writeHead = res.writeHead.bind(res) as (status: number, ...rest: unknown[]) => ServerResponse
    res.writeHead = ((status: number, ...rest: unknown[]) => { record.status = status; return writeHead(status, ...rest) }) as ServerResponse['writeHead']
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      record.body = body.length ? parseRecorded(body) : null
      const f = fault(req, url)
      const answer = (): void => {
        if (res.destroyed) return
        if (f?.reset) { record.status = 0; req.socket.destroy(); return }
        const status = injectedStatus(f)
        if (status !== undefined) { sendJson(res, status, injected(status, f!.retryAfter), f!.retryAfter !== undefined ? { 'Retry-After': String(f!.retryAfter) } : {}); return }
        route(req, res, url, record, body).catch((e: unknown) => {
          if (res.headersSent) { res.destroy(); return }
          if (e instanceof ApiError) sendStatus(res, e)
          else sendJson(res, 500, failure(500, 'InternalError', `Internal error occurred: ${(e as Error).message}`, { causes: [{ message: (e as Error).message }] }))
        })
      }
      if (f?.delayMs) setTimeout(answer, f.delayMs)
      else answer()
    })
  }

  const route = async (req: IncomingMessage, res: ServerResponse, url: URL, record: RecordedRequest, body: Buffer): Promise<void> => {
    const account = authenticate(req, url, record)
    const p = url.pathname
    if (req.method === 'GET') {
      if (p === '/version') return sendJson(res, 200, version(ctx))
      if (PUBLIC.has(p)) { res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }); res.end('ok'); return }
      if (p === '/api') return sendJson(res, 200, apiVersions(`${req.socket.localAddress}:${req.socket.localPort}`))
      if (p === '/apis') return sendJson(res, 200, apiGroups())
      const gv = /^\/api\/(v1)$/.exec(p) ?? /^\/apis\/([^/]+)\/([^/]+)$/.exec(p)
      if (gv) {
        const list = gv.length === 2 ? resourceList('', gv[1]!) : resourceList(gv[1]!, gv[2]!)
        if (list) return sendJson(res, 200, list)
      }
    }
    if (p === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews' && req.method === 'POST') {
      const call = { req, res, url, account: account!, record, body, path: { group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectaccessreviews' } } satisfies Call
      return sendJson(res, 201, selfSubjectAccessReview(ctx.rbac, account!, parseBody(call)))
    }
    const path = parseResourcePath(p)
    if (!path || !account) throw new ApiError(failure(404, 'NotFound', 'the server could not find the requested resource', {}))
    await handleResource(ctx, { req, res, url, account, record, path, body })
  }

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const { record, url } = begin(req)
    const refuse = (e: ApiError): void => {
      record.status = e.status.code
      const text = JSON.stringify(e.status)
      socket.end(`HTTP/1.1 ${e.status.code} ${e.status.reason ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`)
    }
    try {
      const f = fault(req, url)
      if (f?.reset) { record.status = 0; socket.destroy(); return }
      const status = injectedStatus(f)
      if (status !== undefined) return refuse(new ApiError(injected(status, f!.retryAfter)))
      const account = ctx.rbac.authenticate(req.headers.authorization)
      record.serviceAccount = account.serviceAccount
      const path = parseResourcePath(url.pathname)
      if (!path || path.resource !== 'pods' || !['exec', 'attach'].includes(path.subresource ?? '') || req.method !== 'GET' && String(req.headers.upgrade).toLowerCase() === 'websocket') {
        throw new ApiError(failure(404, 'NotFound', 'the server could not find the requested resource', {}))
      }
      const call: Call = { req, res: undefined as unknown as ServerResponse, url, account, record, path, body: Buffer.alloc(0) }
      const { container } = checkStream(ctx, call)
      serveStream(ctx, wss, call, socket, head, container, () => { record.status = 101 }, f?.dropAfterMs)
    } catch (e) {
      if (e instanceof ApiError) refuse(e)
      else socket.destroy()
    }
  }

  const server = createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, onRequest)
  server.on('upgrade', onUpgrade)
  server.on('clientError', (_e, socket) => socket.destroy())
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  let kubeconfigs = 0

  return {
    url, caPath: tls.ca, caPem, requests,
    kubeconfig(token, namespace = 'default') {
      const file = join(dir, `kubeconfig-${++kubeconfigs}.yaml`)
      writeFileSync(file, [
        'apiVersion: v1', 'kind: Config',
        'clusters:', '- name: k8s-double', '  cluster:', `    server: ${url}`, `    certificate-authority-data: ${Buffer.from(caPem).toString('base64')}`,
        'users:', '- name: k8s-double-user', '  user:', `    token: ${token}`,
        'contexts:', '- name: k8s-double', '  context:', '    cluster: k8s-double', '    user: k8s-double-user', `    namespace: ${namespace}`,
        'current-context: k8s-double', '',
      ].join('\n'))
      return file
    },
    objects: (kind, namespace) => store.list(kind, namespace),
    inject(f) { faults.push({ ...f, left: f.times ?? 1 }) },
    compact: () => store.compact(),
    async close() {
      for (const c of wss.clients) c.terminate()
      wss.close()
      await new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections() })
    },
  }
}

function seed(store: Store, opts: K8sDoubleOptions): void {
  const ensureNs = (ns: string): void => {
    if (store.get('namespaces', undefined, ns)) return
    store.create('namespaces', { kind: 'Namespace', apiVersion: 'v1', metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } })
    store.create('serviceaccounts', { kind: 'ServiceAccount', apiVersion: 'v1', metadata: { name: 'default', namespace: ns } })
  }
  for (const ns of opts.namespaces ?? ['default']) ensureNs(ns)
  for (const sa of opts.serviceAccounts ?? []) {
    const [ns, name] = sa.split(':') as [string, string]
    ensureNs(ns)
    if (!store.get('serviceaccounts', ns, name)) store.create('serviceaccounts', { kind: 'ServiceAccount', apiVersion: 'v1', metadata: { name, namespace: ns } })
  }
}

/** The status a fault answers with: its own, 500 when it names neither a reset nor a delay, none for a pure delay. */
function injectedStatus(f: Fault | undefined): number | undefined {
  if (!f || f.reset) return undefined
  return f.status ?? (f.delayMs || f.dropAfterMs !== undefined ? undefined : 500)
}

function parseRecorded(body: Buffer): unknown {
  const text = body.toString('utf8')
  try { return JSON.parse(text) } catch { return text }
}
