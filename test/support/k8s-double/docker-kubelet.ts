import { randomBytes } from 'node:crypto'
import type Dockerode from 'dockerode'
import { containerCreateOptions, nonRootRefusal } from './container-config.js'
import { resolveEnv } from './container-env.js'
import { stopPodContainers, sweep } from './engine-sweep.js'
import type { Kubelet, NodeReporter, PodEvent, PodObject, StreamRequest, StreamResult } from './kubelet.js'
import { runHook } from './lifecycle-hooks.js'
import { type PodContainer, type PodEntry, dockerName, envContext, hookTarget, newPodEntry, podRef } from './pod-entry.js'
import { imageUser, localImage, pullImage } from './pod-images.js'
import { type PullHost, ensureImage, pullOnce } from './pod-pulls.js'
import { configureDns, startSandbox } from './pod-sandbox.js'
import { type NodeSpec, unschedulable } from './pod-scheduler.js'
import { type ContainerRun, now, podPhase, podStatus } from './pod-status.js'
import { containerLogs, dockerAttach, dockerExec, streamRefusal, streamTarget } from './pod-streams.js'
import { type VolumeContext, containerMounts, prepareVolumes } from './pod-volumes.js'
import { type Resources, parseQuantity, podRequests } from './quantity.js'

export interface DockerKubeletOptions {
  docker: Dockerode
  /** Docker network the pods' sandboxes join (made by the test), so pods reach containers the test starts there by address */
  network: string
  nodeName?: string
  /** For nodeSelector; default kubernetes.io/hostname, kubernetes.io/os=linux, kubernetes.io/arch=amd64 */
  nodeLabels?: Record<string, string>
  /** The scheduler's check of requests; default { cpu: '2', memory: '8Gi' } */
  allocatable?: { cpu: string; memory: string }
  taints?: { key: string; value?: string; effect: string }[]
  /** First image pull back-off, doubling, capped at 30 times it (default 1000; real kubelet 10 s → 300 s) */
  pullBackoffMs?: number
  /** ImagePullBackOff message form (default '1.32') */
  pullMessages?: 'pre-1.32' | '1.32'
  /** Resolver for dnsPolicy ClusterFirst; default: the engine's default */
  clusterDns?: { nameservers: string[]; searches?: string[] }
  /** Docker label (`key=value` or `key`) on everything made, for the sweep in close(); default a label unique to this kubelet */
  label?: string
  /** Called as the node reaches each step of a pod's start (for bench/k8s-bench.mjs's breakdown). */
  onStep?: (pod: string, step: string) => void
}

/** The image of the sandbox ("pause") container and of the kubelet's own helper containers. */
const SANDBOX_IMAGE = 'busybox:latest'
type StartOutcome = 'started' | 'failed' | 'config'
const DEADLINE_MESSAGE = 'Pod was active on the node longer than the specified deadline'

/**
 * The node of the Kubernetes API double: pods run as containers on the real Docker engine,
 * each joined to a sandbox container's network namespace, with the kubelet's statuses and events.
 */
export class DockerKubelet implements Kubelet {
  private readonly docker: Dockerode
  private readonly node: NodeSpec
  /** The node's name, for the server to put in spec.nodeName when the Scheduled event comes. */
  readonly nodeName: string
  private readonly sweepLabel: [string, string]
  private readonly pods = new Map<string, PodEntry>()

  constructor(private readonly opts: DockerKubeletOptions) {
    this.docker = opts.docker
    const name = opts.nodeName ?? 'glrun-node-1'
    this.nodeName = name
    const alloc = opts.allocatable ?? { cpu: '2', memory: '8Gi' }
    this.node = {
      name,
      labels: opts.nodeLabels ?? { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' },
      allocatable: { cpu: parseQuantity(alloc.cpu) ?? 0, memory: parseQuantity(alloc.memory) ?? 0 },
      taints: opts.taints ?? [],
    }
    const [k, v] = (opts.label ?? `glrun.k8s-double.node=${process.pid}-${randomBytes(4).toString('hex')}`).split(/=(.*)/s)
    this.sweepLabel = [k!, v ?? 'true']
  }

  run(pod: PodObject, reporter: NodeReporter): void {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`
    if (this.pods.has(key)) return
    const entry = newPodEntry(pod, reporter, this.sweepLabel)
    this.pods.set(key, entry)
    entry.setup = this.schedule(entry)
  }

  // ── lifecycle ────────────────────────────────────────────────────────────────────────────

  private async schedule(p: PodEntry): Promise<void> {
    const { namespace, name } = p.run
    const why = unschedulable(p.spec, this.node, this.used(p), (claim) => p.reporter.read('persistentvolumeclaims', namespace, claim) !== undefined)
    if (why) {
      p.run.unschedulable = why
      this.publish(p)
      this.event(p, { type: 'Warning', reason: 'FailedScheduling', message: why, component: 'default-scheduler' })
      return
    }
    p.run.unschedulable = undefined
    p.run.scheduled = true
    this.event(p, { type: 'Normal', reason: 'Scheduled', message: `Successfully assigned ${namespace}/${name} to ${this.node.name}`, component: 'default-scheduler' })
    await this.start(p).catch((e: unknown) => {
      // Something the double did not foresee: say it where a test looks (events), never throw.
      if (!p.stopping) this.event(p, { type: 'Warning', reason: 'Failed', message: `the API double's Docker node failed: ${e instanceof Error ? e.message : String(e)}` })
    })
  }

  /** The kubelet's part: volumes, sandbox, init containers one by one, then every container. */
  private async start(p: PodEntry): Promise<void> {
    const step = (what: string): void => this.opts.onStep?.(p.run.name, what)
    step('scheduled')
    p.run.startTime = now()
    this.publish(p)
    if (p.spec.activeDeadlineSeconds !== undefined) p.deadline = setTimeout(() => void this.deadlineExceeded(p), p.spec.activeDeadlineSeconds * 1000)
    const volCtx = this.volumeContext(p)
    for (let delay = this.backoff(); ; delay = this.backoff(delay)) {
      const r = await prepareVolumes(volCtx, p.spec.volumes ?? [])
      if (this.halted(p)) return
      if ('ok' in r) {
        p.volumes = r.ok
        break
      }
      this.event(p, { type: 'Warning', reason: 'FailedMount', message: r.failed })
      await this.sleep(p, delay)
      if (this.halted(p)) return
    }
    if (!(await localImage(this.docker, SANDBOX_IMAGE))) await pullImage(this.docker, SANDBOX_IMAGE, [])
    const sandbox = await startSandbox(this.docker, { name: dockerName(p, 'POD'), hostname: p.spec.hostname ?? p.run.name, image: SANDBOX_IMAGE, network: this.opts.network, labels: p.labels }, p.spec)
    p.sandboxId = sandbox.id
    step('sandbox started')
    if (this.halted(p)) return
    await configureDns(this.docker, sandbox, p.run.namespace, p.spec, this.opts.clusterDns)
    Object.assign(p.run, { sandboxReady: true, podIP: sandbox.podIP, hostIP: sandbox.hostIP })
    this.publish(p)
    for (const [i, c] of p.run.initContainers.entries()) {
      if (!(await ensureImage(this.pullHost(p), c, p.spec.initContainers![i]!))) return
      if (!(await this.startWithRetry(p, c, p.spec.initContainers![i]!))) return
      step(`${c.name} started`)
      await this.waitExit(p, c)
      step(`${c.name} exited`)
      // restartPolicy Never: a failed init container fails the pod; nothing else starts.
      if (!('terminated' in c.state) || c.state.terminated.exitCode !== 0 || this.halted(p)) return
    }
    for (const c of p.run.containers) if ('waiting' in c.state) c.state = { waiting: { reason: 'ContainerCreating' } }
    if (p.run.initContainers.length > 0) this.publish(p)
    for (const [i, c] of p.run.containers.entries()) {
      if (this.halted(p)) return
      const spec = p.spec.containers[i]!
      const first = await pullOnce(this.pullHost(p), c, spec)
      if (first === 'never') continue
      const attempt = first === 'ok' ? await this.createAndStart(p, c, spec) : undefined
      if (attempt === 'started') step(`${c.name} started`)
      if (attempt === 'started') p.watchers.push(this.waitExit(p, c))
      if (attempt !== undefined && attempt !== 'config') continue
      // The kubelet goes on with the other containers; this one retries after its back-off.
      p.watchers.push((async () => {
        if (first !== 'ok' && !(await ensureImage(this.pullHost(p), c, spec, first))) return
        if (await this.startWithRetry(p, c, spec, attempt)) await this.waitExit(p, c)
      })())
    }
  }

  /** Starts a container, trying again after a back-off while its configuration cannot be made. */
  private async startWithRetry(p: PodEntry, c: ContainerRun, spec: PodContainer, first?: StartOutcome): Promise<boolean> {
    for (let delay = this.backoff(); ; delay = this.backoff(delay)) {
      const r = first ?? (await this.createAndStart(p, c, spec))
      first = undefined
      if (r !== 'config') return r === 'started'
      await this.sleep(p, delay)
      if (this.halted(p)) return false
    }
  }

  /** Creates and starts one container; its state says why when it did not start. */
  private async createAndStart(p: PodEntry, c: ContainerRun, spec: PodContainer): Promise<StartOutcome> {
    if (this.halted(p)) return 'failed'
    const env = resolveEnv(spec, envContext(p, this.node.name))
    const refused = 'error' in env ? env.error : nonRootRefusal(spec, p.spec.securityContext, await imageUser(this.docker, spec.image), podRef(p))
    if ('error' in env || refused !== undefined) {
      c.state = { waiting: { reason: 'CreateContainerConfigError', message: refused! } }
      this.publish(p)
      this.event(p, { type: 'Warning', reason: 'Failed', message: `Error: ${refused}` }, c)
      return 'config'
    }
    let container: Dockerode.Container
    try {
      const mounts = await containerMounts(this.volumeContext(p), p.volumes, spec.volumeMounts ?? [])
      container = await this.docker.createContainer(containerCreateOptions({ ...spec, ...env, env: env.env.map(([name, value]) => ({ name, value })) }, {
        name: dockerName(p, c.name), sandboxId: p.sandboxId!, mounts, podSecurity: p.spec.securityContext,
        labels: { ...p.labels, 'io.kubernetes.container.name': c.name },
      }))
    } catch (e) {
      const msg = dockerMessage(e)
      c.state = { waiting: { reason: 'CreateContainerError', message: msg } }
      this.publish(p)
      this.event(p, { type: 'Warning', reason: 'Failed', message: `Error: ${msg}` }, c)
      return 'failed'
    }
    c.id = container.id
    this.event(p, { type: 'Normal', reason: 'Created', message: `Created container: ${c.name}` }, c)
    // Removed while being created: the sweep in remove() takes the container.
    if (this.halted(p)) return 'failed'
    try {
      await container.start()
    } catch (e) {
      const info = await container.inspect().catch(() => undefined)
      const msg = info?.State.Error || dockerMessage(e)
      // As dockershim reported a container Docker could not start.
      c.state = { terminated: { exitCode: info?.State.ExitCode || 128, reason: 'ContainerCannotRun', message: msg, startedAt: now(), finishedAt: now(), containerID: `docker://${c.id}` } }
      this.publish(p)
      this.event(p, { type: 'Warning', reason: 'Failed', message: `Error: ${msg}` }, c)
      return 'failed'
    }
    this.event(p, { type: 'Normal', reason: 'Started', message: `Started container ${c.name}` }, c)
    // The kubelet waits for postStart; when it fails the container is killed (and then terminates).
    const postStart = spec.lifecycle?.postStart && (await runHook(hookTarget(p, c, spec, this.docker), spec.lifecycle.postStart, 600_000))
    if (postStart) {
      this.event(p, { type: 'Warning', reason: 'FailedPostStartHook', message: postStart }, c)
      this.event(p, { type: 'Normal', reason: 'Killing', message: 'FailedPostStartHook' }, c)
      await container.stop({ t: p.spec.terminationGracePeriodSeconds ?? 30 }).catch(() => undefined)
    }
    // The deadline passed while this container was starting: it goes the way the others went.
    if (p.run.failed && !p.stopping) await this.killContainers(p, p.spec.terminationGracePeriodSeconds ?? 30)
    const info = await container.inspect()
    // A container that exited already is seen as terminated by waitExit, never as running.
    if (info.State.Running || info.State.Status === 'exited') c.state = { running: { startedAt: rfc3339(info.State.StartedAt) } }
    this.publish(p)
    return 'started'
  }

  /** Waits for the container to exit and reports how (Completed, Error, OOMKilled). */
  private async waitExit(p: PodEntry, c: ContainerRun): Promise<void> {
    const container = this.docker.getContainer(c.id!)
    const waited = (await container.wait().catch(() => undefined)) as { StatusCode?: number } | undefined
    let info = await container.inspect().catch(() => undefined)
    // The engine may record the OOM kill a moment after the exit (cgroup v1 events race).
    for (let i = 0; i < 5 && info?.State.ExitCode === 137 && !info.State.OOMKilled; i++) {
      await new Promise((r) => setTimeout(r, 100))
      info = (await container.inspect().catch(() => undefined)) ?? info
    }
    const exitCode = info?.State.ExitCode ?? waited?.StatusCode ?? 137
    const reason = info?.State.OOMKilled ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error'
    const startedAt = 'running' in c.state ? c.state.running.startedAt : rfc3339(info?.State.StartedAt)
    c.state = { terminated: { exitCode, reason, startedAt, finishedAt: info ? rfc3339(info.State.FinishedAt) : now(), containerID: `docker://${c.id}` } }
    this.publish(p)
    const phase = podPhase(p.run)
    if (phase === 'Succeeded' || phase === 'Failed') this.rescheduleWaiting()
  }

  /** activeDeadlineSeconds: the pod fails, its containers are killed. */
  private async deadlineExceeded(p: PodEntry): Promise<void> {
    const phase = podPhase(p.run)
    if (p.stopping || phase === 'Succeeded' || phase === 'Failed') return
    p.run.failed = { reason: 'DeadlineExceeded', message: DEADLINE_MESSAGE }
    this.publish(p)
    this.event(p, { type: 'Normal', reason: 'DeadlineExceeded', message: DEADLINE_MESSAGE })
    this.wake(p)
    await this.killContainers(p, p.spec.terminationGracePeriodSeconds ?? 30)
  }

  // ── streams ──────────────────────────────────────────────────────────────────────────────

  async exec(req: StreamRequest): Promise<StreamResult> {
    const found = streamTarget(this.pods.get(`${req.namespace}/${req.pod}`)?.run, req)
    if ('kind' in found) return found
    try {
      return { kind: 'exited', code: await dockerExec(this.docker, found.id, req.command ?? [], req) }
    } catch (e) {
      return streamRefusal(req, e)
    }
  }

  async attach(req: StreamRequest): Promise<StreamResult> {
    const found = streamTarget(this.pods.get(`${req.namespace}/${req.pod}`)?.run, req)
    if ('kind' in found) return found
    try {
      await dockerAttach(this.docker, found.id, req)
      return { kind: 'exited', code: 0 }
    } catch (e) {
      return streamRefusal(req, e)
    }
  }

  logs(namespace: string, pod: string, container: string): Promise<string> {
    const p = this.pods.get(`${namespace}/${pod}`)
    return containerLogs(this.docker, p && { run: p.run, containers: [...p.spec.containers, ...(p.spec.initContainers ?? [])] }, pod, container)
  }

  // ── removal ──────────────────────────────────────────────────────────────────────────────

  remove(namespace: string, name: string, gracePeriodSeconds: number): Promise<void> {
    const p = this.pods.get(`${namespace}/${name}`)
    if (!p) return Promise.resolve()
    // A second delete (or close() during one) waits for the first.
    p.removing ??= this.removePod(p, gracePeriodSeconds)
    return p.removing
  }

  private async removePod(p: PodEntry, gracePeriodSeconds: number): Promise<void> {
    p.stopping = true
    clearTimeout(p.deadline)
    this.wake(p)
    // Kill first: the set-up may be waiting for an init container to exit.
    await this.killContainers(p, gracePeriodSeconds)
    await p.setup
    await this.killContainers(p, gracePeriodSeconds)
    await Promise.allSettled(p.watchers)
    await sweep(this.docker, { 'io.kubernetes.pod.uid': p.run.uid })
    this.pods.delete(`${p.run.namespace}/${p.run.name}`)
    this.rescheduleWaiting()
  }

  /** Requests freed (a pod ended or went): the scheduler tries the pods it could not place again. */
  private rescheduleWaiting(): void {
    for (const q of this.pods.values()) if (!q.run.scheduled && q.run.unschedulable !== undefined && !q.stopping) q.setup = this.schedule(q)
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.pods.values()].map((p) => this.remove(p.run.namespace, p.run.name, 0)))
    await sweep(this.docker, { [this.sweepLabel[0]]: this.sweepLabel[1] })
  }

  /** SIGTERM, then SIGKILL after the grace period, for every running container of the pod (not the sandbox). */
  private killContainers(p: PodEntry, grace: number): Promise<void> {
    return stopPodContainers(this.docker, p.run.uid, grace, async (id) => {
      const c = [...p.run.containers, ...p.run.initContainers].find((x) => x.id === id)
      if (!c) return
      this.event(p, { type: 'Normal', reason: 'Killing', message: `Stopping container ${c.name}` }, c)
      const spec = [...p.spec.containers, ...(p.spec.initContainers ?? [])].find((x) => x.name === c.name)
      const failed = spec?.lifecycle?.preStop && (await runHook(hookTarget(p, c, spec, this.docker), spec.lifecycle.preStop, grace * 1000))
      if (failed) this.event(p, { type: 'Warning', reason: 'FailedPreStopHook', message: failed }, c)
    })
  }

  // ── helpers ──────────────────────────────────────────────────────────────────────────────

  private halted(p: PodEntry): boolean {
    return p.stopping || p.run.failed !== undefined
  }

  private used(self: PodEntry): Resources {
    const sum: Resources = { cpu: 0, memory: 0 }
    for (const p of this.pods.values()) {
      const phase = podPhase(p.run)
      if (p === self || !p.run.scheduled || phase === 'Succeeded' || phase === 'Failed') continue
      const r = podRequests(p.spec)
      sum.cpu += r.cpu
      sum.memory += r.memory
    }
    return sum
  }

  private backoff(previous?: number): number {
    const first = this.opts.pullBackoffMs ?? 1000
    return previous === undefined ? first : Math.min(previous * 2, first * 30)
  }

  private sleep(p: PodEntry, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(t)
        p.wakers.delete(wake)
        resolve()
      }
      const t = setTimeout(wake, ms)
      p.wakers.add(wake)
    })
  }

  private wake(p: PodEntry): void {
    for (const w of [...p.wakers]) w()
  }

  private pullHost(p: PodEntry): PullHost {
    return {
      docker: this.docker, pullMessages: this.opts.pullMessages ?? '1.32',
      backoff: (prev) => this.backoff(prev), sleep: (ms) => this.sleep(p, ms), halted: () => this.halted(p),
      publish: () => this.publish(p), event: (e, c) => this.event(p, e, c),
      pullSecrets: () => (p.spec.imagePullSecrets ?? []).map((s) => ({ name: s.name, secret: p.reporter.read('secrets', p.run.namespace, s.name) })),
    }
  }

  private volumeContext(p: PodEntry): VolumeContext {
    return { docker: this.docker, namespace: p.run.namespace, uid: p.run.uid, reporter: p.reporter, labels: p.labels, toolImage: SANDBOX_IMAGE }
  }

  private publish(p: PodEntry): void {
    try {
      p.reporter.setStatus(p.run.namespace, p.run.name, podStatus(p.run))
    } catch {
      // The pod is gone from the API (deleted while the node still reports): nothing to update.
    }
  }

  private event(p: PodEntry, e: PodEvent, c?: ContainerRun): void {
    const fieldPath = c ? `spec.${c.init ? 'initContainers' : 'containers'}{${c.name}}` : undefined
    try {
      p.reporter.event(p.run.namespace, p.run.name, { component: 'kubelet', ...e, ...(fieldPath ? { fieldPath } : {}) })
    } catch {
      // As for publish.
    }
  }
}

function dockerMessage(e: unknown): string {
  const j = (e as { json?: { message?: string } }).json
  return j?.message ?? (e instanceof Error ? e.message : String(e))
}

/** Docker's nanosecond timestamps as metav1.Time (seconds). */
function rfc3339(t: string | undefined): string {
  if (!t || t.startsWith('0001-')) return now()
  return new Date(t).toISOString().replace(/\.\d+Z$/, 'Z')
}
