import type { IncomingMessage } from 'node:http'
import type { KindDef } from './kinds.js'

/**
 * Server-side printing (meta.k8s.io/v1 Table), which kubectl asks for with
 * `Accept: application/json;as=Table;v=v1;g=meta.k8s.io,…`. Pods get the columns `kubectl get
 * pods` shows; other kinds Name and Age.
 */
export function wantsTable(req: IncomingMessage): boolean {
  return /;\s*as=Table/.test(String(req.headers.accept ?? '').split(',')[0] ?? '')
}

const col = (name: string, type: string, description: string, priority = 0, format = ''): Record<string, unknown> => ({ name, type, format, description, priority })

export function tableFor(def: KindDef, items: any[], resourceVersion: string, cont?: string): Record<string, unknown> {
  const pods = def.resource === 'pods'
  const columnDefinitions = pods
    ? [col('Name', 'string', 'Name must be unique within a namespace.', 0, 'name'), col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
      col('Status', 'string', 'The aggregate status of the containers in this pod.'), col('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
      col('Age', 'string', 'CreationTimestamp is a timestamp representing the server time when this object was created.'),
      col('IP', 'string', 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1), col('Node', 'string', 'NodeName is a request to schedule this pod onto a specific node.', 1)]
    : [col('Name', 'string', 'Name must be unique within a namespace.', 0, 'name'), col('Age', 'string', 'CreationTimestamp is a timestamp representing the server time when this object was created.')]
  const rows = items.map((o) => ({
    cells: pods ? podCells(o) : [o.metadata.name, age(o.metadata.creationTimestamp)],
    object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
  }))
  return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion, ...(cont ? { continue: cont } : {}) }, columnDefinitions, rows }
}

function podCells(p: any): unknown[] {
  const statuses: any[] = p.status?.containerStatuses ?? []
  const ready = statuses.filter((s) => s.ready).length
  const restarts = statuses.reduce((n, s) => n + (s.restartCount ?? 0), 0)
  const waiting = statuses.find((s) => s.state?.waiting?.reason)?.state.waiting.reason
  const terminated = statuses.find((s) => s.state?.terminated?.reason)?.state.terminated.reason
  const status = p.metadata.deletionTimestamp ? 'Terminating' : waiting ?? terminated ?? p.status?.reason ?? p.status?.phase ?? 'Unknown'
  return [p.metadata.name, `${ready}/${p.spec.containers.length}`, status, restarts, age(p.metadata.creationTimestamp), p.status?.podIP ?? '<none>', p.spec.nodeName ?? '<none>']
}

/** kubectl's short duration: 5s, 3m, 2h, 4d. */
function age(ts: string): string {
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(ts)) / 1000))
  if (s < 120) return `${s}s`
  if (s < 7200) return `${Math.floor(s / 60)}m`
  if (s < 172800) return `${Math.floor(s / 3600)}h`
  return `${Math.floor(s / 86400)}d`
}
