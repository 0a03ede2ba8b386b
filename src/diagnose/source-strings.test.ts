import { describe, expect, it } from 'vitest'
import { diagnose } from './engine.js'
import { parseTrace } from './trace.js'

/**
 * Error texts as the tools themselves emit them, read in their source code (not corpus entries:
 * no one posted these exact lines). Each format string is filled in the way the tool fills it,
 * wrapped the way gitlab-runner wraps it when it reaches the job log, and must land on its
 * category from the error line alone, without any section marker. The comment next to each
 * string names the repository and file the wording comes from.
 */
const step = (...lines: string[]): string => ['Executing "step_script" stage of the job script', ...lines, 'ERROR: Job failed: exit code 1'].join('\n')
// gitlab-runner common/build.go: "prepare environment: %w. Check https://…#shell-profile-loading …" then "Job failed (system failure):".
const prepare = (err: string): string => `ERROR: Job failed (system failure): prepare environment: ${err}. Check https://docs.gitlab.com/runner/shells/#shell-profile-loading for more information`
// gitlab-runner executors/kubernetes/kubernetes.go: `Event retrieved from the cluster: %s` (pod events, as warnings).
const event = (msg: string): string => `WARNING: Event retrieved from the cluster: ${msg}`
const SHA = '3f2a9c1e0b7d4a6f8e2c1b0a9d8e7f6a5b4c3d2e'

const cases: [string, string, string, string?][] = [
  // --- gitlab-runner ---
  // gitlab-runner executors/kubernetes/util.go: "timed out waiting for pod to start (last phase: %s)", wrapped by kubernetes.go "waiting for pod running: %w"
  ['runner: pod never started', prepare('waiting for pod running: timed out waiting for pod to start (last phase: Pending)'), 'pod_pending_unschedulable'],
  // gitlab-runner executors/internal/autoscaler/executor.go: "unable to acquire instance within the configured timeout of %s: %w"
  ['autoscaler: no instance in time', prepare('unable to acquire instance within the configured timeout of 15m0s: context deadline exceeded'), 'machine_provisioning_failed'],
  // gitlab-runner executors/internal/autoscaler/acquisition.go: "dialing nesting daemon: %w"
  ['autoscaler: nesting daemon', prepare('dialing nesting daemon: dial unix /var/run/nesting.sock: connect: no such file or directory'), 'machine_provisioning_failed'],
  // gitlab-runner docs/executors/docker_autoscaler.md: an instance removed from outside (ASG, script) under the job
  ['autoscaler: instance removed (tunnel EOF)', 'ERROR: Job failed (system failure): error during connect: Post "http://internal.tunnel.invalid/v1.43/containers/xyz/wait?condition=not-running": ssh tunnel: EOF ()', 'machine_provisioning_failed'],
  ['autoscaler: instance unexpectedly removed', 'ERROR: instance unexpectedly removed    instance=i-0abc123 max-use-count=9999 runner=XYZ slots=map[] subsystem=taskscaler used=45', 'machine_provisioning_failed'],
  // gitlab-runner executors/docker/docker.go: "dialing environment connection: %w" (docs/faq: the instance's daemon unreachable over SSH)
  ['autoscaler: daemon behind the tunnel', 'ERROR: Preparation failed: preparing environment: dialing environment connection: ssh: rejected: connect failed (open failed)', 'machine_provisioning_failed'],
  // gitlab-runner docs/executors/instance.md: "sh: 1: eval: Running on ip-x.x.x.x via runner-host...n: not found" (switch to bash)
  ['instance executor: preparation under dash', 'sh: 1: eval: Running on ip-10-0-0-5 via runner-host...n: not found', 'shell_mismatch'],
  // gitlab-runner executors/kubernetes/internal/watchers/pod.go: `pod %q is disrupted: reason %q, message %q`
  ['runner: pod disrupted', 'ERROR: Job failed (system failure): pod "gitlab/runner-abc123-project-1-concurrent-0" is disrupted: reason "EvictionByEvictionAPI", message "Eviction API: evicting"', 'transient_failure'],

  // moby daemon/errors.go: "Conflict. The container name %q is already in use by container %q. You have to remove (or rename) …"
  ['docker: container name taken', 'ERROR: Job failed (system failure): Error response from daemon: Conflict. The container name "/runner-abc123-project-1-concurrent-0-cache-3c3f060a0374fc8bc39395164f415a70" is already in use by container "4f1c9d7e2b3a". You have to remove (or rename) that container to be able to reuse that name. (docker.go:1234:0s)', 'transient_failure'],

  // --- GitLab's failure-reason texts (gitlab-org/gitlab app/presenters/commit_status_presenter.rb), pasted from the job page ---
  ['GitLab: job_execution_timeout', 'The script exceeded the maximum execution time set for the job', 'job_timeout'],
  ['GitLab: no_matching_runner', 'No matching runner available', 'no_matching_runner'],
  ['GitLab: trace_size_exceeded', 'The job log size limit was reached', 'job_log_limit_exceeded'],
  ['GitLab: runner_unsupported', 'Your runner is outdated, please upgrade your runner', 'runner_version_bug'],
  ['GitLab: api_failure', 'There has been an API failure, please try again', 'gitlab_server_error'],

  // --- Kubernetes API failures as gitlab-runner documents them (docs/executors/kubernetes/troubleshooting.md) ---
  // "A failure from an admission control webhook may instead appear as: …failed calling webhook…"
  ['k8s: webhook cannot be called', 'ERROR: Job failed (system failure): prepare environment: setting up credentials: Internal error occurred: failed calling webhook "example.webhook.service"', 'kubernetes_admission_denied'],
  // "…when an admission control webhook times out: …Timeout: request did not complete within requested timeout"
  ['k8s: webhook timeout', 'ERROR: Job failed (system failure): prepare environment: Timeout: request did not complete within requested timeout', 'kubernetes_admission_denied'],
  // "kube-apiserver error response … (such as the Kubernetes cluster's etcdserver)"
  ['k8s: etcd timed out', 'ERROR: Job failed (system failure): prepare environment: etcdserver: request timed out', 'transient_failure'],
  ['k8s: etcd leader changed', 'ERROR: Job failed (system failure): prepare environment: etcdserver: leader changed', 'transient_failure'],
  ['k8s: API client deadline', 'ERROR: Job failed (system failure): prepare environment: setting up build pod: context deadline exceeded', 'transient_failure'],
  // "Error: only read-only root filesystem container is allowed" (Gatekeeper's readOnlyRootFilesystem policy)
  ['k8s: read-only root filesystem policy', 'only read-only root filesystem container is allowed: build', 'kubernetes_admission_denied'],
  // same doc: kube-apiserver refusing the runner's calls while it waits for the pod (overloaded control plane)
  ['k8s: API refused while waiting', 'ERROR: Job failed (system failure): prepare environment: waiting for pod running: Get "https://10.0.0.1:443/api/v1/namespaces/gitlab-runner/pods/runner-0001": dial tcp 10.0.0.1:443: connect: connection refused', 'transient_failure'],
  // gitlab-runner docs/install/kubernetes_troubleshooting.md: "Job failed (system failure): secrets is forbidden: User …" (cut after the user)
  ['k8s: RBAC, cut after the user', 'ERROR: Job failed (system failure): secrets is forbidden: User "system:serviceaccount:gitlab:default"', 'kubernetes_rbac_forbidden'],
  // same doc: "[rootlesskit:child ] error: failed to share mount point: /: permission denied" (AppArmor blocks rootlesskit)
  ['k8s: rootlesskit under AppArmor', step('$ buildctl-daemonless.sh build --frontend dockerfile.v0 --local context=. --local dockerfile=.', '[rootlesskit:child ] error: failed to share mount point: /: permission denied'), 'unprivileged_container_build'],
  // same doc, non-root image with HOME=/root; git config.c: error_errno(_("could not lock config file %s"), …)
  ['git: HOME not writable (config lock)', step('$ git config --global user.email ci@example.com', 'error: could not lock config file /root/.gitconfig: Permission denied'), 'permission_denied_non_root'],
  // git wrapper.c: die_errno(_("unable to access '%s'"), path) on ~/.gitconfig
  ['git: HOME not readable', "fatal: unable to access '/root/.gitconfig': Permission denied", 'permission_denied_non_root'],

  // --- git ---
  // git fetch-pack.c: die(_("fetch-pack: invalid index-pack output"))
  ['git: index-pack output', 'fatal: fetch-pack: invalid index-pack output', 'transient_failure'],
  // git fetch-pack.c: die(_("%s failed"), cmd_name) with cmd_name "index-pack"
  ['git: index-pack failed', 'fatal: index-pack failed', 'transient_failure'],
  // git prompt.c: die("could not read %s%s", prompt, err); credential.c builds the prompt "%s for '%s': " (Password)
  ['git: password prompt', "fatal: could not read Password for 'https://gitlab-ci-token@gitlab.example.com': No such device or address", 'git_auth_job_token'],
  // git upload-pack.c: "upload-pack: not our ref %s", relayed by pkt-line.c: die(_("remote error: %s"))
  ['git: not our ref', `fatal: remote error: upload-pack: not our ref ${SHA}`, 'shallow_clone_missing_ref'],
  // git fetch-pack.c: error(_("Server does not allow request for unadvertised object %s"))
  ['git: unadvertised object', `error: Server does not allow request for unadvertised object ${SHA}`, 'shallow_clone_missing_ref'],
  // git setup.c as of v2.35.2 (commit 8959555cee): die(_("unsafe repository ('%s' is owned by someone else)…"))
  ['git 2.35.2: unsafe repository', "fatal: unsafe repository ('/builds/acme/app' is owned by someone else)", 'permission_denied_builds_dir'],
  // git sideband.c: "%s%s: unexpected disconnect while reading sideband packet" (me = "fetch-pack")
  ['git: sideband disconnect', 'fatal: fetch-pack: unexpected disconnect while reading sideband packet', 'transient_failure'],
  // git remote-curl.c: error(_("RPC failed; %s"), …) with curl's code and lib/strerror.c text for CURLE_HTTP2 (16)
  ['git+curl 16: HTTP/2 framing', 'error: RPC failed; curl 16 Error in the HTTP2 framing layer', 'transient_failure'],
  // same, curl lib/strerror.c for CURLE_SEND_ERROR (55)
  ['git+curl 55: send failure', 'error: RPC failed; curl 55 Failed sending data to the peer', 'transient_failure'],
  // curl lib/cf-socket.c: failf(data, "Recv failure: %s", …), inside git http.c's "unable to access '%s': %s"
  ['curl via git: reset by peer', "fatal: unable to access 'https://gitlab.example.com/acme/app.git/': Recv failure: Connection reset by peer", 'transient_failure'],

  // --- Docker (moby) ---
  // moby daemon/images/image.go: "image with reference %s was found but its platform (%s) does not match the specified platform (%s)"
  ['docker: local image of another platform', step('$ docker run --rm --platform linux/amd64 acme/tool:1', 'docker: Error response from daemon: image with reference acme/tool:1 was found but its platform (linux/arm64) does not match the specified platform (linux/amd64)'), 'image_wrong_architecture'],
  // moby daemon/images (commit c16be54040, 2024): "image with reference … was found but does not provide the specified platform (%s)"
  ['docker 27: does not provide the platform', step('$ docker run --rm --platform linux/arm64 alpine:latest', 'Error response from daemon: image with reference alpine:latest was found but does not provide the specified platform (linux/arm64)'), 'image_wrong_architecture'],
  // moby daemon/internal/distribution/config.go: "image operating system %q cannot be used on this platform"
  ['docker: windows image on linux', step('$ docker pull mcr.microsoft.com/windows/servercore:ltsc2022', 'image operating system "windows" cannot be used on this platform'), 'image_wrong_architecture'],

  // gitlab-runner docs/executors/docker.md (pull policies, older runners): "Pulling docker image … ERROR: Build failed: Error: image … not found"
  ['runner (old): image not found', 'Pulling docker image registry.example.com/my/image:latest ...\nERROR: Build failed: Error: image registry.example.com/my/image:latest not found', 'image_not_found'],
  // gitlab-runner docs/executors/docker_machine.md: "ERROR: Error creating machine: Error running provisioning: error installing docker"
  ['docker+machine: provisioning', 'ERROR: Error creating machine: Error running provisioning: error installing docker: ', 'machine_provisioning_failed'],
  // gitlab-runner executors/docker/internal/pull/manager.go: "failed to pull image %q with specified policies %v: %w";
  // with ["never"] the error is the inspect's, moby daemon/images/image.go: "No such image: " + name
  ['runner: never pull policy (docker)', 'ERROR: Job failed: failed to pull image "app:local" with specified policies [never]: Error response from daemon: No such image: app:local (manager.go:251:0s)', 'image_not_found'],

  // --- kubelet / kernel / scheduler (through the runner's event warnings) ---
  // kubernetes pkg/kubelet/images/image_manager.go: "Container image %q is not present with pull policy of Never"
  ['kubelet: never pull', event('Container image "app:local" is not present with pull policy of Never'), 'image_not_found', 'kubernetes'],
  // kubernetes pkg/kubelet/eviction/helpers.go: "Container %s exceeded its local ephemeral storage limit %q. "
  ['kubelet: container ephemeral storage', event('Container build exceeded its local ephemeral storage limit "2Gi". '), 'no_space_left_on_device'],
  // kubernetes pkg/kubelet/eviction/helpers.go: "Pod ephemeral local storage usage exceeds the total limit of containers %s. "
  ['kubelet: pod ephemeral storage', event('Pod ephemeral local storage usage exceeds the total limit of containers 4Gi. '), 'no_space_left_on_device'],
  // kubernetes pkg/kubelet/eviction/helpers.go: "Usage of EmptyDir volume %q exceeds the limit %q. "
  ['kubelet: emptyDir limit', event('Usage of EmptyDir volume "repo" exceeds the limit "1Gi". '), 'no_space_left_on_device'],
  // kubernetes pkg/kubelet/oom/oom_watcher_linux.go: "System OOM encountered" + ", victim process: %s, pid: %d"
  ['kubelet: system OOM', event('System OOM encountered, victim process: node, pid: 4242'), 'oom_killed'],
  // linux mm/oom_kill.c: oom_kill_process(oc, "Memory cgroup out of memory") → "%s: Killed process %d (%s) total-vm:%lukB, …"
  ['kernel: cgroup OOM kill', 'Memory cgroup out of memory: Killed process 4242 (java) total-vm:8388608kB, anon-rss:4194304kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:8400kB oom_score_adj:0', 'oom_killed'],
  // kubernetes pkg/scheduler/framework/plugins/nodeports/node_ports.go: ErrReason "node(s) didn't have free ports for the requested pod ports"
  ['scheduler: host ports', event("0/3 nodes are available: 3 node(s) didn't have free ports for the requested pod ports."), 'pod_pending_unschedulable'],
  // kubernetes pkg/scheduler/framework/plugins/volumebinding/binder.go: ErrReasonNodeConflict "node(s) had volume node affinity conflict"
  ['scheduler: volume affinity', event('0/3 nodes are available: 3 node(s) had volume node affinity conflict.'), 'pod_pending_unschedulable'],

  // --- name resolution and TLS, in the wording of other clients ---
  // apt methods/connect.cc (Debian/apt): _error->Error(_("Could not resolve '%s'"), Host.c_str())
  ['apt: could not resolve', step('$ apt-get update', 'Err:1 http://archive.ubuntu.com/ubuntu jammy InRelease', "  Could not resolve 'archive.ubuntu.com'"), 'dns_resolution_failure'],
  // rustls rustls/src/error/mod.rs: "invalid peer certificate: {err}" with the CertificateError variant's name (uv, cargo tools)
  ['rustls: unknown issuer', step('$ uv pip install -r requirements.txt', '  Caused by: invalid peer certificate: UnknownIssuer'), 'tls_untrusted_ca'],
  ['rustls: not valid for name', step('$ uv pip install -r requirements.txt', '  Caused by: invalid peer certificate: NotValidForName'), 'tls_certificate_name_mismatch'],
  // rustls rustls/src/error/mod.rs (newer): "certificate expired: verification time {} (UNIX), but certificate is not valid after {} ({} seconds ago)"
  ['rustls: expired (with times)', step('$ uv pip install -r requirements.txt', '  Caused by: invalid peer certificate: certificate expired: verification time 1764547200 (UNIX), but certificate is not valid after 1764460800 (86400 seconds ago)'), 'tls_certificate_expired'],
  // rustls rustls/src/error/mod.rs (newer): "certificate not valid for name {:?}; certificate is only valid for {one}"
  ['rustls: name (with names)', step('$ uv pip install -r requirements.txt', '  Caused by: invalid peer certificate: certificate not valid for name "pypi.corp.example"; certificate is only valid for DnsName("proxy.corp.example")'), 'tls_certificate_name_mismatch'],
  // openjdk src/java.base/share/classes/sun/security/util/HostnameChecker.java: "No subject alternative DNS name matching " + name + " found."
  ['java: no SAN for the name', step('$ mvn -B package', '[ERROR] Could not transfer artifact a:b:pom:1 from/to nexus (https://nexus.corp.example/repository/maven/): java.security.cert.CertificateException: No subject alternative DNS name matching nexus.corp.example found.'), 'tls_certificate_name_mismatch'],
  // same file: "No subject alternative names matching IP address " + ip + " found"
  ['java: no SAN for the IP', step('$ ./gradlew publish', '> java.security.cert.CertificateException: No subject alternative names matching IP address 10.0.0.9 found'), 'tls_certificate_name_mismatch'],
  // openjdk src/java.base/share/classes/sun/security/x509/CertificateValidity.java: new CertificateExpiredException("NotAfter: " + notAfter)
  ['java: expired', step('$ mvn -B package', 'Caused by: java.security.cert.CertificateExpiredException: NotAfter: Sat Jan 01 00:00:00 UTC 2022'), 'tls_certificate_expired'],
  // golang/go src/crypto/tls/common.go: "tls: failed to verify certificate: %s" around crypto/x509's "x509: certificate signed by unknown authority",
  // from the docker CLI talking to dind on tcp://docker:2376 with another daemon's client certificates
  ['docker CLI: dind CA mismatch', step('$ docker info', 'error during connect: Get "https://docker:2376/v1.24/info": tls: failed to verify certificate: x509: certificate signed by unknown authority'), 'dind_tls_mismatch'],

  // --- running out of memory, in the runtimes' and compilers' own words ---
  // php-src Zend/zend_alloc.c: "Allowed memory size of %zu bytes exhausted (tried to allocate %zu bytes)" (PHP's memory_limit)
  ['php: memory_limit', step('$ composer install', 'PHP Fatal error:  Allowed memory size of 1610612736 bytes exhausted (tried to allocate 4096 bytes) in phar:///usr/bin/composer/src/Composer/DependencyResolver/Solver.php on line 223'), 'oom_killed'],
  // rust-lang/rust library/alloc/src/alloc.rs (__rdl_oom): "memory allocation of {size} bytes failed"
  ['rust: allocation failed', step('$ cargo test --release', 'memory allocation of 1073741824 bytes failed'), 'oom_killed'],
  // gcc-mirror/gcc gcc/collect-utils.cc: fatal_error(…, "%s terminated with signal %d [%s]%s", prog, sig, strsignal(sig), …)
  ['gcc: linker SIGKILLed', step('$ make -j8', 'collect2: fatal error: ld terminated with signal 9 [Killed]', 'compilation terminated.'), 'oom_killed'],
  // gcc-mirror/gcc libstdc++-v3/libsupc++/vterminate.cc: "terminate called after throwing an instance of '" + type + "'"
  ['libstdc++: bad_alloc', step('$ ./build/unit-tests', "terminate called after throwing an instance of 'std::bad_alloc'", '  what():  std::bad_alloc'), 'oom_killed'],

  // --- a program missing, as other programs report it ---
  // nodejs/node lib/internal/child_process.js: errnoException(exitCode, 'spawn ' + this.spawnfile) → "spawn git ENOENT"
  ['node: spawn ENOENT', step('$ npx semantic-release', 'Error: spawn git ENOENT', '    at ChildProcess._handle.onexit (node:internal/child_process:284:19)'), 'command_not_found'],
  // openjdk java/lang/ProcessBuilder.java: "Cannot run program \"" + prog + "\"" + ": " + cause ("error=2, No such file or directory")
  ['java: cannot run program', step('$ ./gradlew build', '> java.io.IOException: Cannot run program "git": error=2, No such file or directory'), 'command_not_found'],
  // GNU make src/job.c before commit 1129df27: "%s: %s: Command not found"; since then error("%s: %s", argv[0], strerror(errno))
  ['make: command not found (old)', step('$ make', 'make: gcc: Command not found', 'make: *** [Makefile:3: all] Error 127'), 'command_not_found'],
  ['make: no such file (4.3+)', step('$ make', 'make: gcc: No such file or directory', 'make: *** [Makefile:3: all] Error 127'), 'command_not_found'],

  // --- shells and env(1) ---
  // bash execute_cmd.c: sys_error("%s: %s: %s", command, interp, _("bad interpreter")) — a #! shell the image lacks
  ['bash: bad interpreter', step('$ ./ci/build.sh', 'bash: line 140: ./ci/build.sh: /usr/bin/zsh: bad interpreter: No such file or directory'), 'shell_mismatch'],
  // bash execute_cmd.c, same message for a #! line ending in CR (file committed with CRLF)
  ['bash: CRLF interpreter', step('$ ./ci/build.sh', 'bash: line 140: ./ci/build.sh: /bin/bash^M: bad interpreter: No such file or directory'), 'shell_mismatch'],
  // bash execute_cmd.c: internal_error("%s: %s", printable_filename(pathname), "command not found") — a CR quoted as $'\r'
  ['bash: CR as a command', step('$ ./build.sh', "./build.sh: line 2: $'\\r': command not found"), 'shell_mismatch'],
  // coreutils src/env.c: error(0, errno, "%s", quote(program)) — `#!/usr/bin/env bash` in an image without bash
  ['coreutils env: no bash', step('$ ./ci/build.sh', "/usr/bin/env: 'bash': No such file or directory"), 'shell_mismatch'],
  // busybox libbb/executable.c: bb_perror_msg_and_die("can't execute '%s'", argv[0]) — busybox env, Alpine
  ['busybox env: no bash', step('$ ./ci/build.sh', "env: can't execute 'bash': No such file or directory"), 'shell_mismatch'],
]

describe('rules fire on the tools\' own error strings', () => {
  it.each(cases)('%s', (_name, log, category, executor) => {
    const r = diagnose({ trace: parseTrace(log), ...(executor ? { executor } : {}) })
    expect(r.diagnoses[0]?.category).toBe(category)
    // Above the 0.30 "kind of failure" fallback: a named cause, not only a guess at the kind.
    expect(r.diagnoses[0]?.confidence).toBeGreaterThan(0.3)
  })

  it('env naming a shell is the wrong shell; naming a tool, a missing command', () => {
    // coreutils src/env.c, same message for `#!/usr/bin/env bash` and `#!/usr/bin/env python3`
    const first = (prog: string): string | undefined => diagnose({ trace: parseTrace(step('$ ./ci/run', `/usr/bin/env: '${prog}': No such file or directory`)) }).diagnoses[0]?.category
    expect([first('bash'), first('python3')]).toEqual(['shell_mismatch', 'command_not_found'])
  })

  it('a CRLF #! line is told apart from a missing shell', () => {
    const crlf = diagnose({ trace: parseTrace(cases.find((c) => c[0] === 'bash: CRLF interpreter')?.[1] ?? '') }).diagnoses[0]
    expect(crlf?.title).toContain('Windows line endings')
    expect(crlf?.fixes[0]?.snippet).toContain('eol=lf')
    const zsh = diagnose({ trace: parseTrace(cases.find((c) => c[0] === 'bash: bad interpreter')?.[1] ?? '') }).diagnoses[0]
    expect(zsh?.title).toContain('/usr/bin/zsh')
  })

  it('the pod timeout with its Pending wait ranks above the timeout alone', () => {
    const alone = diagnose({ trace: parseTrace(cases[0]?.[1] ?? '') }).diagnoses[0]
    const withWait = diagnose({ trace: parseTrace(['Waiting for pod gitlab/runner-abc-project-1-concurrent-0 to be running, status is Pending', cases[0]?.[1] ?? ''].join('\n')) }).diagnoses[0]
    expect(alone?.category).toBe('pod_pending_unschedulable')
    expect(withWait?.confidence).toBeGreaterThan(alone?.confidence ?? 1)
  })
})
