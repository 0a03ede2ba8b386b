import { randomBytes } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import type Docker from 'dockerode'
import type { ProbeResult } from '../../diagnose/types.js'
import { resourceLabels } from './labels.js'
import type { DockerExecutorOptions } from './options.js'

/**
 * Name resolution as a job container sees it: a throw-away container from the job's image with
 * the runner's network_mode, extra_hosts, dns and dns_search, asked to resolve one host. The
 * container's /etc/hosts is read first (that is where extra_hosts land), then the image's own
 * resolver (getent, else nslookup). Images differ in what they ship, so the script uses only
 * POSIX sh and whichever tool exists, and the parsing happens here.
 *
 * The job's own network (made when it had services) is gone by now; the probe runs on the
 * network the runner would pick without services, which resolves names the same way except
 * for the service aliases.
 */
export const RESOLVE_SCRIPT = [
  'h="$1"',
  'while read -r ip names; do case "$ip" in ""|\\#*) continue;; esac; for n in $names; do [ "$n" = "$h" ] && { echo "@@hosts $ip"; exit 0; }; done; done < /etc/hosts',
  'echo "@@resolv"; grep -E "^(nameserver|search)" /etc/resolv.conf 2>/dev/null',
  'if command -v getent >/dev/null 2>&1; then echo "@@getent"; getent hosts "$h"; exit 0; fi',
  'if command -v nslookup >/dev/null 2>&1; then echo "@@nslookup"; nslookup "$h" 2>&1; exit 0; fi',
  'echo "@@none"',
].join('\n')

export interface ResolveProbeRequest {
  host: string
  /** An image already on the engine (the job's); without one there is nothing to probe from. */
  image: string
  timeoutMs?: number
}

export async function resolveFromContainer(docker: Docker, opts: DockerExecutorOptions, r: ResolveProbeRequest): Promise<ProbeResult> {
  const base = { kind: 'dns' as const, target: r.host, from: 'job' as const }
  const inconclusive = (why: string): ProbeResult => ({ ...base, ok: false, summary: `could not check from a job container: ${why}`, detail: { inconclusive: true } })
  let container: Docker.Container | undefined
  try {
    container = await docker.createContainer({
      Image: r.image,
      name: `glrun-probe-${randomBytes(4).toString('hex')}`,
      Entrypoint: ['sh', '-c', RESOLVE_SCRIPT, 'probe'],
      Cmd: [r.host],
      Tty: true,
      Labels: resourceLabels(0, 'probe'),
      HostConfig: {
        ...(opts.networkMode ? { NetworkMode: opts.networkMode } : {}),
        ExtraHosts: opts.extraHosts ?? [],
        ...(opts.dns?.length ? { Dns: opts.dns } : {}),
        ...(opts.dnsSearch?.length ? { DnsSearch: opts.dnsSearch } : {}),
      },
    })
    await container.start()
    const timeoutMs = r.timeoutMs ?? 8000
    const waited = await Promise.race([container.wait(), delay(timeoutMs, undefined, { ref: false })])
    if (waited === undefined) return inconclusive(`the lookup did not finish in ${timeoutMs / 1000} s (the job's DNS server does not answer)`)
    const output = (await container.logs({ stdout: true, stderr: true, follow: false })).toString('utf8').replace(/\r/g, '')
    return interpretResolve(r.host, r.image, output, `a job container (${r.image}${opts.networkMode ? `, network_mode ${opts.networkMode}` : ''})`, 'extra_hosts')
  } catch (e) {
    return inconclusive((e as Error).message.split('\n')[0] ?? String(e))
  } finally {
    await container?.remove({ force: true }).catch(() => undefined)
  }
}

/** What RESOLVE_SCRIPT's output says; `where` names the place it ran, `hostsSetting` what fills its /etc/hosts. */
export function interpretResolve(host: string, image: string, output: string, where: string, hostsSetting: string): ProbeResult {
  const base = { kind: 'dns' as const, target: host, from: 'job' as const }
  const hosts = /^@@hosts (\S+)/m.exec(output)
  if (hosts) return { ...base, ok: true, summary: `${where} resolves ${host} to ${hosts[1]} (from /etc/hosts: ${hostsSetting})`, detail: { addresses: [hosts[1]], via: 'hosts' } }
  const resolv = section(output, 'resolv')
  const nameservers = resolv.filter((l) => l.startsWith('nameserver')).map((l) => l.split(/\s+/)[1]).filter(Boolean)
  const detail: Record<string, unknown> = { nameservers }
  if (/^@@none/m.test(output)) return { ...base, ok: false, summary: `could not check from ${where}: ${image} has neither getent nor nslookup`, detail: { ...detail, inconclusive: true } }
  const addresses = /^@@getent/m.test(output)
    ? section(output, 'getent').map((l) => l.split(/\s+/)[0]!).filter((a) => /^[\d.:a-f]+$/i.test(a))
    : nslookupAddresses(section(output, 'nslookup'))
  const servers = nameservers.length ? ` (nameservers ${nameservers.join(', ')})` : ''
  if (addresses.length) return { ...base, ok: true, summary: `${where} resolves ${host} to ${[...new Set(addresses)].join(', ')} via DNS${servers}`, detail: { ...detail, addresses: [...new Set(addresses)], via: 'dns' } }
  return { ...base, ok: false, summary: `${where} cannot resolve ${host}: not in its /etc/hosts and not known to its DNS${servers}`, detail: { ...detail, error: 'ENOTFOUND' } }
}

function section(output: string, name: string): string[] {
  const lines = output.split('\n')
  const start = lines.findIndex((l) => l === `@@${name}`)
  if (start < 0) return []
  const rest = lines.slice(start + 1)
  const end = rest.findIndex((l) => l.startsWith('@@'))
  return (end < 0 ? rest : rest.slice(0, end)).map((l) => l.trim()).filter(Boolean)
}

/** busybox and bind nslookup both print the server first, then "Name:" and the answers. */
function nslookupAddresses(lines: string[]): string[] {
  const name = lines.findIndex((l) => /^Name:/i.test(l))
  if (name < 0) return []
  return lines.slice(name + 1).map((l) => /^Address(?:\s*\d+)?:\s*([\d.:a-f]+)/i.exec(l)?.[1]).filter((a): a is string => a !== undefined)
}
