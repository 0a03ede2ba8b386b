import { type Duplex, type Readable, Writable } from 'node:stream'
import type Dockerode from 'dockerode'
import type { StreamRequest, StreamResult } from './kubelet.js'
import type { PodRun } from './pod-status.js'

/**
 * The streaming half of the kubelet on the Docker engine: exec, attach and logs with the
 * engine's multiplexed stdout/stderr split back into two streams.
 */

export interface StdioStreams {
  stdin?: Readable
  stdout?: Writable
  stderr?: Writable
  tty: boolean
}

/** Runs `cmd` in container `id` with the given stdio; resolves with its exit code. */
export async function dockerExec(docker: Dockerode, id: string, cmd: string[], io: StdioStreams): Promise<number> {
  const exec = await docker.getContainer(id).exec({ Cmd: cmd, AttachStdin: !!io.stdin, AttachStdout: !!io.stdout, AttachStderr: !!io.stderr, Tty: io.tty })
  const stream = (await exec.start({ hijack: true, stdin: !!io.stdin, Tty: io.tty })) as Duplex
  await pump(docker, stream, io)
  // The stream ends a moment before the engine records the exit code.
  for (let i = 0; ; i++) {
    const info = await exec.inspect()
    if (!info.Running || i >= 100) return info.ExitCode ?? 0
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Attaches to the main process of container `id`; resolves when the attach session ends. */
export async function dockerAttach(docker: Dockerode, id: string, io: StdioStreams): Promise<void> {
  const stream = (await docker.getContainer(id).attach({ stream: true, hijack: true, stdin: !!io.stdin, stdout: !!io.stdout, stderr: !!io.stderr })) as Duplex
  await pump(docker, stream, io)
}

/** Feeds stdin (closing the engine's side when it ends) and copies output until the engine ends the stream. */
function pump(docker: Dockerode, stream: Duplex, io: StdioStreams): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const feed = (d: Buffer): void => {
      if (!stream.writableEnded) stream.write(d)
    }
    // A half-close tells the engine stdin is at EOF; the process's output keeps coming.
    const eof = (): void => {
      if (!stream.writableEnded) stream.end()
    }
    // The client going away (the server closes our output) ends the session, as a closed socket does.
    const gone = (): void => {
      stream.destroy()
      done()
    }
    let settled = false
    const done = (e?: Error): void => {
      if (settled) return
      settled = true
      io.stdin?.off('data', feed).off('end', eof).off('close', eof)
      io.stdout?.off('close', gone)
      io.stderr?.off('close', gone)
      if (e) reject(e)
      else resolve()
    }
    stream.on('end', () => done())
    stream.on('close', () => done())
    stream.on('error', (e) => done(e))
    io.stdout?.once('close', gone)
    io.stderr?.once('close', gone)
    if (io.tty) stream.on('data', (d: Buffer) => io.stdout?.write(d))
    else docker.modem.demuxStream(stream, io.stdout ?? discard(), io.stderr ?? discard())
    io.stdin?.on('data', feed).on('end', eof).on('close', eof)
  })
}

function discard(): Writable {
  return new Writable({ write: (_c, _e, cb) => cb() })
}

/** Runs a command and collects its output (for the kubelet's own work inside containers). */
export async function execCapture(docker: Dockerode, id: string, cmd: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: Buffer[] = []
  const err: Buffer[] = []
  const sink = (into: Buffer[]): Writable => new Writable({ write: (d: Buffer, _e, cb) => (into.push(Buffer.from(d)), cb()) })
  const code = await dockerExec(docker, id, cmd, { stdout: sink(out), stderr: sink(err), tty: false })
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }
}

/** The container's output so far, stdout and stderr interleaved as written. */
export async function dockerLogs(docker: Dockerode, id: string, tty: boolean): Promise<string> {
  const raw = (await docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer
  if (tty) return raw.toString('utf8')
  const parts: Buffer[] = []
  // Engine frames: 1 byte stream, 3 zero bytes, 4 bytes big-endian length, payload.
  for (let i = 0; i + 8 <= raw.length;) {
    const n = raw.readUInt32BE(i + 4)
    parts.push(raw.subarray(i + 8, i + 8 + n))
    i += 8 + n
  }
  return Buffer.concat(parts).toString('utf8')
}

/**
 * The container a stream request is for, if it runs; else the kubelet's refusal. The kubelet
 * only finds running containers, and answers 500 `container not found ("<name>")`, which the
 * API server passes on as `unable to upgrade connection: container not found ("<name>")`.
 */
export function streamTarget(run: PodRun | undefined, req: StreamRequest): { id: string } | StreamResult {
  if (!run) return { kind: 'error', reason: 'NotFound', message: `pods "${req.pod}" not found` }
  const c = [...run.containers, ...run.initContainers].find((x) => x.name === req.container)
  if (!c) return { kind: 'error', reason: 'BadRequest', message: `container ${req.container} is not valid for pod ${req.pod}` }
  if (!c.id || !('running' in c.state)) return { kind: 'error', reason: 'InternalError', message: `container not found ("${req.container}")` }
  return { id: c.id }
}

/** The engine refusing (the container stopped a moment ago) reads as the kubelet not finding it. */
export function streamRefusal(req: StreamRequest, e: unknown): StreamResult {
  const code = (e as { statusCode?: number }).statusCode
  if (code === 404 || code === 409) return { kind: 'error', reason: 'InternalError', message: `container not found ("${req.container}")` }
  const j = (e as { json?: { message?: string } }).json
  return { kind: 'error', reason: 'InternalError', message: j?.message ?? (e instanceof Error ? e.message : String(e)) }
}

/** pods/log: the container's output so far, or the API's refusal (an Error with `reason` and `code`). */
export function containerLogs(docker: Dockerode, pod: { run: PodRun; containers: { name: string; tty?: boolean }[] } | undefined, name: string, container: string): Promise<string> {
  const refuse = (message: string, reason: string, code: number): Promise<never> => Promise.reject(Object.assign(new Error(message), { reason, code }))
  if (!pod) return refuse(`pods "${name}" not found`, 'NotFound', 404)
  const c = [...pod.run.containers, ...pod.run.initContainers].find((x) => x.name === container)
  if (!c) return refuse(`container ${container} is not valid for pod ${name}`, 'BadRequest', 400)
  if (!c.id) return refuse(`container "${container}" in pod "${name}" is waiting to start: ${'waiting' in c.state ? c.state.waiting.reason : 'ContainerCreating'}`, 'BadRequest', 400)
  return dockerLogs(docker, c.id, pod.containers.find((x) => x.name === container)?.tty === true)
}
