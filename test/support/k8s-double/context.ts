import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Kubelet } from './kubelet.js'
import type { Account, Rbac } from './rbac.js'
import type { Store } from './store.js'

/** A request as the apiserver sees it. */
export interface RecordedRequest {
  seq: number
  method: string
  path: string
  /** Query parameters; repeated ones (exec's `command=`) as arrays. */
  query: Record<string, string | string[]>
  /** Request headers, `authorization` redacted to `Bearer <redacted>`. */
  headers: Record<string, string>
  /** The parsed JSON (or YAML) body, the raw text when it does not parse, null without one. */
  body: unknown
  /** The HTTP status answered (101 for an accepted WebSocket upgrade); null while pending; 0 for an injected reset. */
  status: number | null
  /** The service account the token authenticated as. */
  serviceAccount: string | null
  /** `Warning` headers sent with the answer. */
  warnings: string[]
}

/** What every handler shares: the store, the role table, the node, the knobs. */
export interface DoubleContext {
  store: Store
  rbac: Rbac
  kubelet: Kubelet
  websocketNeedsCreate: boolean
  gitVersion: string
  bookmarkMs: number
  /** Scratch directory of this double (certificates, kubeconfigs). */
  dir: string
}

/** A parsed resource path: `/api/v1/namespaces/ns/pods/p/exec` ⇒ {group:'', version:'v1', namespace:'ns', resource:'pods', name:'p', subresource:'exec'}. */
export interface ResourcePath {
  group: string
  version: string
  namespace?: string
  resource: string
  name?: string
  subresource?: string
}

export interface Call {
  req: IncomingMessage
  res: ServerResponse
  url: URL
  account: Account
  record: RecordedRequest
  path: ResourcePath
  /** The request body bytes (empty for none). */
  body: Buffer
}

export function parseResourcePath(pathname: string): ResourcePath | undefined {
  const seg = pathname.split('/').filter((s) => s !== '').map(decodeURIComponent)
  let group: string
  let version: string
  let rest: string[]
  if (seg[0] === 'api' && seg.length >= 3) { group = ''; version = seg[1]!; rest = seg.slice(2) }
  else if (seg[0] === 'apis' && seg.length >= 4) { group = seg[1]!; version = seg[2]!; rest = seg.slice(3) }
  else return undefined
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const [, namespace, resource, name, subresource, ...more] = rest
    if (more.length > 0) return undefined
    return { group, version, namespace, resource: resource!, name, subresource }
  }
  const [resource, name, subresource, ...more] = rest
  if (more.length > 0) return undefined
  // `namespaces/<name>` is the Namespace object itself; RBAC then sees its name as the namespace.
  return { group, version, resource: resource!, name, subresource, namespace: resource === 'namespaces' ? name : undefined }
}
