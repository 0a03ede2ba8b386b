import { randomBytes } from 'node:crypto'
import type { DoubleContext } from './context.js'
import type { NodeReporter, PodEvent } from './kubelet.js'
import { type KindDef, kindOf } from './kinds.js'
import { forbidden, notFound } from './status.js'
import { timestamp } from './store.js'

/**
 * What happens around storing and deleting objects: the defaulting and admission the apiserver
 * applies to a new pod (service account, default tolerations, QoS), the namespace lifecycle,
 * graceful pod deletion through the kubelet, ownerReferences garbage collection, and the
 * NodeReporter through which the kubelet writes pod status and Events.
 */
export const NODE_NAME = 'k8s-double-node'

/** Admission + defaulting for a new object of `def` in `namespace` (throws the apiserver's 404/403). */
export function admit(ctx: DoubleContext, def: KindDef, namespace: string | undefined, obj: any): void {
  if (def.namespaced) {
    const ns = ctx.store.get('namespaces', undefined, namespace!)
    if (!ns) throw notFound('namespaces', namespace!)
    if (ns.status?.phase === 'Terminating') {
      throw forbidden(def.resource, obj.metadata.name ?? '', `unable to create new content in namespace ${namespace} because it is being terminated`, def.group)
    }
  }
  if (def.resource === 'pods') admitPod(ctx, namespace!, obj)
  if (def.resource === 'namespaces') {
    obj.spec = { finalizers: ['kubernetes'], ...obj.spec }
    obj.status = { phase: 'Active' }
    obj.metadata.labels = { ...obj.metadata.labels, 'kubernetes.io/metadata.name': obj.metadata.name }
  }
  if (def.resource === 'secrets') {
    // stringData is write-only: merged into data, base64-encoded.
    for (const [k, v] of Object.entries(obj.stringData ?? {})) (obj.data ??= {})[k] = Buffer.from(String(v)).toString('base64')
    delete obj.stringData
    obj.type ??= 'Opaque'
  }
}

function admitPod(ctx: DoubleContext, namespace: string, pod: any): void {
  const spec = pod.spec
  const sa = spec.serviceAccountName || spec.serviceAccount || 'default'
  if (!ctx.store.get('serviceaccounts', namespace, sa)) {
    throw forbidden('pods', pod.metadata.name || pod.metadata.generateName || '', `error looking up service account ${namespace}/${sa}: serviceaccount "${sa}" not found`)
  }
  spec.serviceAccountName = sa
  spec.serviceAccount = sa
  spec.restartPolicy ??= 'Always'
  spec.dnsPolicy ??= 'ClusterFirst'
  spec.schedulerName ??= 'default-scheduler'
  spec.securityContext ??= {}
  spec.terminationGracePeriodSeconds ??= 30
  spec.enableServiceLinks ??= true
  spec.priority ??= 0
  spec.preemptionPolicy ??= 'PreemptLowerPriority'
  const tolerations: any[] = (spec.tolerations ??= [])
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (!tolerations.some((t) => t.key === key)) tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 })
  }
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    c.terminationMessagePath ??= '/dev/termination-log'
    c.terminationMessagePolicy ??= 'File'
    c.imagePullPolicy ??= /:latest$|^[^:@]*$|\/[^:@]*$/.test(c.image) && !c.image.includes('@') ? 'Always' : 'IfNotPresent'
    c.resources ??= {}
    // requests default to limits where only limits are given.
    for (const [r, q] of Object.entries(c.resources.limits ?? {})) if (c.resources.requests?.[r] === undefined) (c.resources.requests ??= {})[r] = q
    for (const p of c.ports ?? []) p.protocol ??= 'TCP'
  }
  pod.status = { phase: 'Pending', qosClass: qosClass(spec.containers) }
}

function qosClass(containers: any[]): string {
  const rs = containers.map((c) => c.resources ?? {})
  if (rs.every((r) => !Object.keys(r.requests ?? {}).length && !Object.keys(r.limits ?? {}).length)) return 'BestEffort'
  const guaranteed = rs.every((r) => ['cpu', 'memory'].every((k) => r.limits?.[k] !== undefined && String(r.requests?.[k]) === String(r.limits[k])))
  return guaranteed ? 'Guaranteed' : 'Burstable'
}

/** After a pod is stored: hand it to the node. */
export function started(ctx: DoubleContext, pod: any): void {
  ctx.kubelet.run(structuredClone(pod), reporter(ctx))
}

/**
 * DELETE of one object. Pods: a scheduled pod that is not finished gets deletionTimestamp
 * (MODIFIED), the kubelet stops it, then it is removed (DELETED); grace 0, an unscheduled or a
 * finished pod goes at once. Namespaces turn Terminating and empty themselves. Everything else
 * goes at once. Dependents (ownerReferences) are collected afterwards.
 */
export function deleteObject(ctx: DoubleContext, def: KindDef, namespace: string | undefined, name: string, grace: number | undefined): any {
  const obj = ctx.store.get(def.resource, namespace, name)
  if (!obj) throw notFound(def.resource, name, def.group)
  if (def.resource === 'pods') return deletePod(ctx, obj, grace)
  if (def.resource === 'namespaces') return deleteNamespace(ctx, obj)
  const gone = ctx.store.remove(def.resource, namespace, name)
  collectGarbage(ctx, gone.metadata.uid)
  return gone
}

function deletePod(ctx: DoubleContext, pod: any, graceOpt: number | undefined): any {
  const { namespace, name, uid } = pod.metadata
  if (pod.metadata.deletionTimestamp) return pod
  const grace = graceOpt ?? pod.spec.terminationGracePeriodSeconds ?? 30
  const finished = ['Succeeded', 'Failed'].includes(pod.status?.phase)
  const finish = (): void => {
    const current = ctx.store.get('pods', namespace, name)
    if (current?.metadata.uid !== uid) return
    ctx.store.remove('pods', namespace, name)
    collectGarbage(ctx, uid)
  }
  if (grace === 0 || finished || !pod.spec.nodeName) {
    void ctx.kubelet.remove(namespace, name, 0).catch(() => {})
    const gone = ctx.store.get('pods', namespace, name)
    finish()
    return gone
  }
  pod.metadata.deletionTimestamp = timestamp(new Date(Date.now() + grace * 1000))
  pod.metadata.deletionGracePeriodSeconds = grace
  const marked = ctx.store.update('pods', pod)
  ctx.kubelet.remove(namespace, name, grace).then(finish, finish)
  return marked
}

function deleteNamespace(ctx: DoubleContext, ns: any): any {
  if (ns.status?.phase === 'Terminating') return ns
  ns.metadata.deletionTimestamp = timestamp()
  ns.status = { phase: 'Terminating' }
  const marked = ctx.store.update('namespaces', ns)
  const name = ns.metadata.name
  // The namespace controller works from a queue: content goes a moment after the DELETE answers.
  setTimeout(() => {
    const pods = ctx.store.list('pods', name)
    for (const p of pods) { try { deleteObject(ctx, kindOf('', 'pods')!, name, p.metadata.name, undefined) } catch { /* already gone */ } }
    const waitPods = (): void => {
      if (ctx.store.list('pods', name).length > 0) { setTimeout(waitPods, 20); return }
      for (const r of ['secrets', 'configmaps', 'serviceaccounts', 'events', 'services', 'persistentvolumeclaims', 'poddisruptionbudgets']) {
        for (const o of ctx.store.list(r, name)) ctx.store.remove(r, name, o.metadata.name)
      }
      ctx.store.remove('namespaces', undefined, name)
    }
    waitPods()
  }, 500)
  return marked
}

/** The garbage collector: an object all of whose owners are gone is deleted (background propagation). */
export function collectGarbage(ctx: DoubleContext, uid: string): void {
  setImmediate(() => {
    for (const { resource, object } of ctx.store.dependentsOf(uid)) {
      const owners: any[] = object.metadata.ownerReferences ?? []
      if (owners.some((o) => ctx.store.existsUid(o.uid))) continue
      const def = KINDS_BY_RESOURCE(resource)
      if (!def) continue
      try { deleteObject(ctx, def, object.metadata.namespace, object.metadata.name, undefined) } catch { /* raced */ }
    }
  })
}

function KINDS_BY_RESOURCE(resource: string): KindDef | undefined {
  return kindOf('', resource) ?? kindOf('policy', resource)
}

/** What the kubelet writes through: pod status, Events, and reads of the objects a pod refers to. */
export function reporter(ctx: DoubleContext): NodeReporter {
  return {
    setStatus(namespace, name, status) {
      const pod = ctx.store.get('pods', namespace, name)
      if (!pod) return
      pod.status = structuredClone(status)
      // The scheduler's binding: the node reporting on a pod has it, unless it says the pod is unschedulable.
      const unschedulable = (pod.status.conditions ?? []).some((c: any) => c.type === 'PodScheduled' && c.status === 'False')
      if (!pod.spec.nodeName && !unschedulable) pod.spec.nodeName = NODE_NAME
      ctx.store.update('pods', pod)
    },
    event(namespace, name, e) { recordEvent(ctx, namespace, name, e) },
    read(kind, namespace, name) { return ctx.store.get(kind, namespace, name) },
  }
}

/** An Event about a pod; the same reason+message+fieldPath again bumps `count` and `lastTimestamp`. */
export function recordEvent(ctx: DoubleContext, namespace: string, podName: string, e: PodEvent): void {
  const pod = ctx.store.get('pods', namespace, podName)
  const component = e.component ?? 'kubelet'
  const now = timestamp()
  const same = ctx.store.list('events', namespace).find((x) =>
    x.involvedObject.name === podName && x.involvedObject.uid === pod?.metadata.uid && x.reason === e.reason &&
    x.message === e.message && (x.involvedObject.fieldPath ?? '') === (e.fieldPath ?? '') && x.source?.component === component)
  if (same) {
    same.count = (same.count ?? 1) + 1
    same.lastTimestamp = now
    ctx.store.update('events', same)
    return
  }
  const involvedObject: Record<string, unknown> = { kind: 'Pod', namespace, name: podName, uid: pod?.metadata.uid ?? '', apiVersion: 'v1', resourceVersion: pod?.metadata.resourceVersion ?? '' }
  if (e.fieldPath) involvedObject.fieldPath = e.fieldPath
  ctx.store.create('events', {
    kind: 'Event', apiVersion: 'v1',
    metadata: { name: `${podName}.${randomBytes(8).toString('hex')}`, namespace },
    involvedObject, reason: e.reason, message: e.message,
    source: component === 'kubelet' ? { component, host: NODE_NAME } : { component },
    firstTimestamp: now, lastTimestamp: now, count: 1, type: e.type, eventTime: null,
    reportingComponent: component, reportingInstance: component === 'kubelet' ? NODE_NAME : '',
  })
}

