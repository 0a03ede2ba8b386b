import { randomInt } from 'node:crypto'
import { parse as parseYaml } from 'yaml'
import type { Call, DoubleContext } from './context.js'
import { type KindDef, apiVersionOf, kindOf } from './kinds.js'
import { admit, deleteObject, started } from './lifecycle.js'
import { PATCH_TYPES, applyPatch } from './patch.js'
import { podLog } from './pod-log.js'
import { fieldSelector, labelSelector } from './selectors.js'
import { ApiError, alreadyExists, badRequest, conflict, failure, methodNotAllowed, notFound, sendJson, success, unsupportedMediaType } from './status.js'
import { type Decoded, decode, validate } from './validate.js'
import { serveWatch } from './watch.js'
import { tableFor, wantsTable } from './table.js'

/**
 * The resource endpoints: create / get / list / watch / update / delete of the kinds in
 * kinds.ts, and the pods subresources status and log (exec and attach are WebSocket upgrades,
 * exec-socket.ts; a plain request to them is the apiserver's 400 "Upgrade request required").
 * RBAC is checked first, with the verb the apiserver derives from method and path.
 */
export function verbOf(method: string, call: Pick<Call, 'url' | 'path'>): string {
  const { name } = call.path
  const watch = ['true', '1'].includes(call.url.searchParams.get('watch') ?? '')
  switch (method) {
    case 'GET': case 'HEAD': return watch ? 'watch' : name ? 'get' : 'list'
    case 'POST': return 'create'
    case 'PUT': return 'update'
    case 'PATCH': return 'patch'
    case 'DELETE': return name ? 'delete' : 'deletecollection'
    default: return method.toLowerCase()
  }
}

export async function handleResource(ctx: DoubleContext, call: Call): Promise<void> {
  const { path, req } = call
  const def = kindOf(path.group, path.resource)
  if (!def || path.version !== def.version || (path.namespace !== undefined && !def.namespaced && path.resource !== 'namespaces')) {
    throw new ApiError(failure(404, 'NotFound', 'the server could not find the requested resource', {}))
  }
  const method = req.method ?? 'GET'
  const verb = verbOf(method, call)
  ctx.rbac.authorize(call.account, { verb, group: def.group, resource: def.resource, subresource: path.subresource, namespace: path.namespace, name: path.name })
  const namespace = def.namespaced ? path.namespace : undefined

  if (path.subresource !== undefined) {
    if (def.resource !== 'pods' || !path.name) throw new ApiError(failure(404, 'NotFound', 'the server could not find the requested resource', {}))
    if (path.subresource === 'exec' || path.subresource === 'attach') {
      if (!ctx.store.get('pods', namespace, path.name)) throw notFound('pods', path.name)
      throw badRequest('Upgrade request required')
    }
    if (path.subresource === 'status' && method === 'GET') return get(ctx, call, def, namespace)
    if (path.subresource === 'log' && method === 'GET') return podLog(ctx, call, namespace!, path.name)
    throw methodNotAllowed()
  }
  switch (verb) {
    case 'get': return get(ctx, call, def, namespace)
    case 'list': return list(ctx, call, def, namespace)
    case 'watch': return watch(ctx, call, def, namespace)
    case 'create': return create(ctx, call, def, namespace)
    case 'update': return update(ctx, call, def, namespace)
    case 'patch': return patch(ctx, call, def, namespace)
    case 'delete': return remove(ctx, call, def, namespace)
    default: throw methodNotAllowed()
  }
}

function get(ctx: DoubleContext, call: Call, def: KindDef, namespace: string | undefined): void {
  const obj = ctx.store.get(def.resource, namespace, call.path.name!)
  if (!obj) throw notFound(def.resource, call.path.name!, def.group)
  if (wantsTable(call.req)) return sendJson(call.res, 200, tableFor(def, [obj], String(ctx.store.resourceVersion)))
  sendJson(call.res, 200, obj)
}

function list(ctx: DoubleContext, call: Call, def: KindDef, namespace: string | undefined): void {
  const q = call.url.searchParams
  const labels = labelSelector(q.get('labelSelector'))
  const fields = fieldSelector(def.resource, q.get('fieldSelector'))
  let items = ctx.store.list(def.resource, namespace).filter((o) => labels(o) && fields(o))
  const rv = String(ctx.store.resourceVersion)
  const metadata: Record<string, unknown> = { resourceVersion: rv }
  const start = q.get('continue') ? Number(Buffer.from(q.get('continue')!, 'base64').toString('utf8')) : 0
  const limit = Number(q.get('limit') ?? 0)
  if (start) items = items.slice(start)
  if (limit > 0 && items.length > limit) {
    metadata.continue = Buffer.from(String(start + limit)).toString('base64')
    metadata.remainingItemCount = items.length - limit
    items = items.slice(0, limit)
  }
  if (wantsTable(call.req)) return sendJson(call.res, 200, tableFor(def, items, rv, metadata.continue as string | undefined))
  // List items carry no kind/apiVersion of their own in the apiserver's JSON.
  for (const o of items) { delete o.kind; delete o.apiVersion }
  sendJson(call.res, 200, { kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata, items })
}

function watch(ctx: DoubleContext, call: Call, def: KindDef, namespace: string | undefined): void {
  const q = call.url.searchParams
  const labels = labelSelector(q.get('labelSelector'))
  const fields = fieldSelector(def.resource, q.get('fieldSelector'))
  serveWatch(call.req, call.res, ctx.store, {
    resource: def.resource, kind: def.kind, apiVersion: apiVersionOf(def), namespace,
    matches: (o) => labels(o) && fields(o), query: q, bookmarkMs: ctx.bookmarkMs,
  })
}

export function parseBody(call: Call, kinds: string[] = ['application/json', 'application/yaml']): unknown {
  const type = (call.req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (!kinds.includes(type)) throw unsupportedMediaType()
  const text = call.body.toString('utf8')
  try {
    return type === 'application/yaml' ? parseYaml(text) : JSON.parse(text)
  } catch (e) {
    throw badRequest(`the object provided is unrecognized (must be of type Object): couldn't get version/kind; json parse error: ${(e as Error).message}`)
  }
}

function warn(call: Call, d: Decoded): Record<string, string[]> {
  call.record.warnings.push(...d.warnings)
  // One `Warning:` header line per warning, as Go's Header.Add writes them.
  return d.warnings.length ? { Warning: d.warnings.map((w) => `299 - ${JSON.stringify(w)}`) } : {}
}

function create(ctx: DoubleContext, call: Call, def: KindDef, namespace: string | undefined): void {
  const q = call.url.searchParams
  const d = decode(def, parseBody(call), q.get('fieldValidation'))
  const obj = d.obj
  obj.metadata ??= {}
  if (def.namespaced) {
    if (obj.metadata.namespace !== undefined && obj.metadata.namespace !== '' && obj.metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request')
    }
    obj.metadata.namespace = namespace
  }
  for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds']) delete obj.metadata[k]
  admit(ctx, def, namespace, obj)
  if (!obj.metadata.name && obj.metadata.generateName) obj.metadata.name = generateName(obj.metadata.generateName)
  validate(def, d)
  if (ctx.store.get(def.resource, namespace, obj.metadata.name)) throw alreadyExists(def.resource, obj.metadata.name, def.group)
  const headers = warn(call, d)
  if (q.get('dryRun') === 'All') return sendJson(call.res, 201, obj, headers)
  const stored = ctx.store.create(def.resource, obj)
  if (def.resource === 'namespaces') {
    ctx.store.create('serviceaccounts', { kind: 'ServiceAccount', apiVersion: 'v1', metadata: { name: 'default', namespace: stored.metadata.name } })
  }
  if (def.resource === 'pods') started(ctx, stored)
  sendJson(call.res, 201, stored, headers)
}

/** PUT: the whole object again, with the resourceVersion it was read at (optimistic concurrency). */
function update(ctx: DoubleContext, call: Call, def: KindDef, namespace: string | undefined): void {
  replace(ctx, call, def, namespace, parseBody(call))
}

/** PATCH: the stored object with the patch applied, then stored as a PUT of the result would be. */
function patch(ctx: DoubleContext, call: Call, def: KindDef, namespace: string | undefined): void {
  const type = (call.req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (!PATCH_TYPES.includes(type)) {
    throw new ApiError(failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}`))
  }
  const old = ctx.store.get(def.resource, namespace, call.path.name!)
  if (!old) throw notFound(def.resource, call.path.name!, def.group)
  let body: unknown
  try { body = JSON.parse(call.body.toString('utf8')) } catch (e) { throw badRequest(`error decoding patch: ${(e as Error).message}`) }
  replace(ctx, call, def, namespace, applyPatch(type, old, body))
}

function replace(ctx: DoubleContext, call: Call, def: KindDef, namespace: string | undefined, body: unknown): void {
  const name = call.path.name!
  const d = decode(def, body, call.url.searchParams.get('fieldValidation'))
  const obj = d.obj
  obj.metadata ??= {}
  if (obj.metadata.name !== undefined && obj.metadata.name !== name) {
    throw badRequest(`the name of the object (${String(obj.metadata.name)}) does not match the name on the URL (${name})`)
  }
  obj.metadata.name = name
  const old = ctx.store.get(def.resource, namespace, name)
  if (!old) throw notFound(def.resource, name, def.group)
  if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== old.metadata.resourceVersion) {
    throw conflict(def.group ? `${def.resource}.${def.group}` : def.resource, name, 'the object has been modified; please apply your changes to the latest version and try again')
  }
  if (def.resource === 'pods') {
    // A pod's spec is immutable but for images and a few fields; status goes through the node.
    const mask = (s: any): string => JSON.stringify({ ...s, containers: s.containers?.map((c: any) => ({ ...c, image: '' })), initContainers: s.initContainers?.map((c: any) => ({ ...c, image: '' })), activeDeadlineSeconds: 0 })
    if (mask(obj.spec ?? {}) !== mask(old.spec)) {
      throw new ApiError(failure(422, 'Invalid', `Pod "${name}" is invalid: spec: Forbidden: pod updates may not change fields other than \`spec.containers[*].image\`,\`spec.initContainers[*].image\`,\`spec.activeDeadlineSeconds\`,\`spec.tolerations\` (only additions to existing tolerations),\`spec.terminationGracePeriodSeconds\` (allow it to be set to 1 if it was previously negative)`, { name, kind: 'Pod', causes: [{ reason: 'FieldValueForbidden', message: 'Forbidden: pod updates may not change fields other than …', field: 'spec' }] }))
    }
    obj.status = old.status
  }
  for (const k of ['uid', 'creationTimestamp', 'namespace', 'deletionTimestamp', 'generateName']) {
    if (old.metadata[k] !== undefined) obj.metadata[k] = old.metadata[k]
  }
  if (def.resource === 'secrets') {
    for (const [k, v] of Object.entries(obj.stringData ?? {})) (obj.data ??= {})[k] = Buffer.from(String(v)).toString('base64')
    delete obj.stringData
  }
  validate(def, d)
  const headers = warn(call, d)
  sendJson(call.res, 200, ctx.store.update(def.resource, obj), headers)
}

function remove(ctx: DoubleContext, call: Call, def: KindDef, namespace: string | undefined): void {
  let options: any = {}
  if (call.body.length > 0) options = parseBody(call) ?? {}
  const graceText = call.url.searchParams.get('gracePeriodSeconds')
  const grace = graceText !== null ? Number(graceText) : options.gracePeriodSeconds
  if (grace !== undefined && !(Number.isInteger(grace) && grace >= 0)) throw badRequest(`invalid gracePeriodSeconds: ${String(grace)}`)
  const name = call.path.name!
  const gone = deleteObject(ctx, def, namespace, name, grace)
  // Pods and namespaces answer with the object (now being deleted); others with a Success Status.
  if (def.resource === 'pods' || def.resource === 'namespaces') return sendJson(call.res, 200, gone)
  sendJson(call.res, 200, success({ name, ...(def.group ? { group: def.group } : {}), kind: def.resource, uid: gone.metadata.uid }))
}

const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789'

/** The apiserver's names.SimpleNameGenerator: prefix (cut to 58) + 5 random characters. */
function generateName(prefix: string): string {
  let s = prefix.slice(0, 58)
  for (let i = 0; i < 5; i++) s += ALPHANUMS[randomInt(ALPHANUMS.length)]
  return s
}
