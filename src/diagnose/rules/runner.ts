import { type Hit, LOOPBACK_NAMED, Scan, diagnosis, evidence, hostOf, firstGroup } from '../scan.js'
import { retryFix } from '../snippets.js'
import type { Diagnosis, Fix, Rule } from '../types.js'

/**
 * The runner's own system failures: docker+machine autoscaling that cannot create or reach a
 * worker, known runner regressions (the runner version and image tags are the evidence), the
 * log-size notice, GitLab or third-party servers answering 5xx, and failures that a retry fixes.
 * Real reports are often only the runner's ERROR lines, so every pattern here works without a
 * phase; the phase, when known, only sharpens the wording.
 */

const PREP_FAILED = /^(?:ERROR|WARNING): (?:Preparation failed|Failed to prepare environment): (.*)$/
const MACHINE = /no free machines that can process builds|docker-machine|docker\+machine|Docker Machine|autoscaler|fleeting|taskscaler|(?:exit status [12]|can't connect)$|machine .* (?:not|failed)|Error creating machine|Waiting for SSH to be available|instance (?:quota|limit)|InsufficientInstanceCapacity|ssh: handshake failed/i
// The docker-autoscaler / instance executors (fleeting + taskscaler) say it in their own words, often only as the system failure.
const AUTOSCALER = /unable to acquire instance(?: within the configured timeout of \S+)?:|getting instance connect info:|creating vm tunnel:|dialing nesting (?:daemon|vm):|creating nesting vm:|dialing environment connection:|internal\.tunnel\.invalid\S*: ssh tunnel: EOF|instance unexpectedly removed|^ERROR: Error creating machine: |^ERROR: Machine creation failed\s+error=/

// The build pod taken away under the job (scale-down, preemption, eviction API, node drain): the next attempt lands elsewhere.
const DISRUPTED = /pod "([^"]+)" is disrupted: reason "([^"]+)"/
const MACHINE_EXECUTOR = /^Preparing the "(?:docker\+machine|docker-autoscaler|instance)" executor|^Using Docker Machine executor|^Using docker-machine/
// The runner reaching a worker's Docker daemon by IP: its own "Cannot connect" or Go's failed request to the Engine API.
const DAEMON_AT_IP = /Cannot connect to the Docker daemon at tcp:\/\/(\d+\.\d+\.\d+\.\d+):2376|(?:Get|Post|Delete) "https?:\/\/(\d+\.\d+\.\d+\.\d+):2376\/v\d+\.\d+\/[^"]*": dial tcp \S+: (?:i\/o timeout|connect: connection refused|connect: no route to host)/
// Runner-internal failures that upstream tracked as runner bugs (container lost at the end of the
// job, the permission container of the cache volume, helper image / attach races).
const RUNNER_BUG = /No such container: \S+ \(executor_docker\.go|No such container: [0-9a-f]{12,}.*\(executor_docker\.go|adding cache volume: set volume permissions: running permission container|unable to upgrade connection: container not found \("helper"\)|waiting for permission container to finish: exit code|gitlab_runner_env: No such file or directory|detecting base image: unsupported Windows version/
// GitLab's text for the runner_unsupported reason: the job needs a feature this runner version lacks.
const OUTDATED = /Your runner is outdated, please upgrade your runner/
// GitLab's text for the api_failure reason: the runner's calls to the jobs API failed.
const API_FAILURE = /There has been an API failure, please try again/
// moby daemon/errors.go: a container name of this job is taken (a leftover of a crashed job, or two runner processes on one config).
const NAME_TAKEN = /Conflict\. The container name "\/?([^"]+)" is already in use by container|removal of container \S+ is already in progress/
const NO_SUCH_IMAGE = /(?:Preparation failed|Job failed \(system failure\)): Error: No such image: (\S+)/
// The runner's notice, or GitLab's text for the trace_size_exceeded reason (which names no size).
const LOG_LIMIT = /Job's log exceeded limit of (\d+) bytes|The job log size limit was reached/
const SERVER_ERROR = /(?:returned error|HTTP|status(?: code)?|responseStatus=|received:?)[ \t]{0,3}:?[ \t]{0,3}(5\d\d)\b|\b(502 Bad Gateway|503 Service Unavailable|504 Gateway Time-?out|500 Internal Server Error)|"message":"(Bad Gateway|Service Unavailable|Gateway Time-?out|Internal Server Error)"|\b(UNAVAILABLE|INTERNAL_ERROR)\b.*https?:\/\/|https?:\/\/\S+: (UNAVAILABLE|INTERNAL_ERROR|SERVICE_UNAVAILABLE)\b|RPC failed; HTTP (5\d\d)|too many (5\d\d) error responses|HTTP Error (5\d\d|418):|^Bad response: (5\d\d)\b|\(HTTP\/[\d.]+ (5\d\d) ?\)|failed to get (?:successful HTTP|200) response from `[^`]+`(?: \([^)]*\))?, got (5\d\d)$|failed to request discovery document: (5\d\d)\b/
const UPLOAD_RETRY = /Uploading artifacts (?:as "[^"]+" )?to coordinator\.\.\. (?:failed|error)|Retrying\.\.\..*(?:coordinator|artifacts)/
// Cut connections (not refused or unresolved ones, which other rules explain): the daemon or git stream broke off.
const TRANSIENT = /error during connect: .*(?:EOF|connection reset by peer)|^unexpected EOF$|The remote end hung up unexpectedly|early EOF|RPC failed; curl (?:16|18|52|55|56|92)|Empty reply from server|unexpected disconnect while reading sideband packet|HTTP\/2 stream \d+ was not closed cleanly|fatal: protocol error: bad pack header|error: (?:\d+ bytes of body are still expected|inflate: data stream error)|received unexpected HTTP status: 5\d\d|fetch-pack: invalid index-pack output|^(?:fatal|error): (?:index-pack|unpack-objects) failed$|Recv failure: Connection reset by peer|stream error: stream ID \d+; (?:PROTOCOL_ERROR|INTERNAL_ERROR|CANCEL|REFUSED_STREAM)|http2: server sent GOAWAY and closed the connection|failed to receive status: rpc error: code = Unavailable|ReadTimeoutError: .*Read timed out|Remote end closed connection without response|Hash Sum mismatch|http2: client connection lost/i
// A connection the peer (or a middlebox on the way) reset in the middle of a transfer: Go's "read tcp a->b: read: connection reset by peer", curl's and others'.
const RESET = /(?:SocketException|from\/to [^\s()]+ \([^()\s]*\)): Connection reset(?: -> \[Help \d+\])?$|(?:read|write) tcp \S+->\S+: (?:read|write): connection reset by peer|\bconnection reset by peer\b|Connection reset by peer|reason: read ECONNRESET|npm ERR! code ECONNRESET/i

function versionLine(s: Scan): Hit | undefined {
  return s.runnerBanner()
}

function machine(s: Scan): Diagnosis[] {
  const executorSays = s.first(MACHINE_EXECUTOR)
  const machineExecutor = /docker\+machine|autoscaler|instance/.test(s.executor ?? '') || executorSays !== undefined
  const prep = s.all(PREP_FAILED)
  const execFormat = s.last(/fork\/exec (\S*docker-machine\S*): exec format error/)
  // A worker's daemon by IP, reported by the runner itself (not a script): an autoscaled machine, even when the executor is not named.
  const ipDaemon = s.all(DAEMON_AT_IP).filter((h) => machineExecutor || (s.executor === undefined && /system failure|\(manager\.go|Failed to pull image with policy|\(docker_command\.go/.test(h.line.text))).pop()
  const telling = prep.filter((h) => MACHINE.test(h.m[1] ?? ''))
  // A bare "exit status N" as the system failure is an external program's exit: docker-machine's (or a custom executor's).
  const fleet = s.last(AUTOSCALER)
  if (fleet && !telling.some((h) => h.line.n === fleet.line.n)) telling.push(fleet)
  const bare = s.last(/Job failed \(system failure\): exit status \d+$/)
  if (bare && !telling.length && !prep.length && s.family !== 'shell') telling.push(bare)
  if (!execFormat && !ipDaemon && !(machineExecutor && prep.length) && !telling.length) return []
  const last = execFormat ?? ipDaemon ?? telling[telling.length - 1] ?? prep[prep.length - 1]
  const retried = prep.length > 1
  const confidence = execFormat || (machineExecutor && (prep.length || ipDaemon || bare || fleet)) ? 0.85 : fleet ? 0.75 : ipDaemon ? 0.7 : bare && !prep.length ? 0.5 : 0.6
  const fixes: Fix[] = [
    { text: 'Read the manager\'s log around the job: docker-machine prints why it could not create or reach the VM (cloud quota, AMI/image, subnet, security group, SSH).', snippet: 'sudo journalctl -u gitlab-runner --since "1 hour ago" | grep -iE "machine|error"\nsudo docker-machine ls' },
    { text: 'Remove broken machines so the autoscaler creates fresh ones.', snippet: 'sudo docker-machine ls --filter state=Error -q | xargs -r sudo docker-machine rm -f' },
    { text: 'Give the manager room and pace the scale-up (a small manager instance runs out of memory when it creates many VMs at once).', snippet: '[runners.machine]\n  MaxGrowthRate = 2\n  IdleCount = 1' },
    retryFix(),
  ]
  if (fleet) fixes.unshift({ text: 'docker-autoscaler / instance executor: read the fleeting plugin\'s errors in the runner log (cloud quota or capacity, instance group size, credentials, SSH to the instance), and check that max_instances and the instance group allow more machines.', snippet: 'sudo journalctl -u gitlab-runner --since "1 hour ago" | grep -iE "fleeting|taskscaler|instance"\n[runners.autoscaler]\n  max_instances = 10' })
  if (execFormat) fixes.unshift({ text: `${execFormat.m[1]} is not a program for this host (a failed download leaves an HTML page; or the wrong architecture). Reinstall it.`, snippet: `file ${execFormat.m[1]}\nsudo curl -fL -o ${execFormat.m[1]} https://gitlab-docker-machine-downloads.s3.amazonaws.com/<version>/docker-machine-Linux-x86_64 && sudo chmod +x ${execFormat.m[1]}` })
  return [diagnosis('machine_provisioning_failed', 'The autoscaler could not provide a machine for the job',
    execFormat
      ? `The runner manager cannot run ${execFormat.m[1]}: "${execFormat.line.text}".`
      : fleet && last === fleet && /ssh tunnel: EOF|unexpectedly removed/.test(fleet.line.text)
        ? `The instance running the job went away under it ("${fleet.line.text.replace(/^ERROR: /, '').slice(0, 160)}"): something outside the runner removed it (an autoscaling group rebalancing or scaling in, a clean-up script), so the tunnel to its Docker daemon closed.`
      : fleet && last === fleet
        ? `The autoscaler could not provide an instance for the job: "${fleet.line.text.replace(/^ERROR: /, '').slice(0, 200)}" (the fleeting plugin could not create or reach a VM).`
      : ipDaemon
        ? `The Docker daemon of the autoscaled worker ${firstGroup(ipDaemon)} stopped answering (the VM was removed, is still booting, or lost its network): a runner system failure, not the job's script.`
        : `The ${machineExecutor ? 'docker+machine ' : ''}executor failed while preparing the job${retried ? ` (${prep.length} attempts)` : ''}: "${last?.line.text ?? ''}". docker-machine could not create, provision or connect to a worker VM.`,
    evidence(executorSays, versionLine(s), ...prep.slice(-2), execFormat, ipDaemon, fleet), fixes, confidence)]
}

function versionBug(s: Scan): Diagnosis[] {
  const out: Diagnosis[] = []
  const version = versionLine(s)
  const hit = s.last(RUNNER_BUG) ?? s.last(OUTDATED)
  const noImage = s.last(NO_SUCH_IMAGE)
  // An official library image (docker:stable, alpine:3) certainly exists: "No such image" for it is the runner failing to pull.
  const official = noImage && !(noImage.m[1] ?? '').includes('/')
  if (noImage) {
    const image = noImage.m[1] ?? '<image>'
    out.push(diagnosis('image_not_found', `The runner found no image ${image}`,
      `The runner's Docker has no ${image} and could not pull it: the name or tag does not exist (or was removed), or the pull failed before this message (credentials, registry down).`,
      evidence(noImage), [
        { text: `Check the name and tag exist: docker manifest inspect ${image}; pin an existing tag.`, snippet: `image: ${image.replace(/:[^:/]*$/, '')}:<existing tag>` },
        { text: 'If images are removed on the host between pull and use (cleanup jobs), make the runner pull each time.', snippet: '[runners.docker]\n  pull_policy = ["always", "if-not-present"]' },
      ], official ? 0.5 : 0.75))
  }
  if (!hit && !noImage) return out
  const v = version ? `${version.m[1]}.${version.m[2]}.${version.m[3]}` : undefined
  const cause = hit && OUTDATED.test(hit.line.text)
    ? `GitLab refused to run the job on this runner${v ? ` (${v})` : ''}: the job uses a feature the runner version does not support, so the runner must be upgraded.`
    : hit
    ? `"${hit.line.text.replace(/^ERROR: /, '').slice(0, 200)}" comes from the runner itself, not from the job: a known class of gitlab-runner bugs${v ? ` (this is runner ${v})` : ''}.`
    : `The runner${v ? ` ${v}` : ''} reports that ${noImage?.m[1]} does not exist${official ? ', but it is an official image' : ''}: if the image does exist, the runner failed to pull it (old runners mishandle some pulls and image tags).`
  out.push(diagnosis('runner_version_bug', `A gitlab-runner ${v ? `${v} ` : ''}bug or regression`, cause,
    evidence(version, hit ?? noImage), [
      { text: 'Search the gitlab-runner issue tracker for the exact error line; upgrade the runner (and its helper image) to a release with the fix, or go back to the last version that worked.', snippet: 'gitlab-runner --version\nsudo apt-get install gitlab-runner=<fixed version>   # or the Helm chart / image tag' },
      { text: 'If it started with a new helper image, pin the helper image that worked.', snippet: '[runners.docker]\n  helper_image = "registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v<version>"' },
      retryFix(),
    ], hit || official ? 0.8 : 0.45))
  return out
}

function logLimit(s: Scan): Diagnosis[] {
  const hit = s.last(LOG_LIMIT)
  if (!hit) return []
  const mib = hit.m[1] ? Math.round(Number(hit.m[1]) / 1048576) : undefined
  // GitLab's reason (no size named) is usually its own limit, the ci_jobs_trace_size_limit plan limit (100 MB by default).
  const server: Fix = { text: 'GitLab\'s own job log limit (plan limit ci_jobs_trace_size_limit, in MB, 100 by default): an administrator raises it.', snippet: 'sudo gitlab-rails runner "Plan.default.actual_limits.update!(ci_jobs_trace_size_limit: 200)"' }
  return [diagnosis('job_log_limit_exceeded', `The job log hit the ${mib === undefined ? 'log size limit' : `runner's output limit (${mib} MiB)`}`,
    `${hit.m[1] ? `The runner stopped collecting output after ${hit.m[1]} bytes` : 'The job log reached its size limit (GitLab\'s limit, or the runner\'s output_limit)'}; the job ran on but its end (and the real error, if any) is not in the log.`,
    evidence(hit, s.near(hit.line.n, /no more output will be collected/, 2)), [
      ...(mib === undefined ? [server] : []),
      { text: 'Raise the limit on the runner (kilobytes).', snippet: '[[runners]]\n  output_limit = 65536' },
      { text: 'Or make the job quieter: drop verbose/debug flags, redirect noisy output to a file kept as an artifact.', snippet: 'script:\n  - ./build.sh > build.log 2>&1 || (tail -n 200 build.log; exit 1)\nartifacts:\n  when: always\n  paths: [build.log]' },
    ], 0.7)]
}

function serverError(s: Scan): Diagnosis[] {
  // A test asserting on a 500 from the project's own app is the script's verdict, not a server incident.
  // (cargo's "spurious network error" warning is a retry it may get past: only its final error counts.)
  const hits = s.all(SERVER_ERROR).filter((h) => !/artifacts? .*413|responseStatus=4|\bexpected\b|unexpected status code|_test\.\w+:\d+:|assert|to (?:be|equal)\b|should|^warning: spurious network error/i.test(h.line.text))
  const hit = hits.pop()
  if (!hit) return []
  const code = firstGroup(hit) ?? '5xx'
  const gitlab = s.gitlabHost()
  const url = /https?:\/\/[^\s'"]+/.exec(hit.line.text)?.[0] ?? /https?:\/\/[^\s'"]+/.exec(s.near(hit.line.n, /https?:\/\//, 2)?.line.text ?? '')?.[0]
  // A pull: the daemon names no URL, the image names its registry (Docker Hub when it names none).
  const pull = /Failed to pull image|failed to pull image|Error response from daemon|pulling image/.test(hit.line.text)
  const image = pull ? /(?:pull|pulling) image "?([\w.:/@-]+)/i.exec(s.near(hit.line.n, /(?:pull|pulling) image "?[\w.-]+[/:]/i, 3)?.line.text ?? '')?.[1] : undefined
  const registry = image ? (/^([\w-]+\.[\w.-]+(?::\d+)?|localhost(?::\d+)?)\//.exec(image)?.[1] ?? 'docker.io') : undefined
  // urllib3/requests name the host as host='…' rather than in a URL.
  const host = hostOf(url) ?? registry ?? /host='([\w.-]+)'|could not connect to ([\w-]+(?:\.[\w-]+)+):/.exec(hit.line.text)?.slice(1).find(Boolean)
  const upload = s.near(hit.line.n, /Uploading artifacts|coordinator/, 4) ?? (UPLOAD_RETRY.test(hit.line.text) ? hit : undefined)
  const git = /RPC failed|remote end hung up|fatal:/.test(hit.line.text) || s.near(hit.line.n, /^fatal: /, 2) !== undefined
  const known = /gitlab|ghcr\.io|docker\.io|quay\.io|github/.exec(host ?? '')?.[0]
  // Python's urllib (HTTPError: "HTTP Error 503:") is a request of the job's own code, never the runner's.
  // Nor is a client's own "Bad response: 5xx" (node-coveralls and other uploaders to third-party services).
  // (node-coveralls prints the service's HTML error page after its line: the page's "502 Bad Gateway" is the same answer.)
  const urllib = /HTTP Error \d{3}:/.test(hit.line.text) || s.ev.trace.lines.some((l) => l.n <= hit.line.n && hit.line.n - l.n <= 4 && /^Bad response: 5\d\d\b/.test(l.text))
  // ... unless it asked a server the job started itself on loopback: that is the job's own app failing.
  const around = (): string => [s.commandAt(hit.line.n)?.text ?? '', ...s.ev.trace.lines.filter((l) => Math.abs(l.n - hit.line.n) <= 6).map((l) => l.text)].join('\n')
  if (urllib && LOOPBACK_NAMED.test(host ?? around())) return []
  const third = (host !== undefined ? host !== gitlab && !/gitlab/.test(host) : urllib) && !upload && !git
  if (third) {
    // 418 is how some sites (CDNs, bot filters) refuse automated clients: still the server's answer.
    const refused = code === '418' ? ' (418: the site refuses automated clients like the job\'s)' : ''
    return [diagnosis('upstream_service_unavailable', `${host ?? 'A server the job downloads from'} answered ${code}`,
      `A service the job downloads from (${host ?? 'not named on the lines around the error'}) failed or refused on its side${refused}; nothing in the runner or the network configuration is wrong${known ? '' : ' as far as the log shows'}.`,
      evidence(s.commandAt(hit.line.n), hit), [
        { text: `Check ${host ? `${host}'s` : 'the server\'s'} status page and retry later.` },
        retryFix(),
        { text: 'Make the job independent of it: cache or mirror the download (a registry mirror, a cached DB in the cache: or an artifact).' },
      ], 0.7)]
  }
  return [diagnosis('gitlab_server_error', `GitLab answered ${code}${upload ? ' to the artifacts upload' : git ? ' to git' : ''}`,
    `The GitLab server${host ? ` (${host})` : ''} failed with ${code} while ${upload ? 'receiving the artifacts' : git ? 'serving the repository' : 'answering the job'}: a server-side error (GitLab, Workhorse or the proxy in front of it), not the job's script.`,
    evidence(upload && upload !== hit ? upload : undefined, hit), [
      { text: 'Retry the job; if it persists, read the server side at that time: production.log / workhorse / nginx logs (self-managed) or status.gitlab.com.', snippet: 'sudo gitlab-ctl tail gitlab-workhorse nginx puma' },
      retryFix(),
      { text: upload ? 'Big uploads: check the proxy body limit and timeouts in front of GitLab, and the object storage behind it.' : 'Behind a reverse proxy: check its upstream timeouts and limits.' },
    ], 0.75)]
}

function apiFailure(s: Scan): Diagnosis[] {
  const hit = s.last(API_FAILURE)
  if (!hit) return []
  return [diagnosis('gitlab_server_error', 'The runner\'s calls to GitLab\'s job API failed',
    'GitLab marked the job failed with its API-failure reason: the runner could not update the job or send its log (GitLab or the proxy in front of it answered with errors, or timed out).',
    evidence(hit), [
      retryFix(),
      { text: 'If it repeats: read the runner\'s log around the job (PATCH /api/v4/jobs/…/trace, PUT /api/v4/jobs/…) and the server side (workhorse, nginx, puma) at that time.', snippet: 'sudo journalctl -u gitlab-runner --since "1 hour ago" | grep -iE "job|trace|status="' },
    ], 0.6)]
}

function nameTaken(s: Scan): Diagnosis[] {
  const hit = s.last(NAME_TAKEN)
  if (!hit) return []
  return [diagnosis('transient_failure', 'A container of this job already existed',
    `Docker refused to create a container of the job because its name is taken${hit.m[1] ? ` (${hit.m[1]})` : ''}: a leftover of an earlier job that was interrupted, or two runner processes working from the same configuration on one host. A retry usually passes.`,
    evidence(hit), [
      retryFix(),
      { text: 'Make sure only one gitlab-runner process uses this config.toml on the host, and remove leftovers.', snippet: 'ps aux | grep "[g]itlab-runner run"\ndocker ps -a --filter name=runner- --filter status=exited -q | xargs -r docker rm' },
    ], 0.55)]
}

function transient(s: Scan, already: boolean): Diagnosis[] {
  // A TLS stream cut mid-transfer is the MTU/middlebox pattern (tls rule), which a retry does not fix.
  if (already || s.has(/SSL_ERROR_SYSCALL|GnuTLS recv error|gnutls_handshake/)) return []
  const gone = s.last(DISRUPTED)
  if (gone) {
    return [diagnosis('transient_failure', 'Kubernetes took the build pod away during the job',
      `The pod ${gone.m[1]} was disrupted (${gone.m[2]}): the cluster evicted, preempted or deleted it (node scale-down or drain, a higher-priority pod, the eviction API), not the job's script. A retry runs it on another node.`,
      evidence(gone), [
        retryFix(),
        { text: 'Keep the cluster autoscaler from draining nodes under running jobs.', snippet: '[runners.kubernetes.pod_annotations]\n  "cluster-autoscaler.kubernetes.io/safe-to-evict" = "false"' },
        { text: 'Give build pods a priority class so they are not preempted.', snippet: '[runners.kubernetes]\n  priority_class_name = "<ci priority class>"' },
      ], 0.7)]
  }
  // A refused or empty answer while waiting for a service to come up is the loop's business when a later step failed.
  const hit = s.all(TRANSIENT).filter((h) => !(/^curl: \(52\) Empty reply from server/.test(h.line.text) && s.failsAfter(h.line.n, /Empty reply from server/)))
    // Python's RemoteDisconnected: not inside a retry warning the tool got past, nor from a server the job runs on localhost.
    .filter((h) => !/Remote end closed connection without response/.test(h.line.text) || !(/Retrying \(Retry\(|^WARNING/.test(h.line.text) || /\b(?:localhost|127\.0\.0\.1|0\.0\.0\.0)\b/.test(`${h.line.text} ${s.commandAt(h.line.n)?.text ?? ''}`)))
    .pop()
  // Not a retry that went on, a service's or a test's own log line, or an SSH handshake (not mid-transfer).
  const reset = s.all(RESET).filter((h) => !/TLS handshake|handshake failure|kex_exchange_identification|Retrying|^WARNING|\bLOG:|^\s*at /i.test(h.line.text)).pop()
  // When something else failed after it, the reset is background, not the answer.
  const laterFailure = reset !== undefined && s.failsAfter(reset.line.n, /connection reset/i)
  const resetDiagnosis = (confidence: number): Diagnosis[] => reset ? [diagnosis('network_connection_reset', 'The connection was reset in the middle of a transfer',
    `"${reset.line.text.trim().slice(0, 160)}": the server, or a proxy, load balancer or firewall between, reset the TCP connection while data was flowing. Once it usually passes on retry; when it repeats for the same host, something on the path is cutting long or large transfers (idle or size limits, an IDS, MTU on an overlay or VPN link).`,
    evidence(s.commandAt(reset.line.n), reset), [
      retryFix(),
      { text: 'If it repeats, test the path from the runner host and from a job container to that host, and ask whoever runs the proxy/load balancer/firewall for its limits.', snippet: `curl -sv -o /dev/null https://${/->([\w.-]+):\d+/.exec(reset.line.text)?.[1] ?? hostOf(/https?:\/\/\S+/.exec(reset.line.text)?.[0]) ?? '<host>'}/` },
      { text: 'Large downloads (image layers, packages): use a registry mirror or package proxy closer to the runners.' },
    ], confidence)] : []
  if (!hit) return resetDiagnosis(laterFailure ? 0.2 : 0.55)
  const git = /remote end hung up|early EOF|RPC failed|HTTP\/2 stream/.test(hit.line.text)
  const rest = reset && reset.line.n === hit.line.n ? resetDiagnosis(0.4) : []
  return [...transientDiagnosis(s, hit, git), ...rest]
}

function transientDiagnosis(s: Scan, hit: Hit, git: boolean): Diagnosis[] {
  return [diagnosis('transient_failure', git ? 'The git transfer broke off' : 'A connection dropped in the middle of the job',
    `"${hit.line.text.trim().slice(0, 160)}": a connection was cut while ${git ? 'git was transferring' : 'the job talked to a daemon or server'}; such failures usually pass on retry. If they repeat, look at the network path (MTU, proxies, load balancers) or the server's load.`,
    evidence(s.commandAt(hit.line.n), hit), [
      retryFix(),
      ...(git ? [{ text: 'For large repositories, fetch less per job.', snippet: 'variables:\n  GIT_DEPTH: 20\n  GIT_STRATEGY: fetch' }] : []),
      { text: 'If it repeats, check the network path between the runner and the server (MTU on overlay/VPN links, proxy idle timeouts).' },
    ], 0.45)]
}

export const runnerRule: Rule = {
  id: 'runner',
  categories: ['machine_provisioning_failed', 'runner_version_bug', 'job_log_limit_exceeded', 'gitlab_server_error', 'upstream_service_unavailable', 'transient_failure', 'network_connection_reset'],
  match(ev) {
    const s = Scan.of(ev)
    const server = serverError(s)
    return [...machine(s), ...versionBug(s), ...logLimit(s), ...server, ...apiFailure(s), ...nameTaken(s), ...transient(s, server.length > 0)]
  },
}
