import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import type Dockerode from 'dockerode'
import { execCapture } from './pod-streams.js'

/**
 * The pod sandbox: a sleeping container that owns the pod's network namespace (and so its
 * /etc/hosts and /etc/resolv.conf, which Docker shares with every container joining it), as
 * the pause container does for a real kubelet.
 */

export interface DnsSpec {
  dnsPolicy?: string
  dnsConfig?: { nameservers?: string[]; searches?: string[]; options?: { name: string; value?: string }[] }
  hostAliases?: { ip: string; hostnames?: string[] }[]
}

export interface SandboxOptions {
  name: string
  hostname: string
  image: string
  network: string
  labels: Record<string, string>
}

/** `resolvConfPath`: the engine's file behind the sandbox's /etc/resolv.conf (inspect's ResolvConfPath). */
export interface Sandbox { id: string; podIP: string; hostIP: string; resolvConfPath?: string }

export async function startSandbox(docker: Dockerode, o: SandboxOptions, spec: DnsSpec): Promise<Sandbox> {
  // hostAliases in spec order, each hostname its own line after the defaults, as Docker writes ExtraHosts.
  const extraHosts = (spec.hostAliases ?? []).flatMap((a) => (a.hostnames ?? []).map((h) => `${h}:${a.ip}`))
  const c = await docker.createContainer({
    name: o.name, Image: o.image, Hostname: o.hostname.slice(0, 63), Labels: o.labels,
    Cmd: ['sleep', '2147483647'],
    HostConfig: { NetworkMode: o.network, ExtraHosts: extraHosts },
  })
  await c.start()
  const info = await c.inspect()
  const net = info.NetworkSettings.Networks[o.network]
  return { id: info.Id, podIP: net?.IPAddress ?? '', hostIP: net?.Gateway ?? '', ...(info.ResolvConfPath ? { resolvConfPath: info.ResolvConfPath } : {}) }
}

interface Resolver { nameservers: string[]; searches: string[]; options: { name: string; value?: string }[] }

/**
 * Rewrites the sandbox's /etc/resolv.conf as the kubelet builds it for the pod's dnsPolicy:
 * None ⇒ dnsConfig only; ClusterFirst ⇒ the cluster DNS with the cluster search domains,
 * dnsConfig merged in; Default ⇒ the engine's (the node's) resolver, dnsConfig merged in.
 * `clusterDns` undefined keeps the engine's nameservers (Docker's embedded DNS on a user network).
 */
export async function configureDns(docker: Dockerode, sandbox: Sandbox, namespace: string, spec: DnsSpec, clusterDns?: { nameservers: string[]; searches?: string[] }): Promise<void> {
  const sandboxId = sandbox.id
  // As dockershim did: the file behind the container's resolv.conf is rewritten on the node
  // (here when the engine's data root is on this machine, as in the tests), else through exec.
  const file = sandbox.resolvConfPath !== undefined && existsSync(sandbox.resolvConfPath) ? sandbox.resolvConfPath : undefined
  const policy = spec.dnsPolicy ?? 'ClusterFirst'
  const cfg = spec.dnsConfig ?? {}
  let base: Resolver
  if (policy === 'None') {
    base = { nameservers: [], searches: [], options: [] }
  } else {
    const engine = parseResolvConf(file ? readFileSync(file, 'utf8') : (await execCapture(docker, sandboxId, ['cat', '/etc/resolv.conf'])).stdout)
    if (policy === 'Default') base = engine
    else {
      base = {
        nameservers: clusterDns?.nameservers ?? engine.nameservers,
        searches: [`${namespace}.svc.cluster.local`, 'svc.cluster.local', 'cluster.local', ...(clusterDns?.searches ?? engine.searches)],
        options: [{ name: 'ndots', value: '5' }],
      }
    }
  }
  const merged: Resolver = {
    nameservers: dedupe([...base.nameservers, ...(cfg.nameservers ?? [])]),
    searches: dedupe([...base.searches, ...(cfg.searches ?? [])]),
    options: mergeOptions(base.options, cfg.options ?? []),
  }
  const text = [
    ...(merged.searches.length > 0 ? [`search ${merged.searches.join(' ')}`] : []),
    ...merged.nameservers.map((n) => `nameserver ${n}`),
    ...(merged.options.length > 0 ? [`options ${merged.options.map((o) => (o.value !== undefined ? `${o.name}:${o.value}` : o.name)).join(' ')}`] : []),
  ].join('\n')
  if (file) {
    writeFileSync(file, `${text}\n`)
    return
  }
  const r = await execCapture(docker, sandboxId, ['sh', '-c', 'printf "%s\\n" "$0" > /etc/resolv.conf', text])
  if (r.code !== 0) throw new Error(`writing the pod's /etc/resolv.conf failed: ${r.stderr.trim()}`)
}

function parseResolvConf(text: string): Resolver {
  const r: Resolver = { nameservers: [], searches: [], options: [] }
  for (const line of text.split('\n')) {
    const [key, ...rest] = line.trim().split(/\s+/)
    if (key === 'nameserver' && rest[0]) r.nameservers.push(rest[0])
    else if (key === 'search') r.searches = rest
    else if (key === 'options') r.options = rest.map((o) => {
      const i = o.indexOf(':')
      return i < 0 ? { name: o } : { name: o.slice(0, i), value: o.slice(i + 1) }
    })
  }
  return r
}

const dedupe = (xs: string[]): string[] => [...new Set(xs)]

/** dnsConfig options replace the base's option of the same name. */
function mergeOptions(base: Resolver['options'], extra: Resolver['options']): Resolver['options'] {
  const out = new Map(base.map((o) => [o.name, o]))
  for (const o of extra) out.set(o.name, o)
  return [...out.values()]
}
