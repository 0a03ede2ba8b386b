import { type Hit, Scan, diagnosis, evidence, hostOf, phaseName } from '../scan.js'
import { hostMappingFixes, retryFix } from '../snippets.js'
import type { Diagnosis, Fix, Rule } from '../types.js'

/**
 * TLS failures. Who made the connection matters more than the wording: a certificate error in
 * get_sources is git in the helper (the runner's tls-ca-file fixes it), during an image pull it
 * is the node's container runtime (tls-ca-file does not help), in a script it is the tool in the
 * job image. Wordings: Go x509, curl/OpenSSL, GnuTLS, Python ssl, Node, wget, schannel.
 */

const UNTRUSTED = new RegExp([
  /x509: certificate signed by unknown authority|x509: certificate is not trusted/,
  /SSL certificate problem: (?:self[- ]signed certificate(?: in certificate chain)?|unable to get local issuer certificate|unable to get issuer certificate|certificate verify failed)/,
  // OpenSSL's verify text as Node's clients report it: got/node-fetch/axios ("RequestError: …"), yarn v1 ("<url>: …"),
  // and Node 17+'s words for DEPTH_ZERO_SELF_SIGNED_CERT / SELF_SIGNED_CERT_IN_CHAIN.
  /: unable to get (?:local )?issuer certificate\b|^unable to get (?:local )?issuer certificate\b|\bError: self[- ]signed certificate(?: in certificate chain)?\b/,
  // git with GnuTLS; a paste may wrap "CAfile: …" onto the next line.
  /server certificate verification failed\.(?: CAfile|\s*$)/,
  // curl 8.10+ with GnuTLS (Debian/Ubuntu git), apt's GnuTLS, apk 3, bundler.
  /server verification failed: certificate signer not trusted|The certificate issuer is unknown|TLS: server certificate not trusted|Could not verify the SSL certificate for/,
  /CERTIFICATE_VERIFY_FAILED|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify the first certificate/,
  /cannot verify ([\w.-]+)'s certificate|Unable to locally verify the issuer's authority|self[- ]signed certificate in certificate chain/,
  /SEC_E_UNTRUSTED_ROOT|certificate chain .* untrusted root|errors in the certificate chain: (?:UntrustedRoot|PartialChain)\b/,
  // Java (PKIX), Ruby/OpenSSL, .NET.
  /PKIX path building failed|unable to find valid certification path to requested target|state=error: certificate verify failed|The remote certificate is invalid according to the validation procedure/,
  // rustls (uv, cargo-binstall, deno…): "invalid peer certificate: {err}", the variant name for an unknown CA.
  /invalid peer certificate: UnknownIssuer/,
].map((r) => r.source).join('|'))
// A pull or push done by a Docker/containerd daemon (node, host or dind), not by the job's tools.
const DAEMON = /\/v2\/|Error response from daemon|failed to (?:do request|resolve reference|pull)|pull(?:ing)? image|Back-off pulling|ErrImagePull|docker login|Login did not succeed/i
const SYSCALL = /SSL_ERROR_SYSCALL|GnuTLS recv error \(-(?:9|54|110)\)|(?:gnutls_handshake\(\) failed|GnuTLS, handshake failed): (?:Error in the pull function|The TLS connection was non-properly terminated)|SSL_(?:read|connect): (?:Connection reset by peer|unexpected eof)|unexpected eof while reading|net\/http: TLS handshake timeout/i
const NAME_MISMATCH = /x509: certificate is valid for (.+?), not ([\w.:-]+)|x509: certificate relies on legacy Common Name field|SSL: no alternative certificate subject name matches target (?:host name|ipv[46] address) '([^']+)'|certificate subject name \(([^)]+)\) does not match target ?host ?name '([^']+)'|Hostname\/IP does not match certificate's altnames|ERR_TLS_CERT_ALTNAME_INVALID|doesn't match (?:any of the subject alternative names|common name)|No subject alternative (?:DNS name|names) matching (?:IP address )?([\w.:-]+?) found|No name matching ([\w.-]+) found|certificate not valid for name "([^"]+)"|invalid peer certificate: NotValidForName/
const EXPIRED = /x509: certificate has expired or is not yet valid|The certificate chain uses expired certificate|SSL certificate problem: certificate has expired|CERT_HAS_EXPIRED|certificate has expired|certificate is not yet valid|invalid peer certificate: (?:Expired|NotValidYet)\b|certificate (?:expired|not valid yet): verification time|Certificate(?:Expired|NotYetValid)Exception/
// The server's TLS alert: it found fault with the client's side of the handshake (gitlab-runner's FAQ: a clock changed during the job).
const BAD_CERT = /remote error: tls: bad certificate|(?:sslv3|tlsv1) alert bad certificate/
const HTTP_TO_HTTPS = /server gave HTTP response to HTTPS client|gave HTTP response to HTTPS client/
const DOCKER_SOCKET = /(?:\/\/|\b)(?:docker|localhost|127\.0\.0\.1):237[56]\b/

function hostIn(hit: Hit): string | undefined {
  const t = hit.line.text
  const named = /cannot verify ([\w.-]+)'s certificate|in connection to ([\w.-]+):\d+/.exec(t)
  if (named) return named[1] ?? named[2]
  const url = /(?:Get|Head|Post|Put) "?(https?:\/\/[^\s"']+)|'(https?:\/\/[^']+)'|(https?:\/\/[^\s"']+)|host='([\w.-]+)'/.exec(t)
  return url?.[4] ?? hostOf(url?.[1] ?? url?.[2] ?? url?.[3])
}

function untrusted(s: Scan): Diagnosis[] {
  // The client certificates of a dind daemon (tcp://docker:2376) are the dind rule's TLS question, not a CA to install.
  // The API server failing to verify an admission webhook is the webhook's configuration (kubernetes.ts), not a CA the job lacks.
  const hits = s.all(UNTRUSTED).filter((h) => !DOCKER_SOCKET.test(h.line.text) && !/failed calling webhook/.test(h.line.text))
  const hit = hits.find((h) => phaseName(h.line.section) === s.phase) ?? hits[hits.length - 1]
  if (!hit) return []
  const host = hostIn(hit) ?? s.hostNear(hit.line.n) ?? s.gitlabHost() ?? '<host>'
  const cmd = s.commandAt(hit.line.n)
  const daemon = DAEMON.test(hit.line.text) || phaseName(hit.line.section) === 'prepare_executor' || /^\$ docker (?:login|push|pull)\b/.test(cmd?.text ?? '')
  if (daemon) return [registryUntrusted(s, hit, host)]
  const phase = phaseName(hit.line.section)
  const where = /^LFS:/.test(hit.line.text) ? 'git-lfs in the helper container'
    : phase === 'get_sources' ? 'git in the helper container (the clone)'
      : /upload_artifacts|download_artifacts|cache/.test(phase) ? 'the artifacts/cache helper'
        : /Checking for jobs|register/i.test(hit.line.text) ? 'the runner process itself'
          : `a tool in the job's image (${cmd?.text.slice(2).split(' ')[0] ?? 'the script'})`
  const runnerCa: Fix = {
    text: `Give the runner ${host}'s CA chain; it passes it to helper and build containers as CI_SERVER_TLS_CA_FILE (git's sslCAInfo).`,
    snippet: `[[runners]]\n  tls-ca-file = "/etc/gitlab-runner/certs/${host}.crt"`,
  }
  const k8sCa: Fix = {
    text: 'Kubernetes: mount the CA into job pods (or set the Helm chart\'s certsSecretName).',
    snippet: `[[runners.kubernetes.volumes.secret]]\n  name = "${host}-ca"\n  mount_path = "/etc/gitlab-runner/certs/"`,
  }
  const chain: Fix = { text: `Serve the full chain (leaf + intermediates) on ${host}; check with: openssl s_client -connect ${host}:443 -servername ${host} -showcerts` }
  const image: Fix = {
    text: 'Trust the CA inside the job image for script tools (curl, npm, pip...).',
    snippet: 'before_script:\n  - cp "$CI_SERVER_TLS_CA_FILE" /usr/local/share/ca-certificates/gitlab-ca.crt && update-ca-certificates',
  }
  const script = where.startsWith('a tool')
  const gitlab = host === s.gitlabHost() || !script
  const toolEnv: Fix = { text: 'Or point the tool at the CA file directly.', snippet: 'variables:\n  NODE_EXTRA_CA_CERTS: "$CI_SERVER_TLS_CA_FILE"    # node/npm\n  REQUESTS_CA_BUNDLE: "/etc/ssl/certs/ca-certificates.crt"    # python requests/pip\n  SSL_CERT_FILE: "/etc/ssl/certs/ca-certificates.crt"' }
  const fixes = script ? [image, toolEnv, chain, ...(gitlab ? [runnerCa] : [])] : [runnerCa, ...(s.family === 'kubernetes' ? [k8sCa] : []), chain, image]
  fixes.push({ text: 'Diagnostic only, never permanent: GIT_SSL_NO_VERIFY: "true" proves the certificate is the only problem.' })
  return [diagnosis('tls_untrusted_ca', `${host}'s certificate is not trusted by ${where}`,
    `${where[0]?.toUpperCase()}${where.slice(1)} could not verify the certificate of ${host}: it is self-signed, issued by a private CA, or served without its intermediates, and that CA is not in the trust store used there.`,
    evidence(hit, s.near(hit.line.n, /unable to access|fatal:/, 2)), fixes, 0.85)]
}

function registryUntrusted(s: Scan, hit: Hit, registry: string): Diagnosis {
  const dind = s.hasDind() && phaseName(hit.line.section) !== 'prepare_executor'
  const node: Fix = {
    text: `Install the registry's CA on every node/host whose daemon pulls, then restart dockerd/containerd (the runner's tls-ca-file does not reach the daemon).`,
    snippet: `sudo mkdir -p /etc/docker/certs.d/${registry}\nsudo cp ca.crt /etc/docker/certs.d/${registry}/ca.crt\n# containerd: /etc/containerd/certs.d/${registry}/hosts.toml  ca = "/path/ca.crt"`,
  }
  const dindFix: Fix = {
    text: 'dind builds: the daemon is the service container; give it the CA (custom dind image or a mounted certs.d).',
    snippet: `FROM docker:dind\nCOPY ca.crt /etc/docker/certs.d/${registry}/ca.crt`,
  }
  return diagnosis('registry_tls_untrusted_ca', `The registry ${registry} uses a certificate the Docker daemon does not trust`,
    `The ${dind ? 'dind service' : 'container runtime'} pulling/pushing to ${registry} does not trust its certificate (private CA or self-signed). Image pulls are done by the daemon, not by the job.`,
    evidence(hit), [...(dind ? [dindFix, node] : [node, dindFix]), { text: 'Lab only: add the registry to "insecure-registries".' }], 0.85)
}

/** The certificate is trusted but wrong for this connection: another name, or out of its validity dates. */
function wrongCertificate(s: Scan): Diagnosis[] {
  const out: Diagnosis[] = []
  const name = s.last(NAME_MISMATCH)
  if (name) {
    const target = name.m[2] ?? name.m[3] ?? name.m[5] ?? name.m[6] ?? name.m[7] ?? name.m[8] ?? hostIn(name) ?? s.hostNear(name.line.n) ?? '<host>'
    out.push(diagnosis('tls_certificate_name_mismatch', `The certificate does not cover ${target}`,
      `The server's certificate is ${name.m[1] ? `valid for ${name.m[1]}` : 'issued for other names'}, not for ${target}, the name or address the client used${/^\d/.test(target) ? ' (an IP: a load-balancer VIP or a node address that is not in the SANs)' : ''}.`,
      evidence(s.commandAt(name.line.n), name), [
        { text: `Connect with a name the certificate covers${name.m[1] ? ` (${name.m[1]})` : ''}: fix the URL, kubeconfig server or DNS.` },
        { text: `Or reissue the certificate with ${target} in its subjectAltName (Kubernetes API: add it to the apiserver certSANs).`, snippet: `openssl s_client -connect ${target}:443 -servername ${target} </dev/null 2>/dev/null | openssl x509 -noout -ext subjectAltName` },
      ], 0.85))
  }
  const expired = s.last(EXPIRED)
  if (expired) {
    const host = hostIn(expired) ?? s.hostNear(expired.line.n) ?? '<host>'
    const runner = /prepare environment|setting up credentials|system failure/.test(expired.line.text)
    out.push(diagnosis('tls_certificate_expired', `The certificate of ${host} has expired (or is not valid yet)`,
      `${runner ? 'The runner itself' : 'The client'} rejected ${host}'s certificate by date: it expired, or a clock is wrong (the server's, the node's or the runner host's).`,
      evidence(expired), [
        { text: `Check the dates and renew the certificate on ${host}${/^\d+\.\d+/.test(host) ? ' (Kubernetes: kubeadm certs check-expiration / renew all, then restart the control plane and refresh kubeconfigs)' : ''}.`, snippet: `echo | openssl s_client -connect ${host}:443 2>/dev/null | openssl x509 -noout -dates` },
        { text: 'Check the clocks (NTP) on the runner host and the server.', snippet: 'timedatectl status' },
        { text: 'Old CA bundles in images reject chains whose old root expired (Let\'s Encrypt 2021): update ca-certificates in the image.' },
      ], 0.85))
  }
  const bad = expired ? undefined : s.last(BAD_CERT)
  if (bad) {
    const host = hostIn(bad) ?? s.hostNear(bad.line.n) ?? s.gitlabHost() ?? '<host>'
    out.push(diagnosis('tls_certificate_expired', `${host} refused the TLS handshake ("bad certificate")`,
      `The server ended the handshake with a "bad certificate" alert: it judged the client's side wrong. Usually it wants a client certificate (mutual TLS) that was not sent or that it does not accept; gitlab-runner's FAQ also names a clock changed during the job, which makes certificates look expired or not yet valid.`,
      evidence(bad), [
        { text: 'If the server requires client certificates (mTLS), give the runner its certificate and key.', snippet: '[[runners]]\n  tls-cert-file = "/etc/gitlab-runner/certs/client.crt"\n  tls-key-file = "/etc/gitlab-runner/certs/client.key"' },
        { text: 'Check the clocks of the runner host and of the job (a job must not change the system time).', snippet: 'timedatectl status\ndate -u' },
      ], 0.45))
  }
  return out
}

function syscall(s: Scan): Diagnosis[] {
  const hit = s.last(SYSCALL)
  if (!hit) return []
  const host = hostIn(hit) ?? s.gitlabHost() ?? '<host>'
  const phase = phaseName(hit.line.section) || s.phase
  const dind = s.hasDind()
  const ip = s.runnerIp(host)
  const mtu: Fix[] = [
    { text: 'Match the MTU of job networks to the node (overlay/VPN networks are smaller than 1500); compare `ip link` in the job and on the node.', snippet: '[runners.docker]\n  network_mtu = 1400' },
    ...(dind ? [{ text: 'dind: start the daemon with a smaller MTU.', snippet: 'services:\n  - name: docker:dind\n    command: ["--mtu=1400"]' }] : []),
  ]
  const path: Fix[] = [
    ...hostMappingFixes(s.family, host, ip).map((f) => ({ ...f, text: `${f.text} Jobs then reach ${host} at the same address as the runner host.` })),
    ...(s.family === 'kubernetes' ? [] : [{ text: `Or run job containers on the host network (what fixed it for other operators).`, snippet: '[runners.docker]\n  network_mode = "host"' }]),
  ]
  const ca: Fix = {
    text: `If ${host} uses a self-signed/private CA, make sure the CA reaches the job: tls-ca-file becomes CI_SERVER_TLS_CA_FILE and git's sslCAInfo (a later "certificate" error means this part).`,
    snippet: `[[runners]]\n  tls-ca-file = "/etc/gitlab-runner/certs/${host}.crt"`,
  }
  const clone = phase === 'get_sources' && !dind
  const check: Fix = { text: `Compare the same request from the node and from a job container: curl -v https://${host}/ (and the name's address: getent hosts ${host}).` }
  return [
    diagnosis('tls_mtu_ssl_error_syscall', `The TLS connection to ${host} was cut during the handshake`,
    `The TLS handshake with ${host} started and then the connection died (${hit.line.text.match(SYSCALL)?.[0]}). ${clone
      ? `The runner host talks to ${host} fine (it received this job), so the job ${s.family === 'kubernetes' ? 'pod' : 'container'} takes a different network path: the name resolves to another address inside it, a middlebox resets it, or packets above the network's MTU are dropped.`
      : 'Typical inside nested networks (dind, overlay, VPN): large TLS packets exceed the path MTU and are dropped.'}`,
    evidence(hit, s.near(hit.line.n, /unable to access|fatal:/, 2)), clone ? [...path, ...mtu, ca] : [...mtu, check], 0.8),
  // A stalled handshake can also be a firewall or proxy that accepts TCP and then drops the traffic.
  ...(/TLS handshake timeout/.test(hit.line.text) ? [diagnosis('egress_blocked_firewall', `Or: a firewall or proxy stalls TLS to ${host}`,
    `TCP to ${host} was accepted but the TLS handshake never finished: besides the MTU, an egress filter or a proxy that inspects TLS can hold the connection open.`,
    evidence(hit), [{ text: `Check from the runner host and from a job container whether ${host}:443 completes a handshake, and whether a proxy must be used.`, snippet: `curl -v --max-time 20 https://${host}/` }], 0.45)] : []),
  // GnuTLS -54 ("Error in the pull function") is a failed socket read: often the peer or a middlebox resetting the connection.
  ...(/GnuTLS recv error \(-54\)|SSL_read: Connection reset by peer/.test(hit.line.text) ? [diagnosis('network_connection_reset', `Or: the connection to ${host} was reset`,
    `"${hit.line.text.trim().slice(0, 120)}" is a read on the connection that failed: the server, or a proxy or firewall between, reset it mid-transfer. If it passes on retry it was the server or the path, not the MTU.`,
    evidence(hit), [retryFix()], 0.4)] : []),
  ]
}

// git/curl could not open the CA file the runner writes for the job (CI_SERVER_TLS_CA_FILE): the runner did not write it.
const CA_FILE_MISSING = /CAfile: \S*CI_SERVER_TLS_CA_FILE/

function caFileMissing(s: Scan): Diagnosis[] {
  const hit = s.last(CA_FILE_MISSING)
  if (!hit || !s.near(hit.line.n, /error setting certificate verify locations|could not load PEM client certificate|unable to read|cannot find the path|No such file/i, 3)) return []
  const cmd = /^[A-Z]:|\\|\.tmp\\/.test(hit.line.text) || s.has(/The system cannot find the path specified/)
  return [
    diagnosis('runner_version_bug', 'The runner did not write the job\'s CA file', `git was told to trust the CA file the runner writes for the job (CI_SERVER_TLS_CA_FILE, from tls-ca-file or the server's chain), and the file is not there${cmd ? ': Windows runners using the cmd shell wrote it with one echo command, which cmd\'s 8191-character limit cut for long chains (fixed in later runners)' : ''}.`,
      evidence(s.near(hit.line.n, /error setting certificate verify locations/i, 3), hit), [
        { text: 'Upgrade the runner; on Windows use the PowerShell shell rather than cmd.', snippet: '[[runners]]\n  shell = "pwsh"' },
        { text: 'Keep the CA file short: only the CA that signs the GitLab certificate, not a whole bundle.', snippet: '[[runners]]\n  tls-ca-file = "C:\\\\GitLab-Runner\\\\certs\\\\gitlab-ca.crt"' },
      ], 0.75),
    diagnosis('tls_untrusted_ca', 'Or: the CA for GitLab is not set up for jobs', 'If the runner cannot provide the CA file, git has nothing to verify GitLab\'s certificate with.', evidence(hit), [{ text: 'Give the runner the CA with tls-ca-file, or install it in the image\'s trust store.' }], 0.4),
  ]
}

// curl could not read the CA bundle it was told to use (CURLE_SSL_CACERT_BADFILE, 77; OpenSSL's
// "error setting certificate verify locations"): a path that is not there, or not readable.
const CA_BUNDLE_UNREADABLE = /Problem with the SSL CA cert \(path\? access rights\?\)|error setting certificate verify locations|curl: \(77\) error setting certificate file: (\S+)/

function caBundleUnreadable(s: Scan): Diagnosis[] {
  const hit = s.last(CA_BUNDLE_UNREADABLE)
  if (!hit || s.has(CA_FILE_MISSING)) return []
  const cafile = hit.m[1] ?? /CAfile: (\S+)/.exec(s.near(hit.line.n, /CAfile: \S+/, 2)?.line.text ?? '')?.[1]
  return [diagnosis('tls_untrusted_ca', 'A tool cannot read the CA bundle it should trust', `"${hit.line.text.trim().slice(0, 160)}": curl (or a tool built on it: git, nix, pip's and cargo's downloads) could not open the certificate bundle${cafile ? ` ${cafile}` : ''} it is configured with, so no TLS connection can be verified. The path in the image does not exist (a CA mounted by the runner at another place, no ca-certificates package) or is not readable by the job's user; an image update can move where the tool looks.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Install the CA bundle in the image, with the runner\'s own CA added when it maps one in.', snippet: 'before_script:\n  - apt-get update && apt-get install -y ca-certificates   # apk add ca-certificates' },
      { text: 'Point the tool at the bundle that is there (each reads its own variable).', snippet: 'variables:\n  SSL_CERT_FILE: /etc/ssl/certs/ca-certificates.crt\n  CURL_CA_BUNDLE: /etc/ssl/certs/ca-certificates.crt\n  NIX_SSL_CERT_FILE: /etc/ssl/certs/ca-certificates.crt' },
    ], 0.8)]
}

function insecure(s: Scan): Diagnosis[] {
  const hit = s.last(HTTP_TO_HTTPS)
  if (!hit || DOCKER_SOCKET.test(hit.line.text)) return []
  // insecure-registries entries need the port exactly as the client uses it.
  const registry = /https?:\/\/([^/"\s]+)/.exec(hit.line.text)?.[1] ?? hostIn(hit) ?? '<registry:port>'
  const dind = s.hasDind()
  const service: Fix = {
    text: 'Mark it insecure on the daemon that actually pushes/pulls: for dind that is the service, not the host\'s daemon.json.',
    snippet: `services:\n  - name: docker:dind\n    command: ["--insecure-registry=${registry}"]`,
  }
  const host: Fix = { text: 'Host daemon (image pulls by the runner): add it to /etc/docker/daemon.json and restart dockerd.', snippet: `{ "insecure-registries": ["${registry}"] }` }
  return [diagnosis('registry_insecure_http', `The registry ${registry} speaks plain HTTP`,
    `The Docker client expected HTTPS from ${registry} but the registry answered over plain HTTP.`,
    evidence(hit, s.commandAt(hit.line.n)), [
      { text: `Put TLS on ${registry} (preferred).` },
      ...(dind ? [service, host] : [host, service]),
      { text: 'Or bind the host socket so the host daemon\'s configuration applies (weaker isolation).', snippet: '[runners.docker]\n  volumes = ["/var/run/docker.sock:/var/run/docker.sock"]' },
    ], 0.85)]
}

export const tlsRule: Rule = {
  id: 'tls',
  categories: ['tls_untrusted_ca', 'registry_tls_untrusted_ca', 'registry_insecure_http', 'tls_mtu_ssl_error_syscall', 'tls_certificate_name_mismatch', 'tls_certificate_expired', 'egress_blocked_firewall', 'network_connection_reset', 'runner_version_bug'],
  match(ev) {
    const s = Scan.of(ev)
    return [...untrusted(s), ...syscall(s), ...insecure(s), ...wrongCertificate(s), ...caFileMissing(s), ...caBundleUnreadable(s)]
  },
}
