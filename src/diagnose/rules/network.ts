import { type Hit, Scan, diagnosis, evidence, hostOf, phaseName } from '../scan.js'
import { hostMappingFixes, jobDnsFix, mirrorFix, proxyEnvFix, pullPolicyFix, retryFix } from '../snippets.js'
import type { Diagnosis, Fix, Rule } from '../types.js'

/**
 * Name resolution and reachability: the job (or the helper doing the clone) cannot resolve or
 * reach a host. The same words come from git/libcurl (OpenSSL or GnuTLS builds), Go (runner,
 * docker, containerd, kubelet), apt, apk, npm, pip and wget, so each pattern is a family of
 * wordings. Which host and which phase decide the category: the GitLab host during get_sources
 * (the runner just talked to it, so the difference is the job's network) vs anything else.
 */

// Lookup failures, one capture group per tool that names the host.
const LOOKUP = new RegExp([
  // curl names the host after the colon; a paste that lost it keeps the wording ("Could not resolve host:").
  /Could(?:n't| not) resolve host(?::?\s*'?([\w.-]+)|:)/,
  /\blookup ([\w.-]+)(?: on [\w.:[\]]+)?: (?:no such host|server misbehaving|i\/o timeout|Try again|Temporary failure in name resolution|read udp)/,
  // apt (methods/connect.cc) says both.
  /(?:Temporary failure resolving|Could not resolve) '([\w.-]+)'/,
  /getaddrinfo (?:ENOTFOUND|EAI_AGAIN) ([\w.-]+)/,
  /unable to resolve host address [‘'"]([\w.-]+)/,
  /bad address '([\w.-]+)'/,
  /Could not resolve hostname ([\w.-]+)/,
  /Failed to resolve '([\w.-]+)'/,
  // apk 2.x (libfetch's EAGAIN, in practice a lookup that failed for now) and bundler's NetworkDownError.
  /WARNING: Ignoring \S+: temporary error \(try again later\)|Could not reach host ([\w.-]+)\. Check your network connection/,
  /UnknownHostException: ([\w.-]+)|No such host is known|DNS lookup error/,
  /Temporary failure in name resolution|Name or service not known|nodename nor servname provided|No address associated with hostname|Name does not resolve|Resolving timed out after \d+ milliseconds/,
].map((r) => r.source).join('|'), 'i')
const TRANSIENT = /server misbehaving|i\/o timeout|Try again|Temporary failure in name resolution|EAI_AGAIN|read udp|Resolving timed out/i
// curl/git connect failures: "Failed to connect to h port 443 after 3 ms: Host is unreachable",
// old curl "Failed connect to h:443; No route to host", ssh "connect to host h port 22: ...".
const CONNECT = /Failed (?:to )?connect to ([\w.[\]:-]+?)(?: port |:)(\d+)(?: after \d+ ms)?[:;] ?(Host is unreachable|Connection refused|No route to host|Operation timed out|Connection timed out|Couldn't connect to server|Could not connect to server|Network is unreachable|Timed out)|connect to host ([\w.-]+) port (\d+): (Connection refused|Connection timed out|No route to host|Network is unreachable)|dial tcp ([\w.[\]:-]+?):(\d+): connect: (connection refused|no route to host|network is unreachable|connection timed out)|wget: can't connect to remote host \(([\w.:]+)\): (Connection refused|Connection timed out|No route to host|Network is unreachable)/
const TIMEOUT = new RegExp([
  /(?:dial tcp|connect(?:ing)? to) ([\w.[\]:-]+?):(\d+)(?::|,| \(| \[).*?(?:i\/o timeout|connection timed out|connect timed out)/,
  /connect ETIMEDOUT ([\w.[\]:-]+?):(\d+)|\bE(?:SOCKET)?TIMEDOUT\b/,
  /Could not connect to ([\w.-]+):(\d+)(?: \([^)]*\))?,? connection timed out/,
  /Unable to connect to ([\w.-]+):(https?)/,
  // Go's "TLS handshake timeout" means TCP connected and the handshake stalled: tls.ts (MTU, middlebox).
  /net\/http: request canceled while waiting for connection/,
  /Connection timed out after \d+ milliseconds|Operation timed out after \d+ milliseconds/,
  /Failed to connect to ([\w.-]+) port (\d+)(?: after \d+ ms)?: (?:Connection timed out|Timed out|Couldn't connect to server|Network is unreachable|No route to host)/,
  /Connection to ([\w.-]+) timed out/,
  // botocore (aws CLI) names the connect phase; Ruby's Net::HTTP its own open timeout.
  /(?:^|ConnectTimeoutError: )Connect timeout on endpoint URL: "https?:\/\/([\w.-]+)/,
  /Failed to open TCP connection to ([\w.-]+):(\d+) \(execution expired\)/,
  // pip 26.2's own wording, and apk 2.x's for a connect that failed.
  /(?<![\w.-])([\w.-]+) didn't respond within [\d.]+ seconds \(while establishing a connection\)|network error \(check Internet connection and firewall\)/,
  /can't connect to remote host(?: \(([\d.]+)\))?: Connection timed out|failed: Connection timed out/,
  /connect: (?:network is unreachable|no route to host)|CRYPT_E_REVOCATION_OFFLINE|revocation server was offline/,
].map((r) => r.source).join('|'), 'i')
const PROXY = /proxyconnect tcp|CONNECT tunnel failed, response (?:407|403|502|503)|Received HTTP code (?:407|403|502|503) from proxy|407 Proxy Authentication Required|Could not resolve proxy:? ?([\w.-]+)?|Proxy CONNECT aborted|tunneling socket could not be established|Unable to connect to proxy|ProxyError|Cannot connect to proxy|Failed to connect to [\w.:-]+ over proxy [\w.-]+/i
const WRONG_PROTOCOL = /wrong version number|unknown protocol|packet length too long|record layer failure|unexpected TLS packet|Received HTTP code 400 from proxy/i
const DIND_HOSTS = new Set(['docker', 'localhost', '127.0.0.1', '::1', '[::1]'])
const PULL = /pull|image|manifest|registry|\/v2\//i
// Public package mirrors and their redirectors.
const MIRROR_SERVICE = /(?:^|\.)(?:mirrors\.fedoraproject\.org|mirrorlist\.centos\.org|deb\.debian\.org|archive\.ubuntu\.com|security\.ubuntu\.com|dl-cdn\.alpinelinux\.org|pypi\.org|files\.pythonhosted\.org|registry\.npmjs\.org|repo\d?\.maven\.org|repo\.maven\.apache\.org|rubygems\.org|proxy\.golang\.org|crates\.io|download\.docker\.com)$/

function hostIn(hit: Hit): string | undefined {
  const named = hit.m.slice(1).find((g) => g !== undefined && /[a-z0-9]/i.test(g) && !/^\d+$/.test(g) && !/^https?$/.test(g))
  if (named) return named.toLowerCase().replace(/^\[|\]$/g, '')
  const url = /(https?:\/\/[^\s'"]+)|host='([\w.-]+)'/.exec(hit.line.text)
  return url?.[2] ?? hostOf(url?.[1])
}

/** A name only an internal resolver knows (a private suffix), not a public one. */
function internalSuffix(host: string): boolean {
  return /\.(?:local|lan|internal|intranet|corp|lab|home|private|test)$/.test(host)
}

function isPrivate(host: string): boolean {
  return /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|127\.|localhost$)/.test(host) || !host.includes('.')
}

function gitlabFixes(s: Scan, host: string, ip: string | undefined): Fix[] {
  const loopback = /^(localhost|127\.|::1)/.test(host)
  const local = loopback || !host.includes('.')
  const cloneUrl: Fix = {
    text: loopback
      ? `Inside a job container "${host}" is the container itself. Give the runner a clone URL the job can reach (config.toml [[runners]]).`
      : 'If only the clone URL is wrong, override it in config.toml [[runners]] with a name or IP the job can reach.',
    snippet: `[[runners]]\n  clone_url = "https://<name or IP of GitLab reachable from jobs>"`,
  }
  const network: Fix = {
    text: 'All-in-one Docker setups: run job containers on the host network or on the GitLab container\'s network.',
    snippet: '[runners.docker]\n  network_mode = "host"    # or the name of the docker network GitLab runs in',
  }
  const mapping = local ? [] : hostMappingFixes(s.family, host, ip)
  const dnsFix: Fix = { ...jobDnsFix(s.family), text: `Or fix DNS/routing so ${host} resolves and routes from every job network (preferred long-term).` }
  const ordered = local ? [cloneUrl, network] : [...mapping, cloneUrl, ...(s.family === 'kubernetes' ? [] : [network])]
  return [...ordered, dnsFix]
}

/**
 * A warning the tool got past: apk skipping one repository and installing from the others, pip
 * retrying and then installing. The failure, if any, is elsewhere.
 */
function recovered(s: Scan, h: Hit): boolean {
  if (!/^WARNING: (?:Ignoring|fetching|Retrying)\b/.test(h.line.text)) return false
  return s.ev.trace.lines.some((l) => l.n > h.line.n && /^OK: \d+ MiB|^\(\d+\/\d+\) Installing|^Successfully installed/.test(l.text))
}

function dns(s: Scan): Diagnosis[] {
  // glibc that cannot even start its resolver thread is the container runtime (script.ts: seccomp), not DNS.
  const hits = s.all(LOOKUP).filter((h) => !/resolve proxy|getaddrinfo\(\) thread failed to start/i.test(h.line.text))
    .filter((h) => !DIND_HOSTS.has(hostIn(h) ?? '') && !recovered(s, h))
  const clone = hits.filter((h) => s.inClone(h.line))
  const hit = clone[clone.length - 1] ?? hits[hits.length - 1]
  if (!hit) return []
  const host = hostIn(hit) ?? s.gitlabHost() ?? '<host>'
  if (/^[0-9a-f]{12}$/.test(host)) return [] // a container ID: GitLab advertises its own hostname (clone_url_misconfigured)
  const phase = phaseName(hit.line.section)
  const gitlab = s.gitlabHost()
  const isGitlab = phase === 'get_sources' || clone.includes(hit) || (gitlab !== undefined && host === gitlab)
  const ip = s.runnerIp(host)
  const ev = evidence(hit, s.near(hit.line.n, /unable to access|fatal:|ERROR:/, 3))
  const jobFails = s.probes({ kind: 'dns', from: 'job', ok: false, target: host }).length > 0
  const jobOkNow = s.probes({ kind: 'dns', from: 'job', ok: true, target: host }).length > 0
  // Both sides looked up just now, with different answers: no longer a guess.
  const confirmed = ip !== undefined && jobFails && s.probes({ kind: 'dns', from: 'job', ok: false, target: host }).some((p) => p.detail?.['inconclusive'] !== true)
  // Any transient wording among the clone attempts, or a lookup that works now, means "sometimes".
  const transient = (clone.length ? clone : [hit]).some((h) => TRANSIENT.test(h.line.text)) || jobOkNow
  const out: Diagnosis[] = []
  // Pinning an address only makes sense for internal names; public names move between CDN addresses.
  const internal = isPrivate(host) || internalSuffix(host) || host === gitlab || ip !== undefined
  const generic = diagnosis('dns_resolution_failure', `Cannot resolve ${host}`,
    confirmed
      ? `The runner host resolves ${host} to ${ip}; the job ${s.family === 'kubernetes' ? 'pod' : 'container'} does not (both checked just now). The name is known only to the runner host (its /etc/hosts, a VPN or split-horizon DNS), so the job needs the mapping or a resolver that knows it.`
      : `${phase === 'get_sources' ? 'The clone' : 'The job'} could not resolve ${host}: the resolver the job uses has no answer for it (no record there, or the resolver itself is unreachable)${ip ? `, although the runner host resolves it to ${ip}` : ''}.`,
    ev, [...(confirmed ? hostMappingFixes(s.family, host, ip) : []), jobDnsFix(s.family),
      { text: 'If the runner host resolves it but containers do not (systemd-resolved stub 127.0.0.53, DHCP-set DNS not propagated), set "dns" in /etc/docker/daemon.json or pass --dns to the dind service.', snippet: '{ "dns": ["<IP of a reachable resolver>"] }   # /etc/docker/daemon.json, then restart dockerd' },
      ...(internal && !confirmed ? hostMappingFixes(s.family, host, ip) : []),
      ...(confirmed ? [] : [retryFix()])], confirmed ? 0.9 : 0.8)
  // The runner polled GitLab from inside the cluster (or next to it) with the same cluster DNS, so on
  // Kubernetes a job pod failing to resolve a public GitLab name is more often a flaky cluster
  // resolver than a name only the runner host knows; internal-only names keep the host-mapping reading.
  const privateName = host !== '<host>' && (isPrivate(host) || internalSuffix(host))
  const k8sFlaky = isGitlab && s.family === 'kubernetes' && !privateName && ip === undefined && !jobFails
  if (isGitlab && s.family === 'kubernetes' && (transient || k8sFlaky)) {
    out.push(diagnosis('dns_resolution_intermittent_k8s', `Intermittent DNS failure for ${host} in the job pod`,
      `The job pod's lookup of ${host} failed ${jobOkNow ? 'although the same lookup from a job pod succeeds now (probe)' : transient ? `with a transient error (${(clone.length ? clone : [hit]).map((h) => TRANSIENT.exec(h.line.text)?.[0]).find(Boolean) ?? 'timeout'})` : 'although the runner, polling GitLab through the same cluster DNS, resolves it (if only some runs fail, this is the flaky-resolver case)'}; on Kubernetes this is typically musl (Alpine) resolvers with ndots:5 search lists timing out on AAAA queries, or CoreDNS/conntrack drops.`,
      ev, [
        { text: 'Cut the search-domain fan-out for job pods.', snippet: '[runners.kubernetes.dns_config]\n  options = [{ name = "ndots", value = "1" }, { name = "single-request-reopen" }]' },
        { text: 'Use the glibc helper image.', snippet: '[runners.kubernetes]\n  helper_image_flavor = "ubuntu"' },
        { text: 'Fix cluster DNS: NodeLocal DNSCache, more CoreDNS replicas, upstream forwarders; check `conntrack -S` for insert_failed.' },
        { text: 'Stop-gap: wait for DNS before cloning.', snippet: `[[runners]]\n  pre_get_sources_script = "for i in 1 2 3 4 5; do getent hosts ${host} && break; sleep 2; done"` },
      ], transient ? 0.75 : 0.7))
    if (!transient) {
      out.push(diagnosis('gitlab_host_unreachable_from_job', `Or: the job pod cannot resolve the GitLab host ${host} at all`,
        `If every run fails, the name is known only where the runner polls from (hosts file, VPN, split-horizon DNS), not to the cluster DNS the job pods use.`,
        ev, gitlabFixes(s, host, ip), 0.6))
    }
    out.push({ ...generic, confidence: 0.55 })
  } else if (isGitlab) {
    out.push(diagnosis('gitlab_host_unreachable_from_job', `The job cannot resolve the GitLab host ${host}`,
      `The runner receives jobs from ${host}, so the runner host can resolve it${ip ? ` (to ${ip})` : ' (hosts file, VPN or split-horizon DNS)'}; the job ${s.family === 'kubernetes' ? 'pod' : 'container'} cannot${jobFails ? ' (confirmed by a lookup from the job network)' : ''}, so the clone fails.`,
      ev, gitlabFixes(s, host, ip), ip && jobFails ? 0.9 : 0.8))
    out.push({ ...generic, confidence: 0.6 })
  } else {
    out.push(generic)
  }
  return out
}

function unreachable(s: Scan): Diagnosis[] {
  const hit = s.all(CONNECT).filter((h) => s.inClone(h.line)).pop()
  if (!hit) return []
  const host = hostIn(hit) ?? '<host>'
  if (DIND_HOSTS.has(host) && !/^localhost$|^127\./.test(host)) return []
  const url = s.near(hit.line.n, /unable to access '([^']+)'/, 2)?.m[1]
  if (url && schemePortMismatch(url)) return []
  const reason = hit.m[3] ?? hit.m[6] ?? hit.m[9] ?? 'unreachable'
  const ip = s.runnerIp(host)
  const runnerOk = s.probes({ from: 'runner', ok: true, target: host }).length > 0
  const jobProbe = s.probes({ from: 'job', ok: false, target: host })[0]
  const out = [diagnosis('gitlab_host_unreachable_from_job', `The job cannot reach the GitLab host ${host}`,
    `The clone in get_sources failed with "${reason}" connecting to ${host}. The runner itself reached GitLab to get this job, so the job ${s.family === 'kubernetes' ? 'pod' : 'container'} sees a different network: ${host} is typically known only to the runner host (its /etc/hosts, a VPN or split-horizon DNS) and resolves to another address or not at all inside the job, or the job network has no route to it.${ip ? ` The runner host resolves ${host} to ${ip}${runnerOk ? ' (probe from the runner host)' : ''}${jobProbe ? `; from the job network: ${jobProbe.summary}` : ''}. Map the name to that address for jobs.` : ''}`,
    evidence(hit, url ? s.near(hit.line.n, /unable to access/, 2) : undefined), gitlabFixes(s, host, ip), runnerOk ? 0.9 : 0.85)]
  if (/timed out|unreachable|No route/i.test(reason) && host.includes('.')) {
    out.push(diagnosis('egress_blocked_firewall', `Traffic from jobs to ${host} may be blocked`,
      `If ${host} resolves correctly inside the job, an egress NetworkPolicy, security group or firewall between the job network and ${host} drops the connection.`,
      evidence(hit), [{ text: `Allow TCP 443 (and 80) from the job network to ${host}; on Kubernetes check \`kubectl get networkpolicy -n <namespace>\`.` }], 0.4))
  }
  return out
}

function schemePortMismatch(url: string): boolean {
  const m = /^(https?):\/\/[^/:]+:(\d+)/.exec(url)
  return m !== null && ((m[1] === 'https' && ['80', '8080', '8929', '8000'].includes(m[2] ?? '')) || (m[1] === 'http' && m[2] === '443'))
}

function cloneUrl(s: Scan): Diagnosis[] {
  // git ≥ 1.8.x says "repository '<url>' not found"; older git named the smart-HTTP endpoint it got a 404 for.
  const missing = s.all(/fatal: repository '([^']*gitlab-ci-token[^']*)' not found|fatal: (\S*gitlab-ci-token\S*?)\/info\/refs(?:\?service=git-upload-pack)? not found: did you run git update-server-info on the server\?/).filter((h) => s.inClone(h.line)).pop()
  if (missing) {
    const url = (missing.m[1] ?? missing.m[2] ?? '').replace(/\/\/[^@/]*@/, '//')
    return [diagnosis('clone_url_misconfigured', `GitLab's repository URL for the runner is wrong (${url})`,
      `The runner's own clone of ${url} got "not found": the URL GitLab hands to runners lacks the port or path prefix it is really served on (external_url, relative_url_root, a non-default port behind a proxy), or the project moved.`,
      evidence(missing), [
        { text: 'Make GitLab advertise the URL it is really served on (port and path included), then reconfigure GitLab.', snippet: "external_url 'http://<GitLab host>:<port>'" },
        { text: 'Or override the URL jobs clone from, in config.toml.', snippet: '[[runners]]\n  clone_url = "http://<GitLab host>:<port>"' },
        { text: 'If the URL is right, the job token cannot see the project: check the project still exists there and the user who triggered the job can read it.' },
      ], 0.7), diagnosis('git_auth_job_token', 'The job token may not read this repository', 'GitLab answers "not found" also for a project the job token is not allowed to read.', evidence(missing), [{ text: 'Check the job-token allowlist and the triggering user\'s access.' }], 0.45)]
  }
  // The remote GitLab handed over is not a URL at all (no scheme: the custom Git clone URL or
  // external_url without http://), so git takes it for a local path.
  // Only a host-like remote ("gitlab/group/project.git", as GitLab builds it): not a bare remote name
  // ("origin"), a local path, an SSH remote, or a submodule's path.
  const submodules = s.first(/^Updating\/initializing submodules|^Submodule '/)
  const notRepo = s.all(/fatal: '([^']+)' does not appear to be a git repository/).filter((h) => s.inClone(h.line) && /^[\w-]+(?:\.[\w-]+)*(?::\d+)?\/\S+\.git\/?$/.test(h.m[1] ?? '') && !(submodules && h.line.n > submodules.line.n)).pop()
  if (notRepo) {
    const url = notRepo.m[1] ?? ''
    return [diagnosis('clone_url_misconfigured', `GitLab's clone URL for the runner is not a URL (${url})`,
      `The runner fetched from "${url}", which has no scheme (http:// or https://), so git looked for a local directory of that name. GitLab builds this URL from its Custom Git clone URL setting or external_url, and one of them lacks the scheme (or the port).`,
      evidence(notRepo), [
        { text: 'Set the Custom Git clone URL (Admin Area > Settings > General > Visibility and access controls) to a full URL the runners reach, or fix external_url.', snippet: "external_url 'http://<GitLab host>:<port>'" },
        { text: 'Or override the URL jobs clone from, in config.toml.', snippet: '[[runners]]\n  clone_url = "http://<GitLab host>:<port>"' },
      ], 0.8)]
  }
  for (const access of s.all(/unable to access '([^']+)'(?::\s*(.*))?/).filter((h) => s.inClone(h.line))) {
    const url = access.m[1] ?? ''
    const why = `${access.m[2] ?? ''} ${s.near(access.line.n, WRONG_PROTOCOL, 2)?.line.text ?? ''}`
    const host = hostOf(url) ?? '<host>'
    const containerId = /^[0-9a-f]{12}$/.test(host)
    if (!WRONG_PROTOCOL.test(why) && !schemePortMismatch(url) && !containerId) continue
    const cause = containerId
      ? `GitLab advertises its clone URL as ${url}: "${host}" is GitLab's container ID, because external_url is not set. Nothing outside that container can resolve it.`
      : `The clone URL ${url} does not match how GitLab is served: ${/400 from proxy/.test(why) ? 'the proxy rejected the tunnel because TLS is terminated upstream' : 'an https:// URL is answered by a plain-HTTP port (or the reverse)'}, so the advertised scheme/port is wrong for this client.`
    return [diagnosis('clone_url_misconfigured', `GitLab advertises a clone URL the job cannot use (${url})`, cause,
      evidence(access, s.near(access.line.n, WRONG_PROTOCOL, 2)), [
        { text: 'Fix GitLab\'s external_url (for containerised GitLab also the HTTPS/port settings) so advertised URLs match the reverse proxy, then reconfigure GitLab.', snippet: "external_url 'https://<public GitLab host>'" },
        { text: 'Or override the URL jobs clone from, in config.toml.', snippet: '[[runners]]\n  clone_url = "https://<public GitLab host>"' },
        { text: 'Last resort for a few jobs: GIT_STRATEGY: none and clone manually in the script.', snippet: 'variables:\n  GIT_STRATEGY: none' },
      ], 0.85)]
  }
  return []
}

function egress(s: Scan): Diagnosis[] {
  // "error dialing backend" is the API server failing to reach a kubelet (attach/exec), not the job's egress;
  // a Docker Engine API URL (https://<ip>:2376/v1.47/…) is the runner losing its worker's daemon (runner.ts).
  const hits = s.all(TIMEOUT).filter((h) => !/\blookup |error dialing backend|:237[56]\/v\d+\.\d+\//.test(h.line.text) && !DIND_HOSTS.has(hostIn(h) ?? '') && !recovered(s, h) && !s.inDiff(h.line))
    .filter((h) => !(s.inClone(h.line) && CONNECT.test(h.line.text)))
  const hit = hits[hits.length - 1]
  if (!hit) return []
  // Prefer the name over the address Go prints ("dial tcp 35.227.35.254:443" inside a request to a URL).
  const named = hostIn(hit)
  const host = (named && /^[\d.]+$/.test(named) ? hostOf(/https?:\/\/[^\s"']+/.exec(hit.line.text)?.[0]) : named) ?? s.hostNear(hit.line.n) ?? 'the remote host'
  const pull = phaseName(hit.line.section) === 'prepare_executor' || PULL.test(hit.line.text)
  const image = s.last(/(?:pull(?:ing)? image|image pull failed:.*?|Pulling docker image) "?([\w./:@-]+?)"?(?:\s|$|\.\.\.)/i)?.m[1]
  const fixes: Fix[] = [
    { text: `Open egress from the ${pull ? 'nodes/hosts that pull images' : 'job network'} to ${host}: TCP 443 and 80 (package mirrors, CRL/OCSP use plain HTTP) in the security group, NetworkPolicy, NAT or corporate firewall.` },
    { ...proxyEnvFix(), text: `If the network only goes out through a proxy, configure it${pull ? ' for the container runtime (dockerd/containerd systemd drop-in) and' : ''} for jobs.` },
    ...(pull && image ? [mirrorFix(image), pullPolicyFix(image, s.family)] : [{ text: 'Mirror dependencies internally (registry mirror, package proxy, Dependency Proxy).' }]),
  ]
  const out = [diagnosis('egress_blocked_firewall', `Outbound connection to ${host} timed out`,
    `The connection to ${host} was never answered (timeout / no route): outbound traffic from the ${pull ? 'node pulling the image' : 'job'} is dropped by a firewall, security group, egress NetworkPolicy or missing NAT.`,
    evidence(hit, s.commandAt(hit.line.n)), fixes, 0.8)]
  if (!isPrivate(host)) {
    out.push(diagnosis('proxy_required', `${host} may only be reachable through a proxy`,
      'External hosts time out while internal ones work: the network may require an HTTP(S) proxy that the runner host has but jobs do not.',
      evidence(hit), [proxyEnvFix()], 0.4))
  }
  // A public mirror service that is slow or overloaded times out the same way (dnf's metalink, package CDNs).
  if (MIRROR_SERVICE.test(host)) {
    out.push(diagnosis('upstream_service_unavailable', `Or: ${host} was too slow to answer`,
      `${host} is a public mirror or package service; when it is overloaded, connections to it time out exactly like blocked ones. If other jobs reach it and a retry passes, it was the service.`,
      evidence(hit), [retryFix(), { text: 'Depend less on it: a local mirror or package proxy, or an image with the packages already installed.' }], 0.45))
  }
  return out
}

/**
 * A refused connect outside get_sources: nothing listens at that address, or a firewall REJECTs.
 * Which one is for the TCP check to say; inside a container, localhost is the container itself.
 */
function refused(s: Scan): Diagnosis[] {
  // curl's "Couldn't connect to server" is what it says for a refused connect (and for others,
  // which the TCP check tells apart).
  const hit = s.all(CONNECT).filter((h) => !s.inClone(h.line) && /refused|Could(?:n't| not) connect to server/i.test(h.line.text)).pop()
  if (!hit) return []
  const host = hostIn(hit) ?? 'the remote host'
  if (host === 'docker') return []
  // Loopback in a job container: loopback-services.ts (a firewall cannot stand between a process and its own loopback).
  if (/^(localhost|127\.|::1)/.test(host) && s.family !== 'shell' && s.family !== 'kubernetes' && s.executor !== 'instance' && !/wget: can't connect/.test(hit.line.text)) return []
  // busybox wget names no port: the scheme of the URL it was given says which.
  const wgetUrl = /wget: can't connect/.test(hit.line.text) ? /\b(https?):\/\//.exec(s.commandAt(hit.line.n)?.text ?? '')?.[1] : undefined
  const port = hit.m[2] ?? hit.m[5] ?? hit.m[8] ?? (wgetUrl === 'https' ? '443' : wgetUrl === 'http' ? '80' : '')
  const at = port ? `${host}:${port}` : host
  const tcp = port ? s.probes({ kind: 'tcp', target: `${host}:${port}` })[0] : undefined
  const loopback = /^(localhost|127\.|::1)/.test(host)
  const inContainer = s.family === 'docker' || s.family === 'kubernetes'
  const cause = tcp && !tcp.ok && tcp.detail?.['outcome'] === 'refused'
    ? `Nothing accepts connections on ${at}: checked from the runner host just now, the connection is refused too. The server is not running, listens on another port or address, or a firewall rejects the connection.`
    : `The connection to ${at} was refused: the server is not running (yet), listens on another port or only on another address, or a firewall rejects it.${loopback && inContainer ? ` Inside a job container ${host} is the container itself, not the runner host or a service.` : ''}`
  const title = /refused/i.test(hit.line.text) || tcp?.detail?.['outcome'] === 'refused' ? `Connection to ${at} refused` : `Cannot connect to ${at}`
  // An image pull: the engine or kubelet on the node connects, not the job; the fix is the
  // registry's address or the node's way out, or an image the node already has.
  const image = s.last(/(?:pull(?:ing)? image|Pulling docker image) "?([\w./:@-]+?)(?:"|\s|$|\.\.\.)/i)?.m[1]
  if (image && (phaseName(hit.line.section) === 'prepare_executor' || PULL.test(hit.line.text))) {
    const node = s.family === 'kubernetes' ? 'the node\'s kubelet/container runtime' : 'the Docker engine'
    return [diagnosis('egress_blocked_firewall', `The registry at ${host}:${port} refused the pull of ${image}`,
      `Pulling ${image}, ${node} could not connect to the registry at ${host}:${port}: connection refused. Nothing listens there (wrong registry address or port, registry down), or a firewall rejects the connection from the ${s.family === 'kubernetes' ? 'nodes' : 'runner host'}.${loopback && s.family === 'kubernetes' ? ` On a node, ${host} is the node itself, not the runner's machine.` : ''}`,
      evidence(hit, s.near(hit.line.n, /Event retrieved from the cluster|Failed to pull image|ErrImagePull|ImagePullBackOff/, 6)), [
        { text: `Check the registry address in the image name and that the registry listens on ${host}:${port}, as seen from the ${s.family === 'kubernetes' ? 'nodes' : 'runner host'}.`, snippet: `curl -sv https://${host}:${port}/v2/    # from a node` },
        { text: `If a firewall rejects it, allow TCP ${port} from the ${s.family === 'kubernetes' ? 'nodes' : 'runner host'} to ${host}.` },
        mirrorFix(image), pullPolicyFix(image, s.family),
      ], tcp && !tcp.ok ? 0.8 : 0.7)]
  }
  // git over SSH to GitLab from a job: GitLab's SSH may listen elsewhere, or be closed to jobs, where HTTPS works.
  const gitlabSsh = port === '22' && (host === s.gitlabHost() || /gitlab/i.test(host)) ? [diagnosis('gitlab_host_unreachable_from_job', `The job cannot reach GitLab's SSH at ${host}:22`,
    `The job connects to ${host} over SSH (port 22) and nothing accepts it: GitLab's SSH runs on another port or host (gitlab_shell_ssh_port), or SSH is not open to the job network while HTTPS is.`,
    evidence(hit), [
      { text: 'From a job, fetch GitLab projects over HTTPS with the job token instead of SSH.', snippet: 'git clone "https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/<group>/<project>.git"' },
      { text: 'Or use the SSH port GitLab really listens on.', snippet: 'git clone ssh://git@<gitlab host>:<ssh port>/<group>/<project>.git' },
    ], 0.45)] : []
  // A public server other than GitLab that refuses a download: most often the server is down or moved
  // (a firewall on the way more often drops, which times out); the firewall stays the second answer.
  // Only downloads (HTTP/HTTPS ports, curl/wget/package tools), from hosts that are not internal names,
  // not the job's proxy, and not an SSH, Kubernetes API or registry push.
  const cmd = s.commandAt(hit.line.n)?.text ?? ''
  const proxy = [...(s.ev.trace.lines.map((l) => l.text).join('\n').matchAll(/https?_proxy=\S*?\/\/(?:[^@\s/]*@)?([\w.-]+)/gi))].some((m) => m[1]?.toLowerCase() === host)
  // Reserved example and localhost names are nobody's download server either.
  const internalName = internalSuffix(host) || /\.(?:example|localhost)$/.test(host)
  const download = (port === '' || port === '80' || port === '443') && !/^\$ (?:ssh|scp|sftp|kubectl|helm|docker (?:push|login))\b/.test(cmd)
  const publicServer = !isPrivate(host) && !internalName && !proxy && download && host !== s.gitlabHost() && !gitlabSsh.length && /refused/i.test(hit.line.text) && !tcp
  const down = publicServer ? [diagnosis('upstream_service_unavailable', `${host} refused the connection`,
    `The job's download from ${host} was refused: the server is down, restarting or no longer serves on that port (download servers of third-party sources go away), which the job cannot fix; a firewall on the way that rejects rather than drops is the other possibility.`,
    evidence(hit, s.commandAt(hit.line.n)), [
      { text: `Check ${host} from elsewhere; if it is down, retry later, and keep a copy of what the job downloads (a cache, a mirror, the artifact in your own package registry).`, snippet: `curl -sSI ${/^[\d.]+$/.test(host) ? `http://${host}/` : `https://${host}/`}` },
    ], 0.6)] : []
  return [...gitlabSsh, ...down, diagnosis('egress_blocked_firewall', title, cause, evidence(hit, s.commandAt(hit.line.n)), [
    { text: `Check that the server is up and listening on ${at} (\`ss -ltnp\` on that host); a service the job starts itself needs to be waited for before use.`, snippet: `for i in $(seq 30); do nc -z ${host} ${port || '<port>'} && break; sleep 1; done` },
    ...(loopback && inContainer ? [{ text: 'To reach a service container, use its alias instead of localhost.', snippet: 'services:\n  - name: <image>\n    alias: <name>    # then connect to <name>:<port>' }] : []),
    { text: `If a firewall rejects it, allow TCP ${port || '<port>'} from the job network to ${host}.` },
  ], tcp && !tcp.ok ? 0.7 : 0.55)]
}

// A proxy variable the client cannot parse (usually no scheme: HTTPS_PROXY=proxy:3128): requests/pip say so;
// Node throws "Invalid URL" from its proxy code (the stack frames name the proxy helper).
const PROXY_URL = /Proxy URL had no scheme|Invalid (?:proxy (?:URL|address|host))|invalid proxy URL|invalid (?:HTTPS?_PROXY|https?_proxy)\b/i
const NODE_BAD_URL = /ERR_INVALID_URL|TypeError(?: \[ERR_INVALID_URL\])?: Invalid URL/

function proxyUrl(s: Scan): Diagnosis[] {
  const node = s.last(NODE_BAD_URL)
  const hit = s.last(PROXY_URL) ?? (node && s.all(/proxy/i).some((h) => h.line.n > node.line.n - 3 && h.line.n - node.line.n <= 12) ? node : undefined)
  if (!hit) return []
  const value = /Invalid URL:?\s*(\S+)/.exec(hit.line.text)?.[1]
  return [diagnosis('proxy_required', 'The job\'s proxy variable is not a valid URL',
    `${value ? `"${value}"` : 'The proxy setting'} cannot be parsed as a proxy URL: HTTP_PROXY/HTTPS_PROXY need a scheme (http://host:port); curl and git accept the bare form, Node, Python requests and pip do not.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Write the proxy variables as full URLs.', snippet: 'variables:\n  HTTP_PROXY: "http://proxy.example.com:3128"\n  HTTPS_PROXY: "http://proxy.example.com:3128"\n  NO_PROXY: "localhost,127.0.0.1,docker,.example.com"' },
      proxyEnvFix(),
    ], 0.8)]
}

function proxy(s: Scan): Diagnosis[] {
  const hit = s.last(PROXY)
  if (!hit) return proxyUrl(s)
  const auth = /407/.test(hit.line.text)
  const cause = auth
    ? 'The proxy demands authentication (HTTP 407) and the job sends none or wrong credentials.'
    : /resolve proxy/i.test(hit.line.text)
      ? `The proxy host ${hit.m[1] ?? ''} configured for the job does not resolve there.`
      : 'The request went through an HTTP(S) proxy that refused or could not forward it; hosts missing from NO_PROXY (GitLab, registry, "docker") are sent to the proxy.'
  return [diagnosis('proxy_required', 'The job\'s proxy configuration is wrong or missing', cause, evidence(hit, s.commandAt(hit.line.n)), [
    proxyEnvFix(),
    { text: 'Image pulls go through the container runtime: configure its proxy too.', snippet: '# /etc/systemd/system/docker.service.d/http-proxy.conf\n[Service]\nEnvironment="HTTPS_PROXY=http://<proxy>:<port>" "NO_PROXY=localhost,127.0.0.1,<registry host>"' },
    { text: 'For dind builds pass the proxy to the service and to docker build.', snippet: 'docker build --build-arg HTTP_PROXY="$HTTP_PROXY" --build-arg HTTPS_PROXY="$HTTPS_PROXY" --build-arg NO_PROXY="$NO_PROXY" .' },
    ...(auth ? [{ text: 'Put the proxy credentials in the URL (http://user:password@proxy:port) from a masked CI/CD variable.' }] : []),
  ], 0.85)]
}

export const networkRule: Rule = {
  id: 'network',
  categories: ['dns_resolution_failure', 'dns_resolution_intermittent_k8s', 'gitlab_host_unreachable_from_job', 'clone_url_misconfigured', 'egress_blocked_firewall', 'proxy_required', 'upstream_service_unavailable'],
  match(ev) {
    const s = Scan.of(ev)
    return [...dns(s), ...unreachable(s), ...cloneUrl(s), ...egress(s), ...refused(s), ...proxy(s)]
  },
}
