import { LOOPBACK_NAMED } from './scan.js'
import { retryFix } from './snippets.js'
import type { Diagnosis, EvidenceLine, Fix } from './types.js'

/**
 * The last tier, after the rules and the kind-of-failure answer. Rules name a cause from a tool's own
 * wording; most real failures they miss are a tool nobody wrote a rule for saying a common thing
 * ("Connection refused", "out of memory", "version ... required", "Unable to locate package").
 * This tier reads only the last error lines of a failed job nothing else explained, matches a few
 * broad families of words, and offers the taxonomy class most often behind each family as an
 * alternative to check (0.25, the second 0.2), below the kind-of-failure answer (0.3).
 *
 * Below, not above: one word is weaker evidence than "no known pattern, here are the lines". Where
 * it fires on the development logs the engine already knows, the word's class is right 2 times in
 * 5 and the script failure 3 in 5; ranked first, it took the held-out split from 139 to 138 first
 * answers (environment failures 61 → 63, script failures 78 → 75).
 *
 * It stays quiet when the lines are a test runner's verdict (the test failed, whatever words its
 * message holds) and where a family's words are too common to mean the environment (a connection
 * with no host named, "Permission denied" outside the build directory).
 *
 * Measured on each collection pass's development logs against the engine before that pass's rules
 * (where these families were designed, so an optimistic figure): environment failures 31 → 58 of
 * 104 first answers when ranked first.
 */

/** What the tier says for a class. */
interface Answer {
  category: string
  title: string
  cause: string
  fixes: Fix[]
}

/** A family of words and the class most often behind them. */
interface Family extends Answer {
  words: RegExp
  /**
   * Another class for this line, or null when the family's words do not apply to it. `local`: the
   * job's last command talks to loopback (a server the job started itself).
   */
  refine?: (text: string, local: boolean) => string | null
}

// Every pattern is bounded (no unbounded `.*` between two words): the lines can be 80 000 characters.
// A URL, an address, a port, host:port (not a source file's file:line, gitaly_setup.rb:218:in), or "host x.y":
// the words "server" and "host" alone (curl's "Couldn't connect to server") name nothing.
const HOST_NAMED = /https?:\/\/|\b\d{1,3}(?:\.\d{1,3}){3}\b|\bport \d+|[\w-]\.(?!(?:rb|py|pl|pm|c|cc|cpp|cxx|h|hh|hpp|go|rs|js|mjs|ts|java|kt|scala|cs|php|sh|ml|mli|mk|yml|yaml|json|txt|cmake|in)\b)[a-z]{2,}:\d{2,5}\b|\bhost \(?[\w-]+\.[\w.-]+/i
const PRIVATE_IP = /\b(?:10\.\d{1,3}|192\.168|172\.(?:1[6-9]|2\d|3[01]))\.\d{1,3}\.\d{1,3}\b/
// A test runner's or harness's own verdict: the script's test failed, whatever its message says.
const VERDICT = /AssertionError|assert(?:ion)? failed|^FAIL\b|\bFAIL!|\[ +FAILED +\]|^FAILED (?:tests?|\S+::|\((?:failures|errors)=)|^[+-]{3} \S|^@@ -\d|Tests?:[^\n]{0,80}\bfailed\b|\b\d+ (?:tests? )?failed|^Traceback|error TS\d+|\bTIMEOUT\b/

const FAMILIES: readonly Family[] = [
  {
    category: 'ssh_host_key_verification_failed',
    words: /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No [\w-]+ host key is known for/,
    title: 'SSH refused a host key it does not know',
    cause: 'The last error lines say ssh could not verify the server\'s host key: the job\'s known_hosts does not have it (a fresh container has none), or the key changed.',
    fixes: [
      { text: 'Add the server\'s key to known_hosts from a CI/CD variable (verified once, not scanned on every run).', snippet: 'before_script:\n  - mkdir -p ~/.ssh && chmod 700 ~/.ssh\n  - echo "$SSH_KNOWN_HOSTS" >> ~/.ssh/known_hosts' },
    ],
  },
  {
    category: 'git_auth_job_token',
    words: /HTTP Basic: Access denied|Authentication failed for '|could not read (?:Username|Password) for|terminal prompts disabled/,
    title: 'Git was refused credentials',
    cause: 'The last error lines say a git server refused the credentials (or asked for some in a job that cannot answer): the job token has no access to that project, or the URL carries no credentials.',
    fixes: [
      { text: 'For another project on the same GitLab, allow this project in that project\'s job token allowlist and use the job token.', snippet: 'git clone "https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/<group>/<project>.git"' },
      { text: 'For other servers, use a deploy token or key stored as a masked CI/CD variable.' },
    ],
  },
  {
    category: 'shallow_clone_missing_ref',
    words: /not our ref|unadvertised object|reference is not a tree|couldn't find remote ref|unknown revision or path not in the working tree|shallow update not allowed|no merge base/i,
    title: 'A commit the job needs is not in its shallow clone',
    cause: 'The last error lines say git could not find a commit or ref: the job\'s clone is shallow (GIT_DEPTH, 20 by default) or fetched only its own ref, and the command needs history or another branch.',
    fixes: [
      { text: 'Fetch more history for this job.', snippet: 'variables:\n  GIT_DEPTH: 0   # full history; or fetch what you need: git fetch origin <branch>' },
    ],
  },
  {
    category: 'registry_rate_limited',
    words: /Too Many Requests|\b429\b|rate ?limit/i,
    title: 'A server limited the job\'s request rate',
    cause: 'The last error lines say the server refused with a rate limit (429). For image pulls that is most often Docker Hub\'s anonymous pull limit shared by every job of the runner\'s address.',
    fixes: [
      { text: 'Pull through a registry mirror or the GitLab Dependency Proxy, or authenticate the pulls.', snippet: 'image: ${CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX}/<image>:<tag>' },
      retryFix(),
    ],
    refine: (text) => (/docker|registry|manifest|pull|image|toomanyrequests/i.test(text) ? 'registry_rate_limited' : null),
  },
  {
    category: 'job_environment_too_large',
    words: /Argument list too long|\bE2BIG\b/,
    title: 'A program could not start: its arguments and environment are too large',
    cause: 'The last error lines say "Argument list too long": the command line plus the environment passed the kernel\'s limit. GitLab exports every CI variable into the job, the commit message among them; a long glob does the same.',
    fixes: [
      { text: 'Pass long file lists through a file or xargs instead of the command line, and keep large values out of variables.', snippet: 'find . -name "*.c" -print0 | xargs -0 <command>' },
    ],
  },
  {
    category: 'seccomp_blocks_new_syscalls',
    words: /Function not implemented|\bENOSYS\b/,
    title: 'A system call was refused by the container runtime',
    cause: 'The last error lines say a system call is "not implemented": a newer image calls something (clone3, statx, faccessat2, time64 calls) that an older container runtime\'s seccomp profile refuses.',
    fixes: [
      { text: 'Update Docker (or containerd/runc and libseccomp) on the runner host; until then an older image works.' },
      { text: 'To confirm, run the same command with the profile off.', snippet: 'docker run --rm --security-opt seccomp=unconfined <image> <command>' },
    ],
  },
  {
    category: 'tls_certificate_name_mismatch',
    words: /no alternative certificate subject name matches|certificate is valid for [^\n]{1,200}, not |doesn't match (?:either of |any of )?['"]?[\w.*-]+['"]?$|hostname mismatch|does not match (?:target )?host ?name|certificate subject name [^\n]{0,120}does not match/i,
    title: 'A server\'s certificate is for another name',
    cause: 'The last error lines say the certificate the server presented is not for the name the job used: the job reaches it by another name or address than the one in the certificate, or a proxy answers instead.',
    fixes: [
      { text: 'Use the name the certificate was issued for, or add the name the jobs use to its subject alternative names.', snippet: 'openssl s_client -connect <host>:443 -servername <host> </dev/null | openssl x509 -noout -ext subjectAltName' },
    ],
  },
  {
    category: 'egress_blocked_firewall',
    words: /Connection timed out|\bETIMEDOUT\b|i\/o timeout|Read timed out|timed out (?:while )?(?:waiting for (?:a )?(?:connection|response)|connecting|reading)|TLS handshake timeout/i,
    title: 'Connections from the job time out',
    cause: 'The last error lines say a connection or a read timed out: traffic from the job network is dropped on the way (a firewall, a missing NAT or proxy), or the server is down or overloaded.',
    fixes: [
      { text: 'Try the same connection from the runner host and from a job.', snippet: 'curl -sSIv --max-time 20 <url>' },
      { text: 'If the runner host can and the job cannot, set the proxy or open the firewall for the job network.', snippet: 'variables:\n  HTTPS_PROXY: http://<proxy>:3128\n  NO_PROXY: <gitlab host>,localhost' },
    ],
    refine: (text, local) => (local ? null : !HOST_NAMED.test(text) && !/dial tcp|\bTLS\b/.test(text) ? null : /https?:\/\/[^/\s]*gitlab/i.test(text) ? 'gitlab_host_unreachable_from_job' : 'egress_blocked_firewall'),
  },
  {
    category: 'no_space_left_on_device',
    words: /No space left on device|\bENOSPC\b|disk quota exceeded|not enough (?:free )?(?:disk )?space|insufficient (?:disk|storage) space|out of disk space|disk (?:is )?full/i,
    title: 'The disk ran out of space',
    cause: 'The last error lines say a disk is full. On a runner that is most often the builds or Docker storage of the runner host (old images, volumes, build directories), sometimes a small /tmp or a quota.',
    fixes: [
      { text: 'See which file system is full, on the runner host and inside a job.', snippet: 'df -h; docker system df' },
      { text: 'Free the Docker storage and old build directories on the runner host (or let the runner clear its caches).', snippet: 'docker system prune --volumes --filter "until=72h"' },
    ],
  },
  {
    category: 'tls_certificate_expired',
    words: /certificate (?:has )?expired|certificate is not yet valid|CERT_HAS_EXPIRED|expired certificate|certificate[^\n]{0,80}\bexpired\b/i,
    title: 'A TLS certificate has expired',
    cause: 'The last error lines say a certificate is expired (or not yet valid): the server\'s own certificate, an intermediate, or a root that an old image still trusts instead of its replacement; a wrong clock gives the same words.',
    fixes: [
      { text: 'Read the dates of the certificate the server presents.', snippet: 'openssl s_client -connect <host>:443 -servername <host> </dev/null | openssl x509 -noout -dates -issuer' },
      { text: 'If the server\'s certificate is valid, update the image\'s CA bundle (an expired root in an old image), and check the clock.', snippet: 'apt-get update && apt-get install -y ca-certificates   # or: apk add --no-cache ca-certificates\ndate -u' },
    ],
  },
  {
    category: 'tls_untrusted_ca',
    words: /certificate verify failed|unable to get local issuer|self[- ]signed certificate|unknown authority|SSL certificate problem|\bCA cert|certificate (?:is )?not trusted|PKIX path|issuer certificate|untrusted certificate|\bx509: /i,
    title: 'A server\'s TLS certificate is not trusted',
    cause: 'The last error lines say a certificate chain could not be verified: the server uses a private or self-signed CA the job\'s image does not have, or a proxy re-signs TLS traffic.',
    fixes: [
      { text: 'Give the runner the CA chain (it passes it to jobs as CI_SERVER_TLS_CA_FILE), or add it to the image\'s trust store.', snippet: '[[runners]]\n  tls-ca-file = "/etc/gitlab-runner/certs/ca.crt"' },
      { text: 'Inside the job: install the CA into the system store before the command that fails.', snippet: 'cp "$CI_SERVER_TLS_CA_FILE" /usr/local/share/ca-certificates/gitlab.crt && update-ca-certificates' },
    ],
  },
  {
    category: 'oom_killed',
    words: /out of memory|Cannot allocate memory(?! for)|std::bad_alloc|\bMemoryError\b|OutOfMemoryError|heap out of memory|memory exhausted|\bOOM\b|^Killed$|\bKilled\b[^\n]{0,60}(?:signal 9|cc1|\bld\b)|signal 9\b|\bSIGKILL\b|exit (?:code|status) 137\b/i,
    title: 'The job ran out of memory',
    cause: 'The last error lines say memory ran out or a process was killed with signal 9, which is how the kernel\'s or the container\'s OOM killer ends a process.',
    fixes: [
      { text: 'Use fewer parallel processes (compilers and linkers use most).', snippet: 'variables:\n  MAKEFLAGS: "-j2"\n  CMAKE_BUILD_PARALLEL_LEVEL: "2"' },
      { text: 'Give the job more memory: the executor\'s limit, or a larger runner.', snippet: '[runners.docker]\n  memory = "8g"\n# Kubernetes executor:\n[runners.kubernetes]\n  memory_limit = "8Gi"' },
    ],
  },
  {
    category: 'dns_resolution_failure',
    words: /(?:could ?n[o']t|unable to|failed to|cannot) resolve(?! (?:all|dependencies|symbol|reference|import|module|path|the (?:dependencies|reference))|\s*["'`])|Name or service not known|Temporary failure in name resolution|no such host|getaddrinfo|nodename nor servname|Unknown host|\bNXDOMAIN\b|name resolution/i,
    title: 'A host name could not be resolved',
    cause: 'The last error lines say a name did not resolve. From a job that is the container\'s or pod\'s resolver: an internal name only the runner host knows, a DNS server unreachable from the job network, or a typo in the name.',
    fixes: [
      { text: 'Resolve the name from a job and from the runner host, and compare.', snippet: 'getent hosts <host> || nslookup <host>' },
      { text: 'Give job containers a resolver that knows the name.', snippet: '[runners.docker]\n  dns = ["<IP of your DNS server>"]' },
    ],
    refine: (text) => (/gitlab/i.test(text) && /unable to access|clone|fetch/i.test(text) ? 'gitlab_host_unreachable_from_job' : 'dns_resolution_failure'),
  },
  {
    category: 'upstream_service_unavailable',
    words: /Connection refused|\bECONNREFUSED\b|(?:couldn't|could not|can't|cannot|unable to|failed to) connect|No route to host|Network is unreachable|\bEHOSTUNREACH\b|Service Unavailable|Bad Gateway|Gateway Time-?out|\b50[234]\b/i,
    title: 'A server the job downloads from could not be reached',
    cause: 'The last error lines say a connection to a server failed (refused, unreachable, or a 502/503/504). When the server is a public one, it was most often down or overloaded; when every job fails the same way, a firewall or proxy between the runner and the server is the next suspect.',
    fixes: [
      { text: 'Check the server\'s status and try the same request from the runner host and from a job.', snippet: 'curl -sSIv <url>' },
      retryFix(),
      { text: 'Remove the live download: keep the file in the cache, a package proxy or a mirror you control.' },
    ],
    // A service on loopback or a private address is the job's own (a service container, a server it started).
    refine: (text, local) => (local || !HOST_NAMED.test(text) || LOOPBACK_NAMED.test(text) || PRIVATE_IP.test(text) ? null : /https?:\/\/[^/\s]*gitlab/i.test(text) ? 'gitlab_host_unreachable_from_job' : 'upstream_service_unavailable'),
  },
  {
    category: 'transient_failure',
    words: /Connection reset|\bECONNRESET\b|Remote end closed|closed connection|unexpected EOF(?! while looking for matching)|early EOF|RemoteDisconnected|peer closed|transfer closed|Empty reply|hung up unexpectedly/i,
    title: 'A connection was cut mid-transfer',
    cause: 'The last error lines say a connection closed or reset while data was flowing. That usually passes on a retry; when it does not, a proxy, load balancer or MTU on the way is the suspect.',
    fixes: [retryFix(), { text: 'If it keeps happening on large transfers, look at the network path (proxy timeouts, MTU of the job network).' }],
    // A server the job started itself on loopback closing a connection is that server crashing.
    refine: (text, local) => (local || LOOPBACK_NAMED.test(text) ? null : 'transient_failure'),
  },
  {
    category: 'image_wrong_architecture',
    words: /exec format error/i,
    title: 'A program was built for another CPU architecture',
    cause: 'The last error lines say "exec format error": a binary or image for another architecture (arm64 on amd64 or the reverse), or a script without its #! line.',
    fixes: [
      { text: 'Compare the image\'s architecture with the runner\'s.', snippet: 'docker image inspect --format \'{{.Os}}/{{.Architecture}}\' <image>; uname -m' },
      { text: 'Use an image (or a tag) built for the runner\'s architecture, or route the job to a matching runner with tags.' },
    ],
  },
  {
    category: 'package_not_found',
    words: /Unable to locate package|has no installation candidate|No match for argument|target not found|No matching distribution|Could not find a version that satisfies|unable to select packages|No package \S+ available|Package '[^']+' (?:is )?not (?:found|available)|No matching repo/i,
    title: 'A package is not available from the image\'s repositories',
    cause: 'The last error lines say the package manager does not know the package: it was renamed or removed in the image\'s distribution release, its repository is not enabled, or the package index was not updated first.',
    fixes: [
      { text: 'Update the index in the same step, and check the package\'s name for the image\'s release.', snippet: 'apt-get update && apt-cache policy <package>   # dnf: dnf provides <file>; apk: apk search <name>' },
      { text: 'Pin the image to the release the job was written for instead of a moving tag (latest, testing, rolling).' },
    ],
  },
  {
    category: 'command_not_found',
    words: /(?:command|program|executable|binary) ['"]?\S{0,200}['"]? ?not found|\b(?:sh|bash|dash|ash|zsh|ksh)(?:: line \d+| \d+)?: (?:\d+: )?[\w./+-]+: (?:command )?not found\s*$|not found in (?:PATH|\$PATH)|is not recognized as an internal or external command|executable file not found|Program '\S+' not found|(?:no|cannot find) '?\S+'? command|command '\S+' not found|unable to execute '|No such file or directory[^\n]{0,80}(?:exec|spawn)/i,
    title: 'A program the job needs is not in the image',
    cause: 'The last error lines say a program (or a working compiler) was not found: the image does not have it, it is not on PATH, or another shell than the one the script was written for runs it.',
    fixes: [
      { text: 'Install it in the job (or better, in the image), or use an image that has it.', snippet: 'before_script:\n  - apt-get update && apt-get install -y <package>   # apk add --no-cache <package>' },
      { text: 'Check what the image has and which shell runs the script.', snippet: 'command -v <program>; echo "$PATH"; ls -l /bin/sh' },
    ],
  },
  {
    category: 'unprivileged_container_build',
    words: /Operation not permitted|\bEPERM\b/i,
    title: 'The job container is not allowed to do this',
    cause: 'The last error lines say an operation was not permitted: mounting, devices, namespaces or other privileged operations are refused inside an unprivileged job container (or a seccomp profile refuses the call).',
    fixes: [
      { text: 'Build images with tools made for unprivileged containers (buildah --isolation chroot, kaniko), or give this runner what the job needs.', snippet: '[runners.docker]\n  privileged = true          # or, narrower:\n  cap_add = ["SYS_ADMIN"]\n  devices = ["/dev/fuse"]' },
      { text: 'Run the same command in `docker run --rm -it <image>` without and with --privileged to confirm.' },
    ],
    // chown/chmod refused is who owns the files (a mount, a non-root user), not a privileged operation.
    refine: (text) => (/\b(?:chown|chmod|chgrp|setfacl|utime|changing (?:ownership|permissions))\b/.test(text) ? null : /mknod|\/dev\/|\bloop(?!back)/i.test(text) ? 'container_device_unavailable' : 'unprivileged_container_build'),
  },
  {
    category: 'permission_denied_builds_dir',
    words: /Permission denied(?! \(publickey)|\bEACCES\b|Access is denied/i,
    title: 'The job cannot write in its build directory',
    cause: 'The last error lines say a write in the project\'s build directory was denied: files left by an earlier job run as another user (root in a container, a different runner user), or a checkout owned by someone else.',
    fixes: [
      { text: 'See who owns the directory and as whom the job runs.', snippet: 'id; ls -ld "$CI_PROJECT_DIR" "$CI_PROJECT_DIR"/*' },
      { text: 'Start from a clean checkout, and run jobs of one runner as one user.', snippet: 'variables:\n  GIT_STRATEGY: clone\n  GIT_CLEAN_FLAGS: -ffdx' },
    ],
    // Only a path in the checkout: elsewhere a denied write is the script's own business.
    refine: (text) => (/\/builds\//.test(text) ? 'permission_denied_builds_dir' : null),
  },
  {
    category: 'toolchain_version_too_old',
    words: /\b(?:requires?|needs?|minimum|at least)\b[^\n]{0,60}\b(?:version|>= ?\d|\d+\.\d+)|too old|is older than|unsupported (?:version|compiler)|newer version|not supported by (?:this|your) version|version [^\n]{0,40}is required|requires at least/i,
    title: 'A tool in the image is too old (or too new) for the project',
    cause: 'The last error lines name a version requirement: the image\'s compiler, interpreter or library is older (or newer) than the project or one of its dependencies accepts, often after a dependency update or an image tag that moved.',
    fixes: [
      { text: 'Print the version the job has and compare it with the requirement.', snippet: '<tool> --version' },
      { text: 'Use an image with the required version (pin its tag), or pin the dependency to a release that supports the image\'s version.' },
    ],
  },
  {
    category: 'yaml_config_error',
    words: /^jobs(?::\S+)+ |job needs '|chosen stage does not exist|Pipeline cannot be run|jobs config should|config contains unknown keys|\.gitlab-ci\.yml[^\n]{0,120}(?:invalid|not valid|error)|Included file [^\n]{0,200}(?:is empty|does not exist|not found)/i,
    title: 'The pipeline configuration is invalid',
    cause: 'The last error lines are GitLab\'s validation of .gitlab-ci.yml: a key, a stage, a `needs:` or an include that GitLab refuses, so no job (or not this one) was created.',
    fixes: [
      { text: 'Validate the configuration locally; the error names the job and the key.', snippet: 'glrun lint' },
      { text: 'Check `needs:` against the jobs that exist for this pipeline (rules and only/except can leave a needed job out), and stages against `stages:`.' },
    ],
  },
  {
    category: 'binary_loader_missing',
    words: /error while loading shared libraries|cannot open shared object file|version `[^`'\n]{1,60}' not found|[Uu]ndefined symbol|symbol lookup error|required file not found/,
    // A linker's undefined symbol is the build's own link error, not a program failing to load.
    refine: (text) => (/\bld(?:\.lld|\.gold)?: |\blinker\b|referenced (?:by|from)|undefined reference/.test(text) ? null : 'binary_loader_missing'),
    title: 'A program cannot load a library it was built against',
    cause: 'The last error lines say a shared library, a symbol or a symbol version is missing: the program was built for another system than the image (glibc vs musl, a newer glibc), or one package was upgraded without the libraries it needs.',
    fixes: [
      { text: 'See what the program needs and what is missing.', snippet: 'ldd <program>' },
      { text: 'Build or download the program for the image\'s system (same distribution and release), or install the missing library.' },
    ],
  },
  {
    category: 'job_timeout',
    words: /took longer than|(?:job|script|build|step|stage) (?:has )?timed out|timed out after|\bhung\b|\bhangs?\b|\bstalled\b|no output (?:has been received|for)/i,
    title: 'The job hung or ran past its time limit',
    cause: 'The last error lines say something hung or timed out. Most often a command waits for input (a prompt), a network call without a timeout, or the job simply needs more time than its limit.',
    fixes: [
      { text: 'Find the step that hangs: the last line before the timeout; make prompts non-interactive.', snippet: 'variables:\n  DEBIAN_FRONTEND: noninteractive' },
      { text: 'If the work needs longer, raise the job\'s limit.', snippet: 'job:\n  timeout: 2h' },
    ],
    refine: (text) => (/connect|resolve|\bTLS\b|handshake|\bdial\b|i\/o/i.test(text) ? 'egress_blocked_firewall' : 'job_timeout'),
  },
]

// Classes only a family's refine answers (a GitLab URL among refused connections, a device among refused operations).
const UNREACHABLE_GITLAB: Answer = {
  category: 'gitlab_host_unreachable_from_job',
  title: 'The job cannot reach the GitLab server',
  cause: 'The last error lines say a connection to the GitLab host failed from inside the job: the name or address the runner gives jobs is not reachable from the job network.',
  fixes: [
    { text: 'Check the URL jobs use and reach it from a job container.', snippet: 'echo "$CI_SERVER_URL"; curl -sSI "$CI_SERVER_URL"' },
    { text: 'Point jobs at an address they can reach.', snippet: '[[runners]]\n  clone_url = "https://<address jobs can reach>"' },
  ],
}

const DEVICE: Answer = {
  category: 'container_device_unavailable',
  title: 'The job container has no access to a device it needs',
  cause: 'The last error lines say an operation on a device (mknod, a loop device, /dev/…) was not permitted: job containers get no devices unless the runner passes them.',
  fixes: [
    { text: 'Pass the device to job containers.', snippet: '[runners.docker]\n  devices = ["/dev/loop-control", "/dev/loop0"]   # or /dev/kvm, /dev/fuse' },
    { text: 'Or avoid the device: tools that build file system images without mounting them (mtools, genext2fs, guestfish).' },
  ],
}

const BY_CATEGORY = new Map<string, Answer>([...FAMILIES, UNREACHABLE_GITLAB, DEVICE].map((f) => [f.category, f]))

/** At most two low-confidence answers from the last error lines, nearest the failure first. */
export function symptomDiagnoses(relevant: readonly EvidenceLine[]): Diagnosis[] {
  // A test's verdict or a diff it printed anywhere among the lines that matter: what the words say is its data.
  if (relevant.some((e) => VERDICT.test(e.text))) return []
  // The runner's warnings are context (a fallback it took, a deprecation), rarely the failure itself.
  const lines = relevant.filter((e) => !e.text.startsWith('$ ') && !/^WARNING: /.test(e.text)).slice(-4)
  const command = [...relevant].reverse().find((e) => e.text.startsWith('$ '))
  const local = command !== undefined && LOOPBACK_NAMED.test(command.text)
  const found: { family: Answer; line: EvidenceLine }[] = []
  for (const line of [...lines].reverse()) {
    const family = firstFamily(line.text, local)
    if (family && !found.some((f) => f.family === family)) found.push({ family, line })
  }
  return found.slice(0, 2).map(({ family, line }, i) => ({
    category: family.category,
    title: `${family.title} (broad match on the error line)`,
    cause: `${family.cause} No more specific pattern matched, so this is a guess from the words of the line; read it with the lines below.`,
    evidence: [line],
    fixes: family.fixes,
    confidence: i === 0 ? 0.25 : 0.2,
  }))
}

function firstFamily(text: string, local: boolean): Answer | undefined {
  for (const f of FAMILIES) {
    if (!f.words.test(text)) continue
    const category = f.refine ? f.refine(text, local) : f.category
    if (category === null) continue
    return BY_CATEGORY.get(category)
  }
  return undefined
}

/** Every class this tier can answer (a test checks each is a taxonomy id). */
export const SYMPTOM_CATEGORIES: ReadonlySet<string> = new Set(BY_CATEGORY.keys())
