import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Matcher } from './selectors.js'
import { badRequest, failure } from './status.js'
import type { Change, Store } from './store.js'

/**
 * A watch as the apiserver's watch cache serves it: 200, chunked newline-delimited JSON
 * `{"type":…,"object":…}`; without resourceVersion (or with "0") it starts with an ADDED for
 * every matching object; from an older resourceVersion it replays the history, or sends one
 * ERROR event carrying `410 Expired` when that history is compacted; objects that start or stop
 * matching a selector arrive as ADDED / DELETED; `timeoutSeconds` ends the stream; with
 * `allowWatchBookmarks` BOOKMARK events carry the current resourceVersion.
 */
export interface WatchSpec {
  resource: string
  kind: string
  apiVersion: string
  namespace?: string
  matches: Matcher
  query: URLSearchParams
  bookmarkMs: number
}

export function serveWatch(_req: IncomingMessage, res: ServerResponse, store: Store, spec: WatchSpec): void {
  const rvText = spec.query.get('resourceVersion') ?? ''
  const timeoutText = spec.query.get('timeoutSeconds')
  if (rvText !== '' && !/^\d+$/.test(rvText)) throw badRequest(`invalid resource version: ${rvText}`)
  if (timeoutText !== null && !/^\d+$/.test(timeoutText)) throw badRequest(`invalid value for timeoutSeconds: ${timeoutText}`)
  const inScope = (c: { resource: string; object: any }): boolean =>
    c.resource === spec.resource && (spec.namespace === undefined || c.object.metadata.namespace === spec.namespace)

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' })
  res.flushHeaders()
  const write = (type: string, object: unknown): void => { if (!res.writableEnded) res.write(`${JSON.stringify({ type, object })}\n`) }
  const timers: NodeJS.Timeout[] = []
  let unsubscribe = (): void => {}
  const finish = (): void => {
    unsubscribe()
    for (const t of timers) clearTimeout(t)
    if (!res.writableEnded) res.end()
  }
  res.once('close', finish)

  const rv = rvText === '' ? 0 : Number(rvText)
  const replay = rv === 0 ? null : store.since(rv)
  if (replay === 'expired') {
    write('ERROR', failure(410, 'Expired', `too old resource version: ${rv} (${store.oldestWatchableRv})`))
    finish()
    return
  }
  // Which objects the client currently believes match: a MODIFIED that leaves the selector is a DELETED for it.
  const visible = new Set<string>()
  const id = (o: any): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`
  const deliver = (c: Change): void => {
    if (!inScope(c)) return
    const now = c.type !== 'DELETED' && spec.matches(c.object)
    const was = visible.has(id(c.object))
    if (now) visible.add(id(c.object)); else visible.delete(id(c.object))
    if (c.type === 'DELETED') { if (was || spec.matches(c.object)) write('DELETED', c.object); return }
    if (now && !was) write('ADDED', c.object)
    else if (now && was) write('MODIFIED', c.object)
    else if (!now && was) write('DELETED', c.object)
  }
  unsubscribe = store.subscribe(deliver)
  if (replay === null) {
    for (const o of store.list(spec.resource, spec.namespace)) if (spec.matches(o)) { visible.add(id(o)); write('ADDED', o) }
  } else {
    for (const o of store.list(spec.resource, spec.namespace)) if (spec.matches(o) && Number(o.metadata.resourceVersion) <= rv) visible.add(id(o))
    for (const c of replay) deliver(c)
  }
  const bookmarks = spec.query.get('allowWatchBookmarks') === 'true'
  const bookmark = (annotations?: Record<string, string>): void => write('BOOKMARK', {
    kind: spec.kind, apiVersion: spec.apiVersion,
    metadata: { resourceVersion: String(store.resourceVersion), creationTimestamp: null, ...(annotations ? { annotations } : {}) },
  })
  if (bookmarks && spec.query.get('sendInitialEvents') === 'true') bookmark({ 'k8s.io/initial-events-end': 'true' })
  if (bookmarks) {
    const tick = (): void => { bookmark(); timers.push(setTimeout(tick, spec.bookmarkMs)) }
    timers.push(setTimeout(tick, spec.bookmarkMs))
  }
  if (timeoutText !== null) timers.push(setTimeout(finish, Number(timeoutText) * 1000))
}
