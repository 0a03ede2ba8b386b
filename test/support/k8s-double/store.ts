import { randomUUID } from 'node:crypto'

/**
 * The double's etcd: objects per resource, one global resourceVersion counter, and the change
 * history watches replay from. `compact()` forgets the history, as etcd compaction does, so a
 * watch from an older resourceVersion gets `410 Expired`.
 */
export type WatchType = 'ADDED' | 'MODIFIED' | 'DELETED'

export interface Change { type: WatchType; resource: string; object: any; rv: number }

export class Store {
  private rv = 0
  private readonly data = new Map<string, Map<string, any>>()
  private history: Change[] = []
  /** Changes at or below this resourceVersion are gone from the history. */
  private compactedRv = 0
  private readonly listeners = new Set<(c: Change) => void>()

  get resourceVersion(): number { return this.rv }
  get oldestWatchableRv(): number { return this.compactedRv }

  get(resource: string, namespace: string | undefined, name: string): any {
    const o = this.data.get(resource)?.get(key(namespace, name))
    return o === undefined ? undefined : structuredClone(o)
  }

  /** Objects of a resource, in name order (etcd's key order), optionally in one namespace. */
  list(resource: string, namespace?: string): any[] {
    const all = [...(this.data.get(resource)?.values() ?? [])]
    return all
      .filter((o) => namespace === undefined || o.metadata.namespace === namespace)
      .sort((a, b) => key(a.metadata.namespace, a.metadata.name).localeCompare(key(b.metadata.namespace, b.metadata.name)))
      .map((o) => structuredClone(o))
  }

  /** Stores a new object: uid, creationTimestamp and resourceVersion are set here. */
  create(resource: string, obj: any): any {
    obj.metadata.uid = randomUUID()
    obj.metadata.creationTimestamp = timestamp()
    return this.write(resource, obj, 'ADDED')
  }

  /** Replaces a stored object (a status report, a deletionTimestamp, an update). */
  update(resource: string, obj: any): any {
    return this.write(resource, obj, 'MODIFIED')
  }

  remove(resource: string, namespace: string | undefined, name: string): any {
    const map = this.data.get(resource)
    const o = map?.get(key(namespace, name))
    if (!o) return undefined
    map!.delete(key(namespace, name))
    // The DELETED event carries the object at a new resourceVersion, as the apiserver's does.
    const gone = structuredClone(o)
    gone.metadata.resourceVersion = String(++this.rv)
    this.emit({ type: 'DELETED', resource, object: gone, rv: this.rv })
    return structuredClone(gone)
  }

  /** Every object anywhere whose ownerReferences include `uid`. */
  dependentsOf(uid: string): { resource: string; object: any }[] {
    const out: { resource: string; object: any }[] = []
    for (const [resource, map] of this.data) {
      for (const o of map.values()) if ((o.metadata.ownerReferences ?? []).some((r: any) => r.uid === uid)) out.push({ resource, object: structuredClone(o) })
    }
    return out
  }

  existsUid(uid: string): boolean {
    for (const map of this.data.values()) for (const o of map.values()) if (o.metadata.uid === uid) return true
    return false
  }

  /** The changes after `rv`, or 'expired' when the history no longer reaches back that far. */
  since(rv: number): Change[] | 'expired' {
    if (rv < this.compactedRv) return 'expired'
    return this.history.filter((c) => c.rv > rv).map((c) => ({ ...c, object: structuredClone(c.object) }))
  }

  compact(): void {
    this.history = []
    this.compactedRv = this.rv
  }

  subscribe(fn: (c: Change) => void): () => void {
    this.listeners.add(fn)
    return () => { this.listeners.delete(fn) }
  }

  private write(resource: string, obj: any, type: WatchType): any {
    obj.metadata.resourceVersion = String(++this.rv)
    let map = this.data.get(resource)
    if (!map) this.data.set(resource, (map = new Map()))
    map.set(key(obj.metadata.namespace, obj.metadata.name), structuredClone(obj))
    this.emit({ type, resource, object: structuredClone(obj), rv: this.rv })
    return structuredClone(obj)
  }

  private emit(c: Change): void {
    this.history.push(c)
    for (const l of [...this.listeners]) l({ ...c, object: structuredClone(c.object) })
  }
}

function key(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name
}

/** RFC 3339 at second precision, as metav1.Time marshals. */
export function timestamp(d = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}
