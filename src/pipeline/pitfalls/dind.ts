import type { GlrunError } from '../../diagnostics/errors.js'
import type { JobSource, PlannedJob } from '../plan/types.js'
import { expandExisting } from '../variables/expand.js'
import { firstDaemonCommand, scriptChoosesDaemon } from './docker-commands.js'
import { Findings } from './findings.js'
import { serviceHostnames } from '../../executors/docker/image-ref.js'
import { isRepository } from './image-ref.js'
import { type ImageUse, jobServices, scriptLines } from './job-facts.js'

/**
 * A job with a `docker:…dind` service whose client settings cannot reach that daemon:
 *
 * - `GLRUN_DIND_TLS_MISMATCH` (taxonomy `dind_tls_mismatch`): DOCKER_HOST's port is not the one
 *   the service listens on. docker:dind from 19.03 on generates certificates into
 *   DOCKER_TLS_CERTDIR (default `/certs`) and then listens on 2376 with TLS only; with
 *   `DOCKER_TLS_CERTDIR: ""` (and in images before 19.03) it listens on 2375 without TLS.
 * - `GLRUN_DIND_DOCKER_HOST` (taxonomy `dind_docker_host_wrong`): DOCKER_HOST names a host that
 *   is none of the service's host names, or the job's Docker socket (which a dind service does
 *   not provide); or DOCKER_HOST is unset while no service is called `docker`, the one name the
 *   docker image's client looks for (a dind image pulled through a registry mirror or the
 *   dependency proxy is named after the full path unless it gets `alias: docker`).
 *
 * The service sees the job's variables, overridden by its own `variables:`. Jobs whose script
 * chooses the daemon itself (sets DOCKER_HOST, `docker -H`, `docker context`, starts dockerd)
 * and services whose `command:` sets listen options are left alone: the YAML alone does not say.
 * localhost and IP addresses are accepted as hosts (Kubernetes executor: services share the pod).
 */
export function dindPitfalls(jobs: readonly PlannedJob[]): GlrunError[] {
  const findings = new Findings()
  for (const job of jobs) {
    const src = job.source
    if (!src) continue
    const services = jobServices(src)
    const dinds = services.filter(isDind)
    if (dinds.length === 0) continue
    const lines = scriptLines(src, ['before_script', 'script', 'after_script'])
    if (scriptChoosesDaemon(lines)) continue
    const host = src.variable('DOCKER_HOST')
    const hostWhere = src.variableSpan('DOCKER_HOST') ?? dinds[0]!.where ?? job.span
    const dind = dinds[0]!

    if (host === undefined || host === '') {
      const names = dinds.flatMap(hostnames)
      if (names.includes('docker') || names.some((n) => n.includes('$')) || !firstDaemonCommand(lines)) continue
      findings.add('GLRUN_DIND_DOCKER_HOST', job.name, dind.where ?? job.span,
        (j) => `${j}: the dind service ${dind.name} is reachable as ${names.join(' or ')}, not as "docker", and DOCKER_HOST is not set: the docker client looks for tcp://docker:2375/2376 (docker image) or the unix socket, and finds no daemon`,
        `Give the service the name the client expects: \`services: [{name: "${dind.name}", alias: docker}]\`; or set \`DOCKER_HOST: tcp://${names[0]}:2376\`.`)
      continue
    }
    if (host.includes('$')) continue
    if (host.startsWith('unix://')) {
      findings.add('GLRUN_DIND_DOCKER_HOST', job.name, hostWhere,
        (j) => `${j}: DOCKER_HOST is ${host}, but the job's Docker daemon is the ${dind.name} service, reachable over TCP; the job container has no Docker socket unless the runner mounts the host's`,
        `Point the client at the service: \`DOCKER_HOST: tcp://${hostnames(dind)[0]}:2376\` with \`DOCKER_TLS_CERTDIR: "/certs"\` (or \`tcp://${hostnames(dind)[0]}:2375\` with \`DOCKER_TLS_CERTDIR: ""\`). If the runner mounts /var/run/docker.sock, drop the dind service instead.`)
      continue
    }
    const m = /^tcp:\/\/([^:/]+)(?::(\d+))?\/?$/.exec(host)
    if (!m) continue
    const [, hostname, port] = m as unknown as [string, string, string | undefined]
    const local = hostname === 'localhost' || /^[\d.]+$/.test(hostname)
    const target = dinds.find((s) => hostnames(s).includes(hostname)) ?? (local && dinds.length === 1 ? dind : undefined)
    if (!target) {
      if (local || services.some((s) => hostnames(s).includes(hostname) || hostnames(s).some((n) => n.includes('$')))) continue
      const names = dinds.flatMap(hostnames)
      findings.add('GLRUN_DIND_DOCKER_HOST', job.name, hostWhere,
        (j) => `${j}: DOCKER_HOST points to ${hostname}, but the dind service ${dind.name} is reachable only as ${names.join(' or ')}: the client fails with "lookup ${hostname}: no such host" or reaches no daemon`,
        `Use one of the service's names: \`DOCKER_HOST: ${host.replace(hostname, names[0]!)}\`, or give the service that name: \`services: [{name: "${dind.name}", alias: ${hostname}}]\`.`)
      continue
    }
    const listens = listenPort(target, src)
    if (!port || !listens || port === listens.port) continue
    findings.add('GLRUN_DIND_TLS_MISMATCH', job.name, hostWhere,
      (j) => `${j}: DOCKER_HOST uses port ${port}, but the ${target.name} service listens on ${listens.port} ${listens.port === '2376' ? 'with TLS only' : 'without TLS'} (${listens.why}): the client gets "Cannot connect to the Docker daemon at ${host}"`,
      `Make both sides agree. TLS: \`DOCKER_HOST: tcp://${hostname}:2376\`, \`DOCKER_TLS_CERTDIR: "/certs"\`, \`DOCKER_TLS_VERIFY: 1\`, \`DOCKER_CERT_PATH: "/certs/client"\` (the runner shares /certs/client: \`[runners.docker] volumes = ["/certs/client", "/cache"]\`); or no TLS: \`DOCKER_HOST: tcp://${hostname}:2375\` with \`DOCKER_TLS_CERTDIR: ""\`.`)
  }
  return findings.warnings()
}

/** `docker:<tag with dind>` pulled from Docker Hub, a mirror or the dependency proxy. */
export function isDind(service: ImageUse): boolean {
  return service.ref !== undefined && isRepository(service.ref, 'docker') && service.ref.tag.includes('dind')
}

function hostnames(service: ImageUse): string[] {
  return service.ref ? serviceHostnames(service.name, service.alias) : []
}

/**
 * The port the dind daemon listens on, from its image version and the DOCKER_TLS_CERTDIR it
 * sees; undefined when the YAML does not decide it (a variable, listen options in `command:`).
 */
function listenPort(service: ImageUse, src: JobSource): { port: '2375' | '2376'; why: string } | undefined {
  if ((service.command ?? []).some((c) => /--host\b|-H\b|--tls/.test(c))) return undefined
  if (service.entrypoint?.some((e, i) => i > 0 || !/(?:^|\/)dockerd-entrypoint\.sh$/.test(e))) return undefined
  const version = /^(\d+)(?:\.(\d+))?/.exec(service.ref?.tag ?? '')
  if (version && (Number(version[1]) < 19 || (Number(version[1]) === 19 && Number(version[2] ?? 0) < 3))) {
    return { port: '2375', why: `images before 19.03 do not set up TLS` }
  }
  const own = service.variables.get('DOCKER_TLS_CERTDIR')
  const raw = own ?? src.variable('DOCKER_TLS_CERTDIR')
  const certdir = raw === undefined ? undefined : expandExisting(raw, (n) => src.variable(n))
  if (certdir === undefined) return { port: '2376', why: 'DOCKER_TLS_CERTDIR is not set, and the image defaults it to /certs' }
  if (certdir.includes('$')) return undefined
  if (certdir === '') return { port: '2375', why: 'DOCKER_TLS_CERTDIR is ""' }
  return { port: '2376', why: `DOCKER_TLS_CERTDIR is "${certdir}"` }
}
