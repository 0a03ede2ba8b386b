/**
 * What the double's kubelet knows about a pod, and the `status` a real kubelet would report for
 * it: phase from the container states (restartPolicy Never), the five pod conditions with stable
 * transition times, and container statuses in spec order.
 */
export type ContainerState =
  | { waiting: { reason: string; message?: string } }
  | { running: { startedAt: string } }
  | { terminated: { exitCode: number; reason: string; message?: string; startedAt: string; finishedAt: string; containerID?: string } }

export interface ContainerRun {
  name: string
  init: boolean
  image: string
  /** Docker container id once created. */
  id?: string
  imageID: string
  state: ContainerState
}

export interface PodRun {
  namespace: string
  name: string
  uid: string
  /** Undefined until the scheduler decided; a string is the Unschedulable message. */
  unschedulable?: string
  scheduled: boolean
  sandboxReady: boolean
  hostIP?: string
  podIP?: string
  startTime?: string
  initContainers: ContainerRun[]
  containers: ContainerRun[]
  /** Set when the kubelet ends the pod itself (activeDeadlineSeconds). */
  failed?: { reason: string; message: string }
  qosClass: string
  /** lastTransitionTime per condition type and status. */
  transitions: Map<string, { status: string; at: string }>
}

/** RFC 3339 in seconds, as metav1.Time marshals. */
export function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z')
}

const succeeded = (c: ContainerRun): boolean => 'terminated' in c.state && c.state.terminated.exitCode === 0
const terminated = (c: ContainerRun): boolean => 'terminated' in c.state

export function podPhase(run: PodRun): 'Pending' | 'Running' | 'Succeeded' | 'Failed' {
  if (run.failed) return 'Failed'
  if (!run.scheduled) return 'Pending'
  if (run.initContainers.some((c) => terminated(c) && !succeeded(c))) return 'Failed'
  if (!run.initContainers.every(succeeded)) return 'Pending'
  if (run.containers.some((c) => 'waiting' in c.state)) return 'Pending'
  if (run.containers.every(terminated)) return run.containers.every(succeeded) ? 'Succeeded' : 'Failed'
  return 'Running'
}

export function podStatus(run: PodRun): Record<string, unknown> {
  const phase = podPhase(run)
  const status: Record<string, unknown> = { phase, conditions: conditions(run, phase), qosClass: run.qosClass }
  if (run.failed) Object.assign(status, run.failed)
  if (run.hostIP) Object.assign(status, { hostIP: run.hostIP, hostIPs: [{ ip: run.hostIP }] })
  if (run.podIP) Object.assign(status, { podIP: run.podIP, podIPs: [{ ip: run.podIP }] })
  if (run.startTime) status.startTime = run.startTime
  if (run.scheduled) {
    if (run.initContainers.length > 0) status.initContainerStatuses = run.initContainers.map(containerStatus)
    status.containerStatuses = run.containers.map(containerStatus)
  }
  return status
}

function containerStatus(c: ContainerRun): Record<string, unknown> {
  const running = 'running' in c.state
  const s: Record<string, unknown> = {
    name: c.name, state: c.state, lastState: {}, ready: running || (c.init && succeeded(c)),
    restartCount: 0, image: c.image, imageID: c.imageID, started: running,
  }
  if (c.id) s.containerID = `docker://${c.id}`
  return s
}

function conditions(run: PodRun, phase: string): Record<string, unknown>[] {
  const cond = (type: string, ok: boolean, reason?: string, message?: string): Record<string, unknown> => {
    const status = ok ? 'True' : 'False'
    const prev = run.transitions.get(type)
    const at = prev && prev.status === status ? prev.at : now()
    run.transitions.set(type, { status, at })
    return { type, status, lastProbeTime: null, lastTransitionTime: at, ...(reason ? { reason } : {}), ...(message ? { message } : {}) }
  }
  if (!run.scheduled) return run.unschedulable === undefined ? [] : [cond('PodScheduled', false, 'Unschedulable', run.unschedulable)]
  const done = phase === 'Succeeded' || phase === 'Failed'
  const incomplete = run.initContainers.filter((c) => !succeeded(c)).map((c) => c.name)
  const unready = run.containers.filter((c) => !('running' in c.state)).map((c) => c.name)
  const initialized = incomplete.length === 0
  const ready = unready.length === 0 && !done
  // Only a pod that succeeded is "completed"; a failed one lists its unready containers.
  const notReady = (): [string, string | undefined] => (phase === 'Succeeded' ? ['PodCompleted', undefined] : ['ContainersNotReady', `containers with unready status: [${unready.join(' ')}]`])
  return [
    cond('PodReadyToStartContainers', run.sandboxReady && !done),
    initialized ? cond('Initialized', true) : cond('Initialized', false, 'ContainersNotInitialized', `containers with incomplete status: [${incomplete.join(' ')}]`),
    ready ? cond('Ready', true) : cond('Ready', false, ...notReady()),
    ready ? cond('ContainersReady', true) : cond('ContainersReady', false, ...notReady()),
    cond('PodScheduled', true),
  ]
}

/** BestEffort without any requests/limits, Guaranteed when every container's limits equal its requests for cpu and memory. */
export function qosClass(spec: { containers?: { resources?: { requests?: Record<string, string>; limits?: Record<string, string> } }[] }): string {
  const all = spec.containers ?? []
  const any = all.some((c) => Object.keys(c.resources?.requests ?? {}).length + Object.keys(c.resources?.limits ?? {}).length > 0)
  if (!any) return 'BestEffort'
  const guaranteed = all.every((c) => ['cpu', 'memory'].every((k) => {
    const l = c.resources?.limits?.[k]
    return l !== undefined && (c.resources?.requests?.[k] ?? l) === l
  }))
  return guaranteed ? 'Guaranteed' : 'Burstable'
}
