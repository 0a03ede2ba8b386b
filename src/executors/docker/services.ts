import { connect } from 'node:net'
import type Docker from 'dockerode'
import type { JobImage } from '../../payload/types.js'
import type { TraceOutput } from '../types.js'
import { serviceHostnames } from './image-ref.js'
import type { ConfigService } from './options.js'

const YELLOW = '\x1b[0;33m'
const RESET = '\x1b[0;m'

export interface StartedService {
  readonly name: string
  readonly container: Docker.Container
  readonly aliases: string[]
  readonly ports: number[]
}

/** Config services first, then the job's, as gitlab-runner orders them. */
export function servicesOf(job: readonly JobImage[], config: readonly ConfigService[]): JobImage[] {
  const fromConfig = config.map((s): JobImage => ({
    name: s.name,
    ...(s.alias ? { alias: s.alias } : {}),
    ...(s.command ? { command: s.command } : {}),
    ...(s.entrypoint ? { entrypoint: s.entrypoint } : {}),
    ...(s.environment ? { variables: s.environment.map((kv) => ({ key: kv.split('=')[0]!, value: kv.slice(kv.indexOf('=') + 1), public: true })) } : {}),
  }))
  return [...fromConfig, ...job]
}

/**
 * The aliases a service answers to (see serviceHostnames). An alias another service already took
 * is skipped with gitlab-runner's warning.
 */
export function aliasesFor(svc: JobImage, index: number, taken: Set<string>, out: TraceOutput): string[] {
  const wanted = serviceHostnames(svc.name, svc.alias)
  const mine: string[] = []
  for (const a of wanted) {
    if (mine.includes(a)) continue
    if (taken.has(a)) {
      out.write(`${YELLOW}WARNING: Skipping alias "${a}" for service "${svc.name}" (services[${index}]): alias is already in use by another service.${RESET}\n`)
      continue
    }
    taken.add(a)
    mine.push(a)
  }
  return mine
}

/** TCP ports a service exposes: the job's `ports`, else the image's EXPOSE lines (at most 20). */
export async function exposedPorts(docker: Docker, svc: JobImage, imageId: string): Promise<number[]> {
  if (svc.ports && svc.ports.length > 0) return svc.ports.filter((p) => (p.protocol ?? 'tcp') === 'tcp').map((p) => p.number)
  const info = await docker.getImage(imageId).inspect()
  const exposed = Object.keys(info.Config?.ExposedPorts ?? {})
  return exposed.filter((p) => p.endsWith('/tcp')).map((p) => Number(p.split('/')[0])).slice(0, 20)
}

/**
 * gitlab-runner's wait-for-service: every exposed TCP port must accept a connection before the
 * job starts. glrun connects from this host to the service's address on the job network (the
 * engine is local). A service that does not come up is a warning with its log, not a failure.
 */
export async function waitForService(s: StartedService, address: string | undefined, timeoutMs: number, out: TraceOutput): Promise<void> {
  if (s.ports.length === 0 || timeoutMs < 0) return
  out.write(`Waiting for services to be up and running (timeout ${Math.round(timeoutMs / 1000)} seconds)...\n`)
  const deadline = Date.now() + timeoutMs
  const pending = new Set(s.ports)
  let lastError = 'no address on the job network'
  while (address && pending.size > 0 && Date.now() < deadline) {
    for (const port of [...pending]) {
      const err = await tryConnect(address, port, Math.min(1000, Math.max(1, deadline - Date.now())))
      if (err === undefined) pending.delete(port)
      else lastError = `dial tcp ${address}:${port}: ${err}`
    }
    if (pending.size > 0) await new Promise((r) => setTimeout(r, 200))
  }
  if (pending.size === 0) return
  const logs = await s.container.logs({ stdout: true, stderr: true, tail: 50 }).then((b) => demuxLogs(b as unknown as Buffer), () => '')
  out.write(`\n${YELLOW}*** WARNING:${RESET} Service ${s.name} probably didn't start properly.\n\nHealth check error:\n${lastError}\n\nService container logs:\n${logs.split('\n').map((l) => (l ? `${s.name} ${l}` : l)).join('\n')}\n${YELLOW}*********${RESET}\n\n`)
}

function tryConnect(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const sock = connect({ host, port })
    const done = (e?: string): void => {
      sock.destroy()
      resolve(e)
    }
    sock.setTimeout(timeoutMs, () => done('i/o timeout'))
    sock.once('connect', () => done())
    sock.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'connect: connection refused' : e.message))
  })
}

/** Container logs come multiplexed (8-byte frame headers) when the container has no TTY. */
export function demuxLogs(buf: Buffer): string {
  let text = ''
  let i = 0
  while (i + 8 <= buf.length && (buf[i] === 1 || buf[i] === 2) && buf[i + 1] === 0) {
    const len = buf.readUInt32BE(i + 4)
    text += buf.subarray(i + 8, i + 8 + len).toString('utf8')
    i += 8 + len
  }
  return i === 0 ? buf.toString('utf8') : text
}
