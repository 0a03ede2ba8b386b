import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Kubelet, NodeReporter, PodObject, StreamRequest, StreamResult } from './kubelet.js'

/**
 * A node for the double's own tests: each container is a directory, exec runs the command as a
 * real child process in it, and a container with `stdin: true` and no command has `sh` as its
 * main process (what attach connects to, whose output is the container log). Status goes
 * Pending (scheduled, ContainerCreating) → Running/Ready with the kubelet's Events. Not the
 * Docker-backed kubelet the executor's tests use (docker-kubelet.ts).
 */
interface Container { dir: string; main?: ChildProcess; log: string; attached: Set<StreamRequest>; exited?: number }
interface Pod { running: boolean; containers: Map<string, Container> }

export class ShKubelet implements Kubelet {
  readonly root = mkdtempSync(join(tmpdir(), 'k8s-sh-kubelet-'))
  private readonly pods = new Map<string, Pod>()
  /** Every stream request received, for tests to look at. */
  readonly streams: StreamRequest[] = []

  constructor(private readonly startMs = 30) {}

  run(pod: PodObject, reporter: NodeReporter): void {
    const { namespace, name } = pod.metadata
    const key = `${namespace}/${name}`
    const entry: Pod = { running: false, containers: new Map() }
    this.pods.set(key, entry)
    const names: string[] = pod.spec.containers.map((c: any) => c.name)
    const waiting = names.map((n) => ({ name: n, image: pod.spec.containers.find((c: any) => c.name === n).image, imageID: '', ready: false, restartCount: 0, started: false, state: { waiting: { reason: 'ContainerCreating' } }, lastState: {} }))
    const startTime = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
    setTimeout(() => {
      reporter.event(namespace, name, { type: 'Normal', reason: 'Scheduled', message: `Successfully assigned ${namespace}/${name} to k8s-double-node`, component: 'default-scheduler' })
      reporter.setStatus(namespace, name, {
        phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: startTime }],
        hostIP: '10.0.0.1', startTime, containerStatuses: waiting, qosClass: 'BestEffort',
      })
      setTimeout(() => {
        if (!this.pods.has(key)) return
        for (const c of pod.spec.containers) {
          const dir = join(this.root, namespace, name, c.name)
          mkdirSync(dir, { recursive: true })
          const container: Container = { dir, log: '', attached: new Set() }
          entry.containers.set(c.name, container)
          reporter.event(namespace, name, { type: 'Normal', reason: 'Pulled', message: `Container image "${c.image}" already present on machine`, fieldPath: `spec.containers{${c.name}}` })
          reporter.event(namespace, name, { type: 'Normal', reason: 'Created', message: `Created container: ${c.name}`, fieldPath: `spec.containers{${c.name}}` })
          if (c.stdin && !c.command) this.startMain(container)
          reporter.event(namespace, name, { type: 'Normal', reason: 'Started', message: `Started container ${c.name}`, fieldPath: `spec.containers{${c.name}}` })
        }
        entry.running = true
        reporter.setStatus(namespace, name, {
          phase: 'Running', hostIP: '10.0.0.1', podIP: '10.1.0.7', podIPs: [{ ip: '10.1.0.7' }], startTime, qosClass: 'BestEffort',
          conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: startTime })),
          containerStatuses: waiting.map((w) => ({ ...w, ready: true, started: true, state: { running: { startedAt: startTime } } })),
        })
      }, this.startMs).unref()
    }, this.startMs).unref()
  }

  private startMain(c: Container): void {
    const main = spawn('sh', [], { cwd: c.dir, stdio: ['pipe', 'pipe', 'pipe'] })
    c.main = main
    const out = (which: 'stdout' | 'stderr') => (d: Buffer): void => {
      c.log += d.toString('utf8')
      for (const a of c.attached) a[which]?.write(d)
    }
    main.stdout!.on('data', out('stdout'))
    main.stderr!.on('data', out('stderr'))
    main.stdin!.on('error', () => {})
    main.on('close', (code) => { c.exited = code ?? 137 })
  }

  private container(req: StreamRequest): Container | StreamResult {
    const pod = this.pods.get(`${req.namespace}/${req.pod}`)
    const c = pod?.containers.get(req.container)
    if (!pod || !pod.running || !c) return { kind: 'error', reason: 'BadRequest', message: `container not found ("${req.container}")` }
    return c
  }

  async exec(req: StreamRequest): Promise<StreamResult> {
    this.streams.push(req)
    const c = this.container(req)
    if ('kind' in c) return c
    const [cmd, ...args] = req.command ?? []
    const child = spawn(cmd!, args, { cwd: c.dir, stdio: ['pipe', 'pipe', 'pipe'] })
    if (req.stdin) req.stdin.pipe(child.stdin!); else child.stdin!.end()
    child.stdin!.on('error', () => {})
    child.stdout!.on('data', (d: Buffer) => req.stdout?.write(d))
    child.stderr!.on('data', (d: Buffer) => (req.tty ? req.stdout : req.stderr)?.write(d))
    return new Promise((resolve) => {
      child.on('error', (e) => resolve({ kind: 'error', reason: 'InternalError', message: `error executing command in container: ${e.message}` }))
      child.on('close', (code, signal) => resolve({ kind: 'exited', code: code ?? (signal ? 128 + 9 : 1) }))
    })
  }

  async attach(req: StreamRequest): Promise<StreamResult> {
    this.streams.push(req)
    const c = this.container(req)
    if ('kind' in c) return c
    if (!c.main || c.exited !== undefined) return { kind: 'error', reason: 'BadRequest', message: `container ${req.container} is not running` }
    c.attached.add(req)
    req.stdin?.on('data', (d: Buffer) => c.main!.stdin!.write(d))
    return new Promise((resolve) => {
      c.main!.once('close', (code) => { c.attached.delete(req); resolve({ kind: 'exited', code: code ?? 137 }) })
    })
  }

  async logs(namespace: string, pod: string, container: string): Promise<string> {
    const c = this.pods.get(`${namespace}/${pod}`)?.containers.get(container)
    if (!c) throw new Error(`container "${container}" in pod "${pod}" is waiting to start: ContainerCreating`)
    return c.log
  }

  async remove(namespace: string, name: string, gracePeriodSeconds: number): Promise<void> {
    const pod = this.pods.get(`${namespace}/${name}`)
    this.pods.delete(`${namespace}/${name}`)
    if (!pod) return
    const mains = [...pod.containers.values()].map((c) => c.main).filter((m): m is ChildProcess => m !== undefined && m.exitCode === null)
    for (const m of mains) m.kill('SIGTERM')
    const kill = setTimeout(() => { for (const m of mains) m.kill('SIGKILL') }, gracePeriodSeconds * 1000)
    await Promise.all(mains.map((m) => new Promise((r) => (m.exitCode !== null || m.signalCode !== null ? r(null) : m.once('close', r)))))
    clearTimeout(kill)
    rmSync(join(this.root, namespace, name), { recursive: true, force: true })
  }

  async close(): Promise<void> {
    for (const key of [...this.pods.keys()]) { const [ns, n] = key.split('/') as [string, string]; await this.remove(ns, n, 0) }
    rmSync(this.root, { recursive: true, force: true })
  }
}
