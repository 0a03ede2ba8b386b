import type { ContainerSpec, SecurityContext } from './container-config.js'
import type { EnvContext, EnvFrom, EnvVar } from './container-env.js'
import type { NodeReporter, PodObject } from './kubelet.js'
import type { Handler, HookTarget } from './lifecycle-hooks.js'
import type { DnsSpec } from './pod-sandbox.js'
import type { PodSchedulingSpec } from './pod-scheduler.js'
import { type ContainerRun, type PodRun, qosClass } from './pod-status.js'
import type { PreparedVolume, VolumeSpec } from './pod-volumes.js'

/** The parts of a pod spec the double's node reads. */
export type PodSpec = PodSchedulingSpec & DnsSpec & {
  containers: PodContainer[]
  initContainers?: PodContainer[]
  volumes?: VolumeSpec[]
  imagePullSecrets?: { name: string }[]
  activeDeadlineSeconds?: number
  terminationGracePeriodSeconds?: number
  serviceAccountName?: string
  hostname?: string
  securityContext?: SecurityContext
}
export type PodContainer = ContainerSpec & {
  env?: EnvVar[]
  envFrom?: EnvFrom[]
  lifecycle?: { postStart?: Handler; preStop?: Handler }
  ports?: { name?: string; containerPort: number }[]
}

/** One pod on this node: what the API double sent, and what the kubelet made of it. */
export interface PodEntry {
  pod: PodObject
  spec: PodSpec
  reporter: NodeReporter
  run: PodRun
  labels: Record<string, string>
  stopping: boolean
  sandboxId?: string
  volumes: Map<string, PreparedVolume>
  /** Sleeps to cut short when the pod is removed. */
  wakers: Set<() => void>
  deadline?: NodeJS.Timeout
  /** Scheduling through starting the last container. */
  setup: Promise<void>
  /** Waits for container exits and retries in the background. */
  watchers: Promise<void>[]
  /** Set by the first remove(). */
  removing?: Promise<void>
}

export function newPodEntry(pod: PodObject, reporter: NodeReporter, sweepLabel: [string, string]): PodEntry {
  const { namespace, name, uid } = pod.metadata
  const spec = pod.spec as PodSpec
  const hasInit = (spec.initContainers ?? []).length > 0
  const container = (init: boolean) => (c: ContainerSpec): ContainerRun => ({
    name: c.name, init, image: c.image, imageID: '', state: { waiting: { reason: init || !hasInit ? 'ContainerCreating' : 'PodInitializing' } },
  })
  return {
    pod, spec, reporter,
    run: {
      namespace, name, uid, scheduled: false, sandboxReady: false, qosClass: qosClass(spec), transitions: new Map(),
      initContainers: (spec.initContainers ?? []).map(container(true)), containers: spec.containers.map(container(false)),
    },
    // dockershim's labels, so `docker ps` reads like a Docker node's.
    labels: { 'io.kubernetes.pod.name': name, 'io.kubernetes.pod.namespace': namespace, 'io.kubernetes.pod.uid': uid, [sweepLabel[0]]: sweepLabel[1] },
    stopping: false, volumes: new Map(), wakers: new Set(), setup: Promise.resolve(), watchers: [],
  }
}

/** dockershim's container names: k8s_<container>_<pod>_<namespace>_<uid>_<attempt> (POD for the sandbox). */
export function dockerName(p: PodEntry, container: string): string {
  return `k8s_${container}_${p.run.name}_${p.run.namespace}_${p.run.uid}_0`
}

/** The kubelet's format.Pod, in its messages: <name>_<namespace>(<uid>) */
export function podRef(p: PodEntry): string {
  return `${p.run.name}_${p.run.namespace}(${p.run.uid})`
}

/** Where a container's lifecycle hook runs. */
export function hookTarget(p: PodEntry, c: ContainerRun, spec: PodContainer, docker: HookTarget['docker']): HookTarget {
  return { docker, containerId: c.id!, container: c.name, pod: podRef(p), ...(p.run.podIP ? { podIP: p.run.podIP } : {}), ports: spec.ports ?? [] }
}

/** What env valueFrom can read: the pod's secrets and config maps, and its downward-API fields. */
export function envContext(p: PodEntry, nodeName: string): EnvContext {
  const { metadata } = p.pod
  return {
    namespace: p.run.namespace,
    read: (kind, name) => p.reporter.read(kind, p.run.namespace, name),
    field: (path) => {
      const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path)
      if (m) return (m[1] === 'labels' ? metadata.labels : metadata.annotations)?.[m[2]!] ?? ''
      const fields: Record<string, string | undefined> = {
        'metadata.name': metadata.name, 'metadata.namespace': metadata.namespace, 'metadata.uid': metadata.uid,
        'spec.nodeName': nodeName, 'spec.serviceAccountName': p.spec.serviceAccountName ?? 'default',
        'status.podIP': p.run.podIP, 'status.podIPs': p.run.podIP, 'status.hostIP': p.run.hostIP, 'status.hostIPs': p.run.hostIP,
      }
      return fields[path]
    },
  }
}
