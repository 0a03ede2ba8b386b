import { type Hit, Scan, diagnosis, evidence } from '../scan.js'
import { ciFacts } from '../ci-facts.js'
import type { Diagnosis, Fix, Rule } from '../types.js'

/**
 * A client in the job looked for its server on localhost and nothing was there. On the Docker
 * executor the job container has its own network namespace: `services:` run in other containers
 * (reached by their alias), and containers the job starts through a Docker socket (Testcontainers,
 * `docker run -p`, compose) publish their ports on the Docker host — the dind service or the runner
 * host — not in the job container. So "refused on localhost" there means the wrong host far more
 * often than a firewall (which cannot come between a process and its own loopback).
 *
 * Not on the Kubernetes executor (services share the pod's network, localhost is right there) nor
 * the shell executor (localhost is the runner host); not for the Docker daemon's own ports (dind.ts),
 * kubectl's fallback to localhost:8080 (kubernetes.ts) or a proxy (network.ts); not when the script
 * started a server in the job itself (then it was not up yet, or crashed).
 */

const HOST = String.raw`(localhost|127\.0\.0\.1|\[?::1\]?)`
// Each wording captures the host and, where the line has it, the port (read back as the first
// non-numeric and the first numeric group).
const REFUSED = new RegExp([
  String.raw`connect ECONNREFUSED ${HOST}:(\d+)`, // Node
  String.raw`Failed (?:to )?connect to ${HOST}(?: port |:)(\d+)(?: after \d+ ms)?[:;] ?(?:Connection refused|Couldn't connect to server|Could not connect to server)`, // curl
  String.raw`dial tcp ${HOST}:(\d+): connect: connection refused`, // Go
  String.raw`connection to server at "${HOST}"(?: \([\d.:a-f]+\))?, port (\d+) failed: Connection refused`, // libpq 14+
  String.raw`Is the server running on host "${HOST}"(?: \([\d.:a-f]+\))? and accepting`, // libpq before 14 (port on the next line)
  String.raw`Connection to ${HOST}:(\d+) refused`, // PgJDBC
  String.raw`Could not connect to Redis at ${HOST}:(\d+): Connection refused`, // redis-cli
  String.raw`Error 111 connecting to ${HOST}:(\d+)`, // redis-py
  String.raw`Can't connect to (?:MySQL )?server on '${HOST}(?::(\d+))?'`, // mysql client, mysqli; MariaDB's names no product
  // Bounded gaps: an unbounded one is quadratic on a long line of repeats.
  String.raw`host='${HOST}', port=(\d+)\)[^\n]{0,400}?(?:Connection refused|Errno 111|ECONNREFUSED)`, // urllib3/requests
  String.raw`\[${HOST}:(\d+)\] on first connect`, // MongoDB Node driver
  String.raw`${HOST}:(\d+): \[Errno 111\] Connection refused`, // pymongo
  String.raw`actively refused it\.?\s*\(?${HOST}:(\d+)`, // .NET on Windows
  String.raw`Connection refused \(${HOST}:(\d+)\)`, // .NET on Linux: "{message} ({host}:{port})"
  String.raw`Connecting to ${HOST}(?: \([^)|]{0,100}\))?\|[\d.:a-f]{1,40}\|:(\d+)\.\.\. failed: Connection refused`, // GNU wget (the name twice only with IRI)
  String.raw`wget: can't connect to remote host \((127\.0\.0\.1|::1)\): Connection refused`, // BusyBox wget (no port: the URL's)
  // Java's InetSocketAddress prints "host/ip:port": Netty (Lettuce, WebClient, Vert.x, gRPC) and Kafka's client.
  String.raw`Connection refused: ${HOST}(?:\/[\d.:a-f]{1,40})?:(\d+)`,
  String.raw`Connection to node -?\d+ \(${HOST}(?:\/[\d.:a-f]{1,40})?:(\d+)\) could not be established`,
  String.raw`Error connecting to Redis on ${HOST}:(\d+)`, // redis-rb
  String.raw`Failed to open TCP connection to ${HOST}:(\d+) \(Connection refused`, // Ruby Net::HTTP
  String.raw`Connect call failed \('(127\.0\.0\.1|::1|localhost)', (\d+)`, // Python asyncio
  String.raw`tcp connect \(${HOST}:(\d+)\): connection refused`, // Elixir Postgrex/DBConnection
  String.raw`error sending request for url \(https?:\/\/${HOST}(?::(\d+))?[^)\s]{0,200}\): error trying to connect: tcp connect error: Connection refused`, // Rust reqwest/hyper
  String.raw`nc: connect to ${HOST}(?: \([\d.:a-f]{1,40}\))? port (\d+) \(tcp\) failed: Connection refused`, // OpenBSD netcat
].join('|'), 'i')
// The client defaulted to a Unix socket on this machine (MySQL's client does for "localhost").
const SOCKET = /Can't connect to local (?:MySQL )?server through socket '([^']+)'|connections on Unix domain socket "([^"]+)"|connection to server on socket "([^"]+)" failed: No such file or directory/
// PHP's PDO MySQL names neither host nor socket (host=localhost means the socket): only with a MySQL service.
const PDO_LOCAL = /SQLSTATE\[HY000\] \[2002\] (?:No such file or directory|Connection refused)/
// Where the Docker daemon, kubectl or a proxy is the thing refused: other rules' business.
const OTHERS = /Cannot connect to the Docker daemon|docker\.sock|:237[56]\b|did you specify the right host or port|proxyconnect|\(proxy\)|\bvia proxy\b|Proxy CONNECT|tunneling socket|to proxy\b/i
// The script started a server in the job container itself: init scripts and service managers,
// daemons by name, and a command sent to the background with a single "&" (not "&&", "2>&1", "&>").
const OWN_SERVER = /^\$ .*(?:\b(?:service|rc-service) \S+ (?:re)?start\b|\/etc\/init\.d\/\S+ (?:re)?start\b|\bsystemctl (?:re)?start\b|\bmysql\.server start\b|\bsupervisord\b|\bpm2 start\b|\brabbitmq-server\b|\bmemcached\b.*\s-d\b|\bnginx\b|\bredis-server\b|\bmongod\b|\bpg_ctl(?:cluster)?\b.*\bstart\b|\bmysqld(?:_safe)?\b|--daemon(?:ize)?\b|\bnohup\b|(?<![&|>])&(?![&>]))/
// Containers started through a Docker socket, whose ports land on the Docker host.
const SIBLINGS = /testcontainers|\$ docker(?:-compose| compose)\b[^|;&]*\bup\b|\$ docker run\b.*(?:-p|--publish)\b/i
const KNOWN_PORTS: Readonly<Record<string, RegExp>> = {
  5432: /postgres|postgis|timescale/, 3306: /mysql|mariadb|percona/, 6379: /redis|valkey|keydb/, 27017: /mongo/,
  5672: /rabbitmq/, 9200: /elasticsearch|opensearch/, 11211: /memcached/, 1433: /mssql|sqlserver/, 9092: /kafka|redpanda/,
  4444: /selenium/, 2181: /zookeeper/, 8529: /arangodb/, 7687: /neo4j/, 9000: /minio|clickhouse/,
}
const SOCKET_PORT: Readonly<Record<string, string>> = { mysql: '3306', PGSQL: '5432', postgresql: '5432', mariadb: '3306' }
// Clients whose words name the server but not the port (the default one, then).
const CLIENT_PORT: Readonly<Record<string, RegExp>> = { 3306: /MySQL|Can't connect to server on/, 6379: /Redis/, 5432: /Is the server running on host/ }

interface Refusal { hit: Hit, port: string | undefined, socketPath: string | undefined }

function localRefusal(s: Scan, services: readonly string[]): Refusal | undefined {
  const mysql = services.some((x) => /mysql|mariadb|percona/.test(x))
  const hit = [...s.all(REFUSED), ...s.all(SOCKET), ...(mysql ? s.all(PDO_LOCAL) : [])].filter((h) => !OTHERS.test(h.line.text) && !s.inDiff(h.line) && !s.inClone(h.line))
    .sort((a, b) => a.line.n - b.line.n).pop()
  if (!hit) return undefined
  const socketPath = SOCKET.exec(hit.line.text)?.slice(1).find((g) => g !== undefined)
  const socketPort = socketPath !== undefined ? Object.entries(SOCKET_PORT).find(([k]) => socketPath.includes(k))?.[1] : PDO_LOCAL.test(hit.line.text) ? '3306' : undefined
  // libpq before 14 names the port on the line after the host; BusyBox wget names none (the URL has it).
  const next = s.lineAt(hit.line.n + 1)?.text ?? ''
  const urlPort = /https?:\/\/(?:localhost|127\.0\.0\.1|\[::1\]):(\d+)/.exec(s.commandAt(hit.line.n)?.text ?? '')?.[1]
  const port = hit.m.slice(1).find((g) => g !== undefined && /^\d+$/.test(g)) ?? socketPort ?? /connections on port (\d+)/.exec(next)?.[1]
    ?? Object.entries(CLIENT_PORT).find(([, re]) => re.test(hit.line.text))?.[0] ?? urlPort
  return { hit, port, socketPath: socketPath ?? (PDO_LOCAL.test(hit.line.text) ? 'the MySQL socket' : undefined) }
}

/** GitLab's default aliases of a service image: without tag or digest, `/` as `__` (and as `-`). */
export function serviceAlias(image: string): string {
  return image.replace(/@sha256:[0-9a-f]+$/, '').replace(/:[^/:]+$/, '').replace(/\//g, '__')
}

function loopback(s: Scan): Diagnosis[] {
  // The instance executor runs the job on the VM itself, as shell does on its host: localhost is right there.
  if (s.family === 'kubernetes' || s.family === 'shell' || s.executor === 'instance') return []
  const facts = ciFacts(s.ev.ciYaml)
  const services = [...s.services(), ...(facts?.services ?? []).map((x) => x.name)].filter((x) => !/dind/.test(x))
  const found = localRefusal(s, services)
  if (!found) return []
  const { hit, port, socketPath } = found
  const before = s.ev.trace.lines.filter((l) => l.n < hit.line.n)
  // A docker command names images (nginx, redis-server …): what it starts is a sibling, not the job's own server.
  if (before.some((l) => OWN_SERVER.test(l.text) && !/^\$ (?:sudo )?docker(?:-compose)?\b/.test(l.text))) return []
  const aliases = new Map<string, string>((facts?.services ?? []).filter((x) => x.alias).map((x) => [x.name, x.alias ?? '']))
  const siblings = s.ev.trace.lines.some((l) => SIBLINGS.test(l.text))
  const dind = s.hasDind() || s.has(/DOCKER_HOST=tcp:\/\/docker:/)
  const wanted = port ? KNOWN_PORTS[port] : undefined
  const service = services.find((x) => wanted?.test(x)) ?? (services.length === 1 ? services[0] : undefined)
  const at = `${hit.m.slice(1).find((g) => g !== undefined && !/^\d+$/.test(g)) ?? 'localhost'}${port ? `:${port}` : ''}`
  const target = socketPath ? `a Unix socket on localhost (${socketPath})` : at
  const docker = s.family === 'docker'
  const alias = service ? aliases.get(service) ?? serviceAlias(service) : undefined
  const why = service
    ? `The job's client looked for its server at ${target}, but the server is the service ${service}, which runs in a container of its own: from the job it is reached by its alias, ${alias}${port ? `:${port}` : ''}, not localhost.`
    : siblings
      ? `The job's client looked for a container it started at ${target}, but containers started through a Docker socket publish their ports on the Docker host (${dind ? 'the dind service, reached as "docker"' : 'the runner host, reached at the job network\'s gateway'}), not inside the job container.`
      : `The job's client looked for its server at ${target} and nothing was there: ${docker ? 'on the Docker executor' : 'when the job runs in a container'} localhost is the job container itself, while a service runs in a container of its own (reached by its alias) and containers started through a Docker socket publish their ports on the Docker host.`
  const fixes: Fix[] = [
    ...(service || !siblings ? [{
      text: `Point the client at the service's alias${service ? ` (${alias})` : ''} instead of localhost, usually through the variable the project reads its host from.`,
      snippet: service
        ? `services:\n  - name: ${service}\n    alias: ${alias}\nvariables:\n  DB_HOST: ${alias}    # the variable your client reads`
        : 'services:\n  - name: postgres:16\n    alias: db\nvariables:\n  DB_HOST: db    # not localhost',
    }] : []),
    ...(siblings || !service ? [dind
      ? { text: 'Containers started through the dind service publish their ports on it: connect to "docker", not localhost (Testcontainers does when DOCKER_HOST is tcp://docker:2375).', snippet: 'services:\n  - docker:dind\nvariables:\n  DOCKER_HOST: tcp://docker:2375\n  DOCKER_TLS_CERTDIR: ""' }
      : { text: 'With the runner host\'s Docker socket, sibling containers\' ports are on the host: tell the client the host\'s address (Testcontainers: TESTCONTAINERS_HOST_OVERRIDE), or map host.docker.internal to the host gateway.', snippet: '[runners.docker]\n  extra_hosts = ["host.docker.internal:host-gateway"]\n# then in the job: TESTCONTAINERS_HOST_OVERRIDE: host.docker.internal' }] : []),
    { text: 'If the server is slow to start, wait for it before the first connection.', snippet: `for i in $(seq 30); do nc -z ${alias ?? (dind && siblings ? 'docker' : '<host>')} ${port ?? '<port>'} && break; sleep 1; done` },
  ]
  const strong = docker && (service !== undefined || siblings)
  const out = [diagnosis('sibling_container_host_wrong', `Nothing at ${at === target ? at : target}: the server runs in another container`, why,
    evidence(hit, s.commandAt(hit.line.n)), fixes, strong ? 0.75 : docker ? 0.6 : service || siblings ? 0.5 : 0.42)]
  if (service) {
    out.push(diagnosis('service_failed_to_start', `Or: the service ${service} did not come up`,
      `If the job already connects to the service's alias, the service container itself may have failed or still be starting; the runner's "probably didn't start properly" warning and the service's log say which.`,
      evidence(hit), [{ text: 'Show the services\' output in the job log.', snippet: 'variables:\n  CI_DEBUG_SERVICES: "true"' }], 0.3))
  }
  return out
}

export const loopbackServicesRule: Rule = {
  id: 'loopback-services',
  categories: ['sibling_container_host_wrong', 'service_failed_to_start'],
  match: (ev) => loopback(Scan.of(ev)),
}
