import type Docker from 'dockerode'
import type { DockerExecutorOptions } from './options.js'

/**
 * The HostConfig of a job container from [runners.docker]: configured volumes (the helper also
 * takes the build container's, /builds among them), network mode (the job's own network when it has services), extra_hosts (plus the
 * service aliases on the default bridge), dns, resources and privileges. The helper container
 * gets the same network and name settings, so a clone resolves and trusts what the job would.
 */
export function hostConfigFor(o: DockerExecutorOptions, c: { kind: 'build' | 'helper'; volumesFrom?: string; network: string | undefined; serviceHosts: string[] }): Docker.HostConfig {
  const binds: string[] = []
  for (const v of o.volumes ?? []) if (v.includes(':')) binds.push(v)
  const hc: Docker.HostConfig = {
    ...(binds.length ? { Binds: binds } : {}),
    ...(c.volumesFrom ? { VolumesFrom: [c.volumesFrom] } : {}),
    ...(c.network ?? o.networkMode ? { NetworkMode: c.network ?? o.networkMode } : {}),
    ExtraHosts: [...(o.extraHosts ?? []), ...c.serviceHosts],
    ...(o.dns?.length ? { Dns: o.dns } : {}),
    ...(o.dnsSearch?.length ? { DnsSearch: o.dnsSearch } : {}),
  }
  if (c.kind === 'build') {
    Object.assign(hc, {
      Privileged: o.privileged ?? false,
      ...(o.capAdd?.length ? { CapAdd: o.capAdd } : {}),
      ...(o.capDrop?.length ? { CapDrop: o.capDrop } : {}),
      ...(o.memory ? { Memory: parseBytes(o.memory) } : {}),
      ...(o.cpus ? { NanoCpus: Math.round(Number(o.cpus) * 1e9) } : {}),
      ...(o.shmSize ? { ShmSize: o.shmSize } : {}),
    })
  }
  return hc
}

/** Docker's memory strings: "512m", "2g", "1048576". */
export function parseBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmg]?)b?$/i.exec(s.trim())
  if (!m) return Number(s)
  const mult = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'b' | 'k' | 'm' | 'g']
  return Math.round(Number(m[1]) * mult)
}
