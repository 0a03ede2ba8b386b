import type { Readable, Writable } from 'node:stream'

/**
 * The seam between the Kubernetes API double (server.ts: REST, watches, RBAC, validation,
 * WebSocket exec/attach framing) and the node that runs its pods (docker-kubelet.ts: pods as
 * containers on the real Docker engine). The server owns the stored objects; the kubelet owns
 * the containers and reports what happens to them, as a real kubelet reports to the apiserver.
 */

/** A Pod as the API double stores it: the JSON the client sent plus metadata the server set. */
export type PodObject = { metadata: { name: string; namespace: string; uid: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec: any; status?: any }

/** One Event about a pod, as kubelet or the scheduler emits it (the server makes the Event object). */
export interface PodEvent {
  type: 'Normal' | 'Warning'
  /** Pulling, Pulled, Failed, BackOff, Created, Started, Killing, FailedScheduling, OOMKilling, … */
  reason: string
  message: string
  /** e.g. "spec.containers{build}" */
  fieldPath?: string
  /** "kubelet" (default) or "default-scheduler" */
  component?: string
}

/** How the kubelet tells the server what happened (the server bumps resourceVersion and notifies watches). */
export interface NodeReporter {
  /** Replaces `status` of the stored pod (phase, conditions, containerStatuses, initContainerStatuses, podIP, hostIP, startTime). */
  setStatus(namespace: string, name: string, status: Record<string, unknown>): void
  /** Records an Event involving the pod; repeated reason+message on the same pod bumps `count`. */
  event(namespace: string, name: string, e: PodEvent): void
  /**
   * A stored object the pod refers to (the kubelet reads secrets for imagePullSecrets and
   * secret volumes, config maps for configMap volumes), or undefined when there is none.
   */
  read(kind: 'secrets' | 'configmaps' | 'persistentvolumeclaims', namespace: string, name: string): Record<string, unknown> | undefined
}

/** One exec (or attach, without `command`) into a container of a pod, as the kubelet's streaming server gets it. */
export interface StreamRequest {
  namespace: string
  pod: string
  container: string
  /** exec only: argv, one element per `command=` query parameter. */
  command?: string[]
  /** Present when the client asked for stdin; ends when the client closes stdin (v5 [255,0]) or the socket. */
  stdin?: Readable
  stdout?: Writable
  stderr?: Writable
  tty: boolean
}

/**
 * How a stream ended, which the server turns into the status channel's metav1.Status:
 * exited 0 ⇒ Success; exited N ⇒ Failure/NonZeroExitCode with the kubelet's message;
 * error ⇒ Failure with that reason and message (container not found / not running, …).
 */
export type StreamResult =
  | { kind: 'exited'; code: number }
  | { kind: 'error'; reason: 'InternalError' | 'BadRequest' | 'NotFound'; message: string }

export interface Kubelet {
  /**
   * Starts running a pod the server just stored (schedule, pull, create, start), reporting each
   * step through `reporter`. Returns at once; never throws (a failure is a status or an event).
   */
  run(pod: PodObject, reporter: NodeReporter): void
  /** Runs a command in a running container, streaming its stdio. Refuses, as kubelet does, when the container does not run. */
  exec(req: StreamRequest): Promise<StreamResult>
  /** Attaches to the main process of a running container (its stdin must be open: `stdin: true` in the spec). */
  attach(req: StreamRequest): Promise<StreamResult>
  /** The container's output so far (pods/log). */
  logs(namespace: string, pod: string, container: string): Promise<string>
  /**
   * Stops the pod's containers (SIGTERM, then SIGKILL after gracePeriodSeconds) and removes them
   * with their volumes. Resolves when nothing of the pod is left on the engine.
   */
  remove(namespace: string, name: string, gracePeriodSeconds: number): Promise<void>
  /** Removes everything this kubelet made (test teardown). */
  close(): Promise<void>
}
