import { Scan, diagnosis, evidence, phaseName } from '../scan.js'
import type { Diagnosis, Fix, Rule } from '../types.js'

/**
 * Docker-in-Docker and the Docker engine. Nearly every dind problem ends in the same client
 * line ("Cannot connect to the Docker daemon at tcp://docker:2375"), so the rule looks at
 * what surrounds it: was a dind service started, which address/port did the client use, what
 * did the service log say (privileges, iptables, TLS), what does the CI YAML set.
 */

// Client libraries word it their own way: Testcontainers Java ("Could not find a valid Docker environment"),
// Testcontainers Node ("Could not find a working container runtime strategy"), the Python Docker SDK.
const CONNECT = /Cannot connect to the Docker daemon\b|Could not find a valid Docker environment|Could not find a working container runtime strategy|DockerException: Error while fetching server API version|Couldn't connect to Docker daemon|error during connect:|failed to connect to the docker API at|dial tcp: lookup docker\b|Is the docker daemon running\?|dial unix \S*docker\.sock: (?:connect: )?no such file or directory|\('Connection aborted\.', FileNotFoundError\(2, 'No such file or directory'\)\)|No <dockerHost> given, no DOCKER_HOST environment variable|->unix:\/\/localhost:80: No such file or directory|ws\.rs\.ProcessingException: java\.io\.IOException: No such file or directory|Previous attempts to find a Docker environment failed|Build to Docker daemon failed, perhaps you should make sure Docker is installed/i
// The runner's own words: its daemon failed while preparing the job, before any script ran.
const RUNNER_SIDE = /Preparation failed|system failure|\(manager\.go|Failed to pull image with policy|\(docker\.go|executor_docker\.go/
const DOCKERD_DOWN = /dockerd is not running|Process dockerd is not running|Cannot link to a non running container|Back-off restarting failed container svc-\d+/
const LOCAL = /^(?:0\.0\.0\.0|127\.0\.0\.1|localhost)$/
const START_ERROR = /mount: permission denied \(are you root\?\)|Operation not permitted|failed to start daemon|error initializing graphdriver|driver not supported|Error starting daemon/i
const IPTABLES = /iptables.*(?:failed|RULE_APPEND|can't initialize|Permission denied)|failed to create NAT chain|ip: can't find device|Could not fetch rule set generation id|modprobe: can't change directory/i
const TLS_HINT = /Client sent an HTTP request to an HTTPS server|Are you trying to connect to a TLS-enabled daemon without TLS\?|the server probably has client authentication \(--tlsverify\) enabled|\/certs\/client\/(?:ca|cert|key)\.pem: no such file|tls: oversized record received|first record does not look like a TLS handshake|(?:docker|localhost):237[56]\b.*gave HTTP response to HTTPS client|gave HTTP response to HTTPS client.*(?:docker|localhost):237[56]|could not create a builder instance with TLS data loaded from environment|(?:docker|localhost):2376\b.*(?:x509: certificate|tls: failed to verify certificate|remote error: tls: bad certificate)/
const CGROUP = /OCI runtime create failed:.*cgroup.*(?:operation not permitted|permission denied)/i
const API = /client version ([\d.]+) is too (?:old|new)\. (?:Minimum|Maximum) supported API version is ([\d.]+)|client is newer than server/
const ENGINE = /OCI runtime create failed: .*?(?:write init-p: broken pipe|process_linux\.go)|Failed to create container volume|shim error|docker-runc not installed|failed to create shim task/i

interface Target { host: string; port?: string }

function targetOf(text: string): Target | undefined {
  const unix = /unix:\/\/(\/[\w/.-]+?)\.?(?:\s|$|")/.exec(text) ?? /dial unix (\/[\w/.-]+?):/.exec(text)
  if (unix) return { host: `unix://${unix[1]}` }
  const tcp = /(?:tcp|https?):\/\/([\w.-]+):(\d+)/.exec(text) ?? /dial tcp ([\d.]+|[\w-]+):(\d+)/.exec(text)
  if (tcp) return { host: tcp[1] ?? '', ...(tcp[2] ? { port: tcp[2] } : {}) }
  const lookup = /lookup ([\w.-]+)/.exec(text)
  return lookup ? { host: lookup[1] ?? '' } : undefined
}

function yamlVar(yaml: string | undefined, name: string): string | undefined {
  const m = new RegExp(`^\\s*${name}:\\s*["']?([^"'\\n#]*)["']?`, 'm').exec(yaml ?? '')
  return m ? m[1]?.trim() ?? '' : undefined
}

function serviceFixes(dindTag: string): Fix[] {
  return [
    {
      text: 'Use the dind service with TLS, consistently on both sides.',
      snippet: `services:\n  - ${dindTag}\nvariables:\n  DOCKER_HOST: tcp://docker:2376\n  DOCKER_TLS_CERTDIR: "/certs"\n  DOCKER_TLS_VERIFY: 1\n  DOCKER_CERT_PATH: "$DOCKER_TLS_CERTDIR/client"`,
    },
    { text: 'Docker executor: the runner must be privileged and share the client certs.', snippet: '[runners.docker]\n  privileged = true\n  volumes = ["/certs/client", "/cache"]' },
  ]
}

function dindTagOf(s: Scan): string {
  const img = /^docker:(\d[\w.]*)$/.exec(s.image() ?? '')?.[1]
  return img ? `docker:${img}-dind` : 'docker:24.0-dind'
}

function dindDiagnoses(s: Scan): Diagnosis[] {
  const dind = s.services().filter((x) => /dind/.test(x))
  // docker-autoscaler talks to the instance's daemon through an SSH tunnel (http://internal.tunnel.invalid): the provisioning rule's case.
  const conn = s.all(CONNECT).filter((h) => !/internal\.tunnel\.invalid/.test(h.line.text)).pop()
  const target = conn ? targetOf(conn.line.text) : undefined
  const tag = dindTagOf(s)
  const out: Diagnosis[] = []
  const warning = s.last(/probably didn't start properly/)
  // Service-log words only count when a dind service ran: "Operation not permitted" is common elsewhere.
  // dockerd-entrypoint's own start-up lines also prove a dind daemon ran (pasted service logs).
  const serviceRan = dind.length > 0 || warning !== undefined || s.has(/Could not mount \/sys\/kernel\/security|AppArmor detection and --privileged mode might break|Certificate request self-signature ok|Starting dockerd|level=info msg="Starting up"/)
  const iptables = serviceRan ? s.last(IPTABLES) : undefined
  const startError = iptables || !serviceRan ? undefined : s.all(START_ERROR).filter((h) => !/OCI runtime/.test(h.line.text)).pop()
  // Old clients add "Are you trying to connect to a TLS-enabled daemon without TLS?" to any failure, a missing unix socket too.
  const tlsHint = s.all(TLS_HINT).filter((h) => !/dial unix|unix:\/\/|\.sock\b/.test(h.line.text)).pop()
  const cgroup = s.last(CGROUP)
  const scriptRan = s.ev.trace.lines.some((l) => l.text.startsWith('$ '))

  // The runner's own daemon, before any script: a unix socket on its host, or a tcp:// daemon the
  // runner is configured to use when the runner says so itself ("Preparation failed", a system
  // failure) — the runner never talks to a job's dind service. Not a dind question at all.
  const unix = target?.host.startsWith('unix://') === true
  const runnerSide = conn !== undefined && RUNNER_SIDE.test(conn.line.text) && !/^\$ /.test(conn.line.text)
  // Under the shell executor the job's docker talks to the runner host's own daemon as well.
  const shellHost = unix && s.family === 'shell'
  // The instance executor's job runs on the VM the autoscaler booted: its docker is the VM's daemon.
  if (unix && conn && s.onInstance() && scriptRan) {
    return [diagnosis('docker_engine_broken', 'The VM\'s Docker daemon is not reachable',
      `The job's docker command could not talk to the Docker daemon of the VM it runs on (${target?.host ?? 'its socket'}): the VM image has no Docker, does not start it at boot, or the connector's user may not use its socket.`,
      evidence(conn), [
        { text: 'Instance executor: bake Docker into the VM image the autoscaler boots, enabled at boot, with the connector\'s user in the docker group.', snippet: '# in the VM image\'s build (Packer, cloud-init)\nsystemctl enable docker\nusermod -aG docker <connector user>' },
        { text: 'Check on a VM booted from the same image.', snippet: 'systemctl status docker\ndocker info' },
      ], 0.85)]
  }
  if (conn && target && (shellHost || ((unix || (runnerSide && !scriptRan && !/^\d+\.\d+\.\d+\.\d+$/.test(target.host))) && (runnerSide || (!scriptRan && /^(?:ERROR|WARNING)/.test(conn.line.text)))))) {
    const where = unix ? `on its host (${target.host})` : `at tcp://${target.host}${target.port ? `:${target.port}` : ''}, the daemon it is configured to run jobs on ([runners.docker] host, or DOCKER_HOST of the runner's own process; here not a service of the job)`
    return [diagnosis('docker_engine_broken', "The runner host's Docker daemon is not reachable",
      shellHost && scriptRan
        ? `The job's docker command could not talk to the Docker daemon of the runner host (${target.host}): with the shell executor there is no dind service, the job uses the host's daemon, which is stopped or crashed, listens elsewhere, or the runner user may not use it.`
        : `The runner itself could not talk to Docker ${where} while preparing the job: the daemon is stopped or crashed, ${unix ? 'the socket path differs, or the runner user may not use it' : 'its container or host is down, or the name no longer resolves from the runner'}. No job command ran.`,
      evidence(conn), [
        { text: 'On the runner host, check the daemon and that the runner user can use it.', snippet: 'sudo systemctl status docker\nsudo -u gitlab-runner docker info\nsudo journalctl -u docker --since "1 hour ago"' },
        { text: 'Start it (and enable it at boot), then retry the job.', snippet: 'sudo systemctl enable --now docker' },
        { text: 'Runner in a container: mount the host socket into the runner container.', snippet: 'docker run -d --name gitlab-runner -v /var/run/docker.sock:/var/run/docker.sock -v /srv/gitlab-runner/config:/etc/gitlab-runner gitlab/gitlab-runner:latest' },
        { text: 'Or point the runner at the right daemon.', snippet: '[runners.docker]\n  host = "unix:///var/run/docker.sock"' },
      ], 0.85)]
  }
  // An autoscaled worker's daemon (tcp://<ip>:2376) seen by the runner: the provisioning rule's case.
  if (conn && target && /^\d+\.\d+\.\d+\.\d+$/.test(target.host) && !LOCAL.test(target.host) && RUNNER_SIDE.test(conn.line.text)) return out
  // On Kubernetes a service container is svc-<index>: it is the dind daemon only when that service is dind.
  const dockerdDown = s.all(DOCKERD_DOWN).filter((h) => {
    const index = /svc-(\d+)/.exec(h.line.text)?.[1]
    const named = s.services()[Number(index)]
    return index === undefined || (named ? /dind/.test(named) : conn !== undefined && /(?:docker|localhost|127\.0\.0\.1):237[56]\b/.test(conn.line.text))
  }).pop()
  if (dockerdDown && !startError && !iptables) {
    const link = /Cannot link/.test(dockerdDown.line.text)
    out.push(diagnosis('dind_service_failed_to_start', link ? 'The Docker-in-Docker service exited right after starting' : "The image's own Docker daemon did not start",
      link
        ? 'The runner could not link the service: its container had already stopped, so dockerd inside it exited at start-up (usually: not privileged, or an option/driver the daemon rejects).'
        : `dockerd inside the job did not come up ("${dockerdDown.line.text.trim().slice(0, 120)}"): a Docker daemon needs a privileged container.`,
      evidence(warning, dockerdDown, conn), [
        { text: 'Run it on a runner with privileged containers.', snippet: s.family === 'kubernetes' ? '[runners.kubernetes]\n  privileged = true' : '[runners.docker]\n  privileged = true' },
        { text: 'Get the service\'s own log to see why dockerd stopped.', snippet: 'variables:\n  CI_DEBUG_SERVICES: "true"' },
        { text: 'Or build without a daemon (kaniko, buildah).' },
      ], 0.85))
  }

  // iptables refused for lack of privilege ("you must be root", "Permission denied"): the service is not privileged, whatever its version.
  const unprivilegedNet = iptables !== undefined && /you must be root|Permission denied|Operation not permitted/i.test(iptables.line.text)
  if (unprivilegedNet && iptables) {
    out.push(diagnosis('dind_service_failed_to_start', 'The Docker-in-Docker daemon exited at start-up: it is not privileged',
      `dockerd in the dind service could not set up its network ("${iptables.line.text.trim().slice(0, 160)}"): iptables needs privileges the service container does not have, so the daemon stopped and every docker command cannot connect.`,
      evidence(iptables, warning, conn), [
        { text: 'Run dind on a runner with privileged containers.', snippet: s.family === 'kubernetes' ? '[runners.kubernetes]\n  privileged = true' : '[runners.docker]\n  privileged = true' },
        { text: 'Or build without a daemon (kaniko, buildah).' },
      ], 0.85))
  }
  if (iptables) {
    const floating = dind.find((x) => /^docker:(?:dind|stable-dind|latest|rc-dind|git|\d+-dind)$/.test(x)) ?? dind[0] ?? 'docker:dind'
    out.push(diagnosis('dind_image_regression', `The dind service (${floating}) fails to set up networking on this host`,
      `dockerd in ${floating} failed configuring iptables/NAT: a newer dind image (a floating tag moved) uses an iptables backend or kernel modules this host does not provide; every docker command then fails to connect.`,
      evidence(iptables, warning, conn), [
        { text: 'Pin the last dind version that worked on these hosts, with the matching client image.', snippet: 'image: docker:<known-good version>\nservices:\n  - docker:<known-good version>-dind' },
        { text: 'Then upgrade following the upstream fix; or load the missing kernel modules on the hosts.', snippet: 'sudo modprobe ip_tables iptable_nat nf_tables' },
      ], unprivilegedNet ? 0.5 : 0.85))
  }
  if (startError) {
    const root = /are you root|Operation not permitted/i.test(startError.line.text)
    out.push(diagnosis('dind_service_failed_to_start', 'The Docker-in-Docker daemon exited at start-up',
      `The dind service container started but dockerd stopped: "${startError.line.text}"${root ? ' — it is not running privileged' : ''}. Every docker command in the job then cannot connect.`,
      evidence(warning, startError, conn), [
        { text: 'Run dind on a dedicated runner with privileged containers.', snippet: s.family === 'kubernetes' ? '[runners.kubernetes]\n  privileged = true' : '[runners.docker]\n  privileged = true' },
        { text: 'Remove DOCKER_DRIVER (or set overlay2) and let dind choose a storage driver the kernel supports.' },
        { text: 'Pin a dind version known to work on this host kernel; get the full service log with CI_DEBUG_SERVICES.', snippet: 'variables:\n  CI_DEBUG_SERVICES: "true"' },
        { text: 'Or build without a daemon (kaniko, buildah).' },
      ], 0.85))
  }
  if (cgroup) {
    out.push(diagnosis('dind_unsupported_on_runner', 'This runner host cannot run Docker-in-Docker',
      'Creating the container failed on cgroups with "operation not permitted": the runner runs inside LXC or a restricted cgroup, so dind cannot work there.',
      evidence(cgroup), unsupportedFixes(), 0.8))
  }
  // The runner's health check gave up on the dind service and nothing in its log says it failed:
  // most often the port it probes is not where dockerd listens (TLS turned off with
  // DOCKER_TLS_CERTDIR "" makes dockerd use 2375 while the check waits on 2376, gitlab-runner#4635),
  // else the daemon was slow or failed to start.
  const healthTimeout = s.last(/wait-for-service"? timeout|Health check error:.*timeout/)
  const dindService = dind.length > 0 || /docker-\d+\b|dind/.test(warning?.line.text ?? '')
  if (healthTimeout && warning && dindService && !conn && !tlsHint && !startError && !iptables && !dockerdDown) {
    const certdir = yamlVar(s.ev.ciYaml, 'DOCKER_TLS_CERTDIR')
    // The port question only exists where the check probes one port (gitlab-runner before 16.1;
    // since then any exposed port passes it) and the dind image has TLS at all (19.03 and later).
    const runner = s.first(/^Running with gitlab-(?:ci-multi-)?runner (\d+)\.(\d+)/)?.m
    const oneProbe = runner !== undefined && (Number(runner[1]) < 16 || (Number(runner[1]) === 16 && Number(runner[2]) < 1))
    const dindVersion = /(?:^|\/)docker:(\d+)\.(\d+)/.exec(dind[0] ?? '')
    const tlsImage = dindVersion === null || Number(dindVersion[1]) > 19 || (Number(dindVersion[1]) === 19 && Number(dindVersion[2]) >= 3)
    const tlsFirst = certdir === '' || (oneProbe && tlsImage)
    out.push(diagnosis('dind_tls_mismatch', `${tlsFirst ? 'The' : 'Or: the'} runner's health check waited on a port the dind daemon does not use`,
      `The runner warned that the dind service "probably didn't start properly" because its health check timed out ("${healthTimeout.line.text.trim().slice(0, 140)}"), with no error from dockerd: the check probes the port of the image's TLS mode, and docker:dind ≥ 19.03 listens on 2375 only when DOCKER_TLS_CERTDIR is ""${certdir === '' ? ' (which this job sets)' : ''}. The daemon may well be up: the job's docker commands then still work, or fail on the same port question.`,
      evidence(warning, healthTimeout), [
        { text: 'Keep TLS on, consistently (the default of docker:dind ≥ 19.03).', snippet: `services:\n  - ${tag}\nvariables:\n  DOCKER_HOST: tcp://docker:2376\n  DOCKER_TLS_CERTDIR: "/certs"` },
        { text: 'Or, with TLS off, tell the health check which port dockerd uses.', snippet: 'variables:\n  DOCKER_TLS_CERTDIR: ""\n  DOCKER_HOST: tcp://docker:2375\n  SERVICE_PORT_2376_TCP_PORT: 2375   # or HEALTHCHECK_TCP_PORT: "2375" on the service' },
      ], certdir === '' ? 0.75 : tlsFirst ? 0.6 : 0.45))
    out.push(diagnosis('dind_service_failed_to_start', tlsFirst ? 'Or: the dind service did not come up in time' : 'The dind service did not come up in time',
      'If the job\'s docker commands also fail, dockerd in the service was slow or stopped at start-up (not privileged, storage driver, iptables); its own log says which.',
      evidence(warning, healthTimeout), [
        { text: 'Get the service\'s log in the job log.', snippet: 'variables:\n  CI_DEBUG_SERVICES: "true"' },
        { text: 'Run dind on a privileged runner; give slow services more time.', snippet: '[runners.docker]\n  privileged = true\n  wait_for_services_timeout = 60' },
      ], tlsFirst ? 0.5 : 0.6))
  }
  if (tlsHint || (conn && dind.length && !startError && !iptables)) {
    const wrong = target && wrongHost(s, target)
    const host = yamlVar(s.ev.ciYaml, 'DOCKER_HOST')
    const certdir = yamlVar(s.ev.ciYaml, 'DOCKER_TLS_CERTDIR')
    const listen = s.last(/API listen on \[?[\w:.]*\]?:(237[56])/)?.m[1]
    const portClash = (target?.port && listen && target.port !== listen) ||
      (host !== undefined && /:2375\b/.test(host) && certdir !== '') || (host !== undefined && /:2376\b/.test(host) && certdir === '')
    const privileged = s.runnerTable('docker')?.['privileged']
    if (wrong && target) {
      out.push(diagnosis('dind_docker_host_wrong', `DOCKER_HOST points to ${target.host}, where no dind daemon listens`,
        s.family === 'kubernetes'
          ? `On the Kubernetes executor services share the job pod's network; this runner does not resolve the service alias "${target.host}", use localhost.`
          : `On the Docker executor the dind service is reachable by its alias "docker"; ${target.host} is the job container itself.`,
        evidence(conn), [
          s.family === 'kubernetes'
            ? { text: 'Kubernetes: talk to dind through localhost (or upgrade the runner for service aliases).', snippet: `variables:\n  DOCKER_HOST: tcp://localhost:${target.port ?? '2376'}` }
            : { text: 'Docker executor: use the service alias.', snippet: `variables:\n  DOCKER_HOST: tcp://docker:${target.port ?? '2376'}` },
          { text: 'Do not leak DOCKER_HOST into the dind service itself.', snippet: `services:\n  - name: ${tag}\n    variables:\n      DOCKER_HOST: ""` },
        ], 0.8))
    } else if (tlsHint || portClash) {
      out.push(diagnosis('dind_tls_mismatch', 'The docker client and the dind daemon disagree about TLS',
        `docker:dind ≥ 19.03 listens with TLS on 2376 when DOCKER_TLS_CERTDIR is set, and without TLS on 2375 when it is empty; here ${tlsHint ? `"${tlsHint.line.text}"` : `the client used ${target?.host ?? 'docker'}:${target?.port ?? host ?? '?'}${listen ? ` while the daemon listens on ${listen}` : ''}`}.`,
        evidence(tlsHint, conn), [
          // buildx reads TLS settings only from a docker context, not from DOCKER_TLS_* variables.
          ...(/builder instance with TLS/.test(tlsHint?.line.text ?? '') ? [{ text: 'buildx: create a docker context from the TLS variables and build the builder on it.', snippet: 'docker context create tls-env\ndocker buildx create --use tls-env' }] : []),
          ...serviceFixes(tag),
          { text: 'Or TLS off on both sides.', snippet: 'variables:\n  DOCKER_HOST: tcp://docker:2375\n  DOCKER_TLS_CERTDIR: ""' },
          { text: 'Never set DOCKER_HOST to a port the service does not use.' },
          // buildx's own refusal is dind_buildx_context_missing first (build-deploy.ts); the TLS setup stays an alternative.
        ], /builder instance with TLS/.test(tlsHint?.line.text ?? '') ? 0.6 : 0.85))
    } else if (privileged !== undefined && privileged !== true && s.family === 'docker') {
      out.push(diagnosis('dind_unsupported_on_runner', 'The job landed on a runner that cannot run dind', 'This runner is not privileged, so the dind service cannot start dockerd; jobs needing dind must only go to privileged runners.',
        evidence(conn), unsupportedFixes(), 0.75))
    } else if (conn) {
      out.push(diagnosis('dind_tls_mismatch', 'The dind daemon is not listening where the client connects',
        `A dind service ran but ${target ? `${target.host}${target.port ? `:${target.port}` : ''}` : 'the daemon'} did not answer: most often a TLS/port mismatch (2376 with TLS vs 2375 without).`,
        evidence(conn), [...serviceFixes(tag), { text: 'Or TLS off on both sides.', snippet: 'variables:\n  DOCKER_HOST: tcp://docker:2375\n  DOCKER_TLS_CERTDIR: ""' }], warning ? 0.45 : 0.55))
      if (warning) out.push(diagnosis('dind_service_failed_to_start', 'The dind service may not have started', 'The runner warned that the service did not start properly; its log (CI_DEBUG_SERVICES) says why.', evidence(warning), [{ text: 'Get the service log.', snippet: 'variables:\n  CI_DEBUG_SERVICES: "true"' }], 0.5))
    }
  }
  if (conn && !dind.length && !tlsHint && !cgroup && !dockerdDown && target && LOCAL.test(target.host) && s.family !== 'kubernetes') {
    out.push(diagnosis('dind_docker_host_wrong', `DOCKER_HOST points to ${target.host}, where no daemon listens`,
      `The client connected to ${target.host}:${target.port ?? ''}, which inside the job container is the container itself; on the Docker executor the dind service is reachable by its alias "docker".`,
      evidence(s.last(/DOCKER_HOST[=:'" ]+\S+/), conn), [
        { text: 'Use the service alias.', snippet: `services:\n  - ${tag}\nvariables:\n  DOCKER_HOST: tcp://docker:${target.port ?? '2376'}` },
        { text: 'Do not leak DOCKER_HOST into the dind service itself.', snippet: `services:\n  - name: ${tag}\n    variables:\n      DOCKER_HOST: ""` },
      ], 0.85))
  }
  if (conn && !dind.length && !tlsHint && !cgroup && !dockerdDown) {
    const sock = target?.host.startsWith('unix://')
    const local = target !== undefined && LOCAL.test(target.host) && s.family !== 'kubernetes'
    if (!sock) {
      // Same client line, two more causes worth checking second and third: the TLS mode, and a dind release that broke on this host.
      out.push(diagnosis('dind_tls_mismatch', 'Or: the client and the dind daemon disagree about TLS',
        `If a dind service does run, ${target?.port === '2375' ? 'port 2375 means TLS off on the client, while docker:dind ≥ 19.03 enables TLS on 2376 unless DOCKER_TLS_CERTDIR is ""' : 'port 2376 needs DOCKER_TLS_CERTDIR and the client certificates shared with the job'}.`,
        evidence(conn), [{ text: 'TLS off on both sides.', snippet: 'variables:\n  DOCKER_HOST: tcp://docker:2375\n  DOCKER_TLS_CERTDIR: ""' }, ...serviceFixes(tag)], 0.5))
      out.push(diagnosis('dind_image_regression', 'Or: a new docker:dind release fails on this host',
        'If the job worked before with the same configuration, a floating dind tag (docker:dind, docker:latest) may have moved to a release whose daemon does not start on these hosts; the alias "docker" then never answers.',
        evidence(conn), [{ text: 'Pin the client image and the dind service to the last version that worked.', snippet: 'image: docker:<known-good version>\nservices:\n  - docker:<known-good version>-dind' }], 0.4))
    }
    out.push(diagnosis('dind_service_missing', 'The job runs docker commands but has no Docker daemon',
      `The docker client tried ${target?.host ?? 'a daemon'}${target?.port ? `:${target.port}` : ''} but the job started no docker:dind service${sock ? ' and the host socket is not mounted' : ''}.`,
      evidence(s.commandAt(conn.line.n), conn), [
        ...serviceFixes(tag),
        { text: 'Or mount the host Docker socket (the job then controls the host daemon) and unset DOCKER_HOST.', snippet: '[runners.docker]\n  volumes = ["/var/run/docker.sock:/var/run/docker.sock", "/cache"]' },
        { text: 'Where neither is allowed, build with kaniko or buildah.' },
      ], local ? 0.5 : 0.85))
  }
  return out
}

function wrongHost(s: Scan, t: Target): boolean {
  if (t.host.startsWith('unix://')) return false
  const aliases = [...(s.ev.ciYaml ?? '').matchAll(/alias:\s*["']?([\w.-]+)/g)].map((m) => m[1])
  if (aliases.includes(t.host)) return false
  if (s.family === 'kubernetes') return t.host === 'docker' && s.has(/lookup docker\b.*no such host/)
  return t.host !== 'docker'
}

function unsupportedFixes(): Fix[] {
  return [
    { text: 'Send dind jobs only to privileged runners with a dedicated tag (and stop generic tags on the others).', snippet: 'build:\n  tags: [dind]' },
    { text: 'Or enable privileged on that runner if acceptable.', snippet: '[runners.docker]\n  privileged = true' },
    { text: 'Or build images without a daemon (kaniko, buildah).' },
  ]
}

function engine(s: Scan): Diagnosis[] {
  const out: Diagnosis[] = []
  const api = s.last(API)
  if (api) {
    out.push(diagnosis('docker_api_version_mismatch', 'Docker client and daemon API versions are incompatible',
      api.m[1] ? `The client speaks API ${api.m[1]} but the daemon accepts ${api.m[2]} at the ${/too old/.test(api.line.text) ? 'minimum' : 'maximum'}.` : 'The docker client is newer than the daemon it talks to.',
      evidence(api), [
        { text: 'Upgrade gitlab-runner (it negotiates newer APIs), or use the same version for the docker CLI image and the dind service.', snippet: 'image: docker:24.0\nservices:\n  - docker:24.0-dind' },
        { text: 'Temporarily lower the daemon\'s minimum API version.', snippet: '{ "min-api-version": "1.24" }   # /etc/docker/daemon.json' },
        { text: 'Or pin the Docker engine to a version the runner supports.' },
      ], 0.9))
  }
  // The runner could not remove the job's volumes at its end, and that failed the job.
  const volumes = s.last(/^ERROR: Failed to cleanup volumes\b/)
  // Not when the script ran (its exit code, not the clean-up, failed the job; a step can fail silently)
  // or printed a failure: the clean-up error is then only noise after it.
  const scriptFailed = volumes !== undefined && s.ev.trace.lines.some((l) => l.n < volumes.line.n && phaseName(l.section) === 'step_script' && (l.text.startsWith('$ ') || /\b(?:error|fatal|failed|failure|FAIL)\b/i.test(l.text)))
  if (volumes && !scriptFailed && !s.failsAfter(volumes.line.n)) {
    out.push(diagnosis('docker_engine_broken', 'The runner could not remove the job\'s volumes',
      `"${volumes.line.text.trim()}": at the end of the job the Docker daemon on the runner host refused to remove the job's volumes (a container still using them, a storage driver or disk problem, a daemon that stopped answering), and the runner failed the job for it.`,
      evidence(volumes), [
        { text: 'Check the daemon and its storage on the runner host.', snippet: 'docker volume ls -f dangling=true\njournalctl -u docker --since "1 hour ago" | grep -i volume\ndf -h /var/lib/docker' },
        { text: 'Remove what is left over, and restart the daemon if it stopped answering; retry the job.', snippet: 'docker volume prune -f' },
      ], 0.65))
  }
  const broken = s.all(ENGINE).filter((h) => !CGROUP.test(h.line.text) && !/exec: "?(?:\/bin\/)?(?:ba)?sh"?:|exec: "[^"]+": permission denied/.test(h.line.text)).pop()
  if (broken) {
    out.push(diagnosis('docker_engine_broken', 'Docker on the runner host cannot start containers',
      `The container runtime failed before the job's own code ran ("${(ENGINE.exec(broken.line.text)?.[0] ?? broken.line.text).slice(0, 140)}"): runc/containerd and the host kernel do not match, or the installation/storage is broken.`,
      evidence(broken), [
        { text: 'Check on the host as root and as the runner user.', snippet: 'docker run --rm hello-world\njournalctl -u docker -u containerd --since "1 hour ago"' },
        { text: 'Install a Docker/runc version supported by the kernel (or upgrade the OS); reinstall containerd/runc.' },
        { text: 'Move jobs to healthy hosts meanwhile (pause this runner).' },
      ], 0.8))
  }
  // The runner host's storage: overlay on XFS without d_type (ftype=0) breaks directory removal in containers;
  // kaniko meets it when it deletes a stage's file system, dockerd warns about it at start.
  const storage = s.last(/deleting file system after stage \d+: unlinkat (\S+): directory not empty|backing (\w+) filesystem is formatted without d_type support/)
  if (storage) {
    const dockerd = storage.m[2] !== undefined
    // kaniko's unlinkat is also its own bug (open kaniko issues report it without d_type): weaker, and on
    // Kubernetes the node's container runtime, not a Docker daemon, holds the storage.
    const k8s = s.family === 'kubernetes'
    out.push(diagnosis('docker_engine_broken', dockerd ? 'Docker refuses its storage: a file system without d_type' : 'kaniko could not delete a stage\'s file system',
      dockerd
        ? `"${storage.line.text.trim().slice(0, 160)}": the Docker daemon (here${/dind|Service container/.test(s.ev.trace.lines.map((l) => l.text).join('\n')) ? ' the dind service\'s, on a volume of the runner host' : ' the runner host\'s'}) refuses overlay2 on XFS formatted without d_type (ftype=0), so it does not start.`
        : `"${storage.line.text.trim().slice(0, 160)}": removing a directory left it non-empty. On overlay storage without d_type (XFS formatted with ftype=0) directory removal breaks this way, and hosts of a fleet can differ (a migrated or re-created disk); kaniko also has open issues with this exact line on healthy storage.`,
      evidence(storage), [
        k8s
          ? { text: 'Check the file system under the node\'s container runtime storage (containerd: /var/lib/containerd).', snippet: 'xfs_info /var/lib/containerd | grep ftype' }
          : { text: 'On the runner host, check the file system under the Docker storage.', snippet: 'docker info | grep -i -A3 "storage driver"   # "Supports d_type: false" is the fault\nxfs_info /var/lib/docker | grep ftype' },
        { text: 'Put the container storage on a file system with d_type (XFS with ftype=1, or ext4); meanwhile pause that runner.' },
        ...(dockerd ? [] : [{ text: 'If the storage has d_type: try another kaniko version, or a flag that changes how it cleans up between stages (see kaniko\'s issues for this line).' }]),
      ], dockerd ? 0.8 : k8s ? 0.45 : 0.55))
  }
  return out
}

// kind (Kubernetes in Docker) needs a node container with cgroups and /lib/modules from a privileged host: a
// build pod of the Kubernetes executor, or an unprivileged dind, cannot give it those, and kubeadm init fails.
const KIND = /failed to create cluster: failed to init node with kubeadm|failed to create cluster: could not find a log line that matches/

function kind(s: Scan): Diagnosis[] {
  const hit = s.lastWhere(KIND, (h) => !s.wentPast(h.line))
  if (!hit) return []
  const k8s = s.family === 'kubernetes'
  return [diagnosis('dind_unsupported_on_runner', 'kind cannot start a cluster on this runner',
    `"${hit.line.text.trim().slice(0, 160)}": kind runs each Kubernetes node as a container that needs the host's cgroups, /lib/modules and a privileged runtime; ${k8s ? 'nested in a build pod of the Kubernetes executor (Docker-in-Docker inside a pod) it does not get them' : 'the Docker this job uses does not give them (an unprivileged or restricted dind)'}, so kubeadm cannot bring up the control plane.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Run kind jobs on a runner that can host it: a VM-based or Docker-executor runner with privileged dind, selected by a tag.', snippet: 'e2e:\n  tags: [privileged-vm]\n  services: [docker:24-dind]' },
      ...(k8s ? [{ text: 'On the Kubernetes executor, test against a real cluster (a namespace per job) or a lighter in-pod distribution instead of kind.' }] : unsupportedFixes()),
    ], k8s ? 0.65 : 0.5)]
}

export const dindRule: Rule = {
  id: 'dind',
  categories: ['dind_service_missing', 'dind_tls_mismatch', 'dind_service_failed_to_start', 'dind_unsupported_on_runner', 'dind_docker_host_wrong', 'dind_image_regression', 'docker_api_version_mismatch', 'docker_engine_broken'],
  match(ev) {
    const s = Scan.of(ev)
    return [...dindDiagnoses(s), ...engine(s), ...kind(s)]
  },
}
