import { Scan, diagnosis, evidence, hostOf, phaseName } from '../scan.js'
import type { Diagnosis, Fix, Rule } from '../types.js'
import { retryFix } from '../snippets.js'

/**
 * Failures inside the job's own commands that still have a cause outside the project: SSH from
 * the script (host keys, deploy keys), building images without privileges (buildah, podman),
 * images or binaries for another CPU architecture, and a reused checkout left broken by an
 * earlier job. These are worded by the tools themselves, so they match on the error line alone.
 */

const HOST_KEY = /^Host key verification failed\.?$|Failed to connect to the host via ssh: Host key verification failed|Server '(?:\[[\w.:-]+\]:\d+|[\w.-]+)' not found in known_hosts|knownhosts: key (?:is unknown|mismatch)|REMOTE HOST IDENTIFICATION HAS CHANGED|No (?:RSA|ECDSA|ED25519) host key is known for|Host key for \S+ has changed/
const PUBLICKEY = /Permission denied \((?:publickey[^)]*)\)|sign_and_send_pubkey: signing failed|(?:Load|Error loading) key "[^"]*": invalid format|error in libcrypto|Could not open a connection to your authentication agent|This deploy key does not have write access to this project/
const REMOTE = /Could not read from remote repository|git@([\w.-]+):|ssh:\/\/(?:[\w.-]+@)?([\w.-]+)|ssh: connect to host ([\w.-]+)/
const UNPRIVILEGED = /remount \/, flags: 0x\w+: permission denied|creating new mount namespace.*operation not permitted|mounting an overlay over build context directory|'overlay' is not supported over overlayfs|mount_program is required|error (?:creating|running) (?:libpod runtime|container): .*(?:operation not permitted|permission denied)|cannot clone: Operation not permitted|newuidmap: write to uid_map failed|there might not be enough IDs available in the namespace|kernel does not support overlay fs|unshare: operation not permitted|error mounting "proc" to rootfs|Error: cannot setup namespace using newuidmap|failed to share mount point: \/: permission denied|user namespaces are not enabled in \/proc\/sys\/user\/max_user_namespaces|Error during unshare\(CLONE_NEWUSER\): Operation not permitted|potentially insufficient UIDs or GIDs available in user namespace|Error processing tar file\(exit status 1\): operation not permitted|open \/var\/lib\/containers\/storage\/\S+: permission denied|systemd cgroup flag passed, but systemd support for managing cgroups is not available|vfs driver does not support overlay\.mountopt options/i
const ARCH = /exec (?:user process caused:? )?"?exec format error"?|exec format error|The requested image's platform \(([\w/]+)\) does not match the detected host platform \(([\w/]+)\)|no matching manifest for (linux\/[\w/]+) in the manifest list|cannot execute binary file: Exec format error|was found but (?:its platform \(([\w/]+)\) )?does not (?:match|provide) the specified platform|image operating system "(\w+)" cannot be used on this platform/i
const WORKTREE = /fatal: shallow file has changed since we read it|Unable to create '([^']*\.git\/(?:index|shallow|HEAD|[\w/]+)\.lock)': File exists|error: cannot lock ref '([^']+)'|fatal: index file corrupt|error: object file \S+ is empty|fatal: loose object \S+ .* is corrupt|fatal: packed object \S+ .* is corrupt|error: Could not read [0-9a-f]{40}|fatal: bad object HEAD|fatal: not a git repository.*\/builds\/|fatal: not a git repository: \S*\.git\/(?:modules|worktrees)\/|fatal: (?:invalid gitfile format|no path in gitfile): /

const SKIPPED_SUBMODULES = /^Skipping Git submodules setup/
// What a build says when a directory that a submodule should fill is empty.
// (A file path, not a command: "command not found" is another diagnosis.)
// Paths start at a token boundary (a lookbehind), so a long run of path characters is scanned once, not from every position.
const MISSING_FILE = /(?<![\w./-])[\w.-]*\/[\w./-]+['"]?:? No such file or directory|No rule to make target|fatal error: [^:]+: No such file|does not contain a CMakeLists\.txt|(?:directory|path|file) ['"]?(?<![\w./-])[\w.-]*\/[\w./-]+['"]? (?:does not exist|not found)/i

function sshHost(s: Scan, n: number): string | undefined {
  const near = s.near(n, REMOTE, 4)
  const cmd = s.commandAt(n)
  const m = REMOTE.exec(cmd?.text ?? '') ?? near?.m
  return m?.[1] ?? m?.[2] ?? m?.[3] ?? hostOf(/ssh:\/\/\S+/.exec(cmd?.text ?? '')?.[0])
}

function hostKey(s: Scan): Diagnosis[] {
  const hit = s.last(HOST_KEY)
  if (!hit) return []
  // Ansible names its inventory host in brackets, paramiko and x/crypto the server they dialled: not a git remote.
  const deploy = /^fatal: \[([^\]]+)\]: UNREACHABLE!|Server '\[?([\w.-]+)/.exec(hit.line.text)
  const remoteTool = deploy !== null || /knownhosts: key/.test(hit.line.text)
  const host = deploy?.[1] ?? deploy?.[2] ?? sshHost(s, hit.line.n) ?? (remoteTool ? '<server>' : '<git host>')
  const changed = /CHANGED|has changed|key mismatch/.test(hit.line.text)
  return [diagnosis('ssh_host_key_verification_failed', `ssh does not know the host key of ${host}`,
    changed
      ? `The key ${host} presents differs from the one in known_hosts (the server was rebuilt, or something intercepts the connection).`
      : `ssh in the job has no known_hosts entry for ${host} and cannot ask (no terminal), so it refuses to connect; the key itself may be fine.`,
    evidence(s.commandAt(hit.line.n), hit, s.near(hit.line.n, /Could not read from remote repository/, 2)), [
      { text: 'Pin the server\'s host key in a CI/CD variable (file type, value from `ssh-keyscan <host>` checked against the server) and install it.', snippet: `before_script:\n  - mkdir -p ~/.ssh && chmod 700 ~/.ssh\n  - cp "$SSH_KNOWN_HOSTS" ~/.ssh/known_hosts && chmod 644 ~/.ssh/known_hosts` },
      { text: `Shell executor: add it once for the runner user.`, snippet: `sudo -u gitlab-runner sh -c 'ssh-keyscan ${host} >> ~/.ssh/known_hosts'` },
      ...(remoteTool ? [] : [{ text: 'Cloning another GitLab project: use HTTPS with the job token instead of SSH.', snippet: 'git clone "https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/<group>/<project>.git"' }]),
    ], 0.85)]
}

function publickey(s: Scan): Diagnosis[] {
  const hit = s.last(PUBLICKEY)
  if (!hit) return []
  const host = sshHost(s, hit.line.n)
  return [diagnosis('ssh_publickey_denied', `${host ?? 'The SSH server'} refused the job's key`,
    `ssh offered no key the server accepts${host ? ` (${host})` : ''}: the private key variable is missing, empty on this ref (protected variable), not loaded into ssh-agent (CRLF, no trailing newline, passphrase), or its public half is not a deploy key with access.`,
    evidence(s.commandAt(hit.line.n), hit, s.near(hit.line.n, /Could not read from remote repository/, 2)), [
      { text: 'Load the key from a CI/CD variable into ssh-agent (file-type variable, with a trailing newline).', snippet: 'before_script:\n  - eval $(ssh-agent -s)\n  - chmod 400 "$SSH_PRIVATE_KEY"\n  - ssh-add "$SSH_PRIVATE_KEY"' },
      { text: 'Add the public key as a deploy key (with write access if the job pushes) on the target repository; test with ssh -T git@<host>.' },
      { text: 'If the variable is protected, the job must run on a protected branch or tag.' },
    ], 0.85)]
}

// gitlab-shell's answer over SSH when the key's user (or deploy key) has no access to the project.
const SSH_NO_PROJECT = /The project you were looking for could not be found or you don't have permission to view it/
// sshd closing or resetting before its banner: MaxStartups throttling, a per-IP rate limit (GitLab.com limits SSH connections), or a firewall.
const SSH_BANNER = /kex_exchange_identification: (?:Connection closed by remote host|read: Connection reset by peer)/

function sshNoProject(s: Scan): Diagnosis[] {
  const hit = s.last(SSH_NO_PROJECT)
  if (!hit) return []
  const host = sshHost(s, hit.line.n)
  const cmd = s.commandAt(hit.line.n)?.text ?? ''
  if (!host || !/git@|ssh:\/\//.test(`${cmd} ${s.near(hit.line.n, REMOTE, 4)?.line.text ?? ''}`)) return []
  return [diagnosis('ssh_publickey_denied', `${host} accepted the key but not for this project`,
    `GitLab's SSH server knows the key the job offered, but the user (or deploy key) behind it has no access to that project, or the project path is wrong: it answers "not found" rather than revealing the project.`,
    evidence(cmd ? s.commandAt(hit.line.n) : undefined, hit), [
      { text: 'Enable the deploy key on the target project (Settings > Repository > Deploy keys), with write access if the job pushes; or use a key of a user who is a member.' },
      { text: 'Check the project path in the SSH URL (group/subgroup/project).' },
      { text: 'Cloning another GitLab project from a job: HTTPS with the job token avoids keys altogether (allow it in the target project\'s job token settings).', snippet: 'git clone "https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/<group>/<project>.git"' },
    ], 0.5)]
}

function sshBanner(s: Scan): Diagnosis[] {
  const hit = s.last(SSH_BANNER)
  if (!hit) return []
  const host = sshHost(s, hit.line.n) ?? /(?:Connection (?:closed|reset) by) ([\w.:-]+) port/.exec(s.near(hit.line.n, /Connection (?:closed|reset) by \S+ port/, 2)?.line.text ?? '')?.[1] ?? 'the SSH server'
  const reset = /reset/.test(hit.line.text)
  const fixes = [
    retryFix(),
    { text: 'Many parallel jobs opening SSH connections at once trip sshd\'s MaxStartups (and GitLab.com\'s SSH rate limit): fetch over HTTPS with the job token, or space the jobs out.', snippet: 'git clone "https://gitlab-ci-token:${CI_JOB_TOKEN}@${CI_SERVER_HOST}/<group>/<project>.git"' },
    { text: `If it happens every time, a firewall or IDS on the way to ${host} cuts SSH: test from the runner host with ssh -vT.`, snippet: `ssh -vT git@${host}` },
  ]
  const cause = `${host} ${reset ? 'reset' : 'closed'} the SSH connection before it even sent its banner: the server refused more connections for now (sshd MaxStartups or a rate limit), or something on the way dropped it. The key and the project never came into play.`
  return [
    diagnosis('transient_failure', `${host} dropped the SSH connection at the start`, cause, evidence(s.commandAt(hit.line.n), hit), fixes, 0.5),
    ...(reset ? [diagnosis('network_connection_reset', `The SSH connection to ${host} was reset`, cause, evidence(hit), fixes, 0.45)] : []),
  ]
}

// Git for Windows (and Windows tools) past MAX_PATH (260 characters): "unable to create file <path>: Filename too long".
const LONG_PATH = /^(?:error: unable to create file |error: cannot stat '|fatal: cannot create directory at '|error: unable to index file |fatal: could not create work tree dir ')?(.+?)'?: Filename too long$/

function longPath(s: Scan): Diagnosis[] {
  const hit = s.last(LONG_PATH)
  if (!hit) return []
  const path = hit.m[1] ?? '<path>'
  return [diagnosis('windows_path_too_long', 'A path is longer than Windows allows',
    `Creating ${path.length > 100 ? `${path.slice(0, 60)}…${path.slice(-30)}` : path} failed with "Filename too long": with the build directory in front it is past Windows' 260-character MAX_PATH, which Git for Windows honours unless core.longpaths is set.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Let git use long paths on the runner (system config of the host, or of the helper/job image for Windows containers).', snippet: 'git config --system core.longpaths true' },
      { text: 'Shorten the prefix: a short builds_dir in config.toml, or a short clone path per job.', snippet: '[[runners]]\n  builds_dir = "C:\\\\b"\n# or, with custom_build_dir enabled:\nvariables:\n  GIT_CLONE_PATH: $CI_BUILDS_DIR/p' },
      { text: 'Windows itself: enable long paths (LongPathsEnabled = 1 under HKLM\\SYSTEM\\CurrentControlSet\\Control\\FileSystem) for tools other than git.' },
    ], 0.85)]
}

// A new distribution image on an old container runtime: its seccomp profile refuses system calls the
// image's glibc now uses (clone3, faccessat2), and they fail as EPERM where no such error is expected.
// GLib aborts when clock_gettime fails: in a 32-bit image on an old runtime, the time64 variant is refused.
// coreutils' "cannot access" on a path of the image itself is faccessat2/statx refused (ls, stat); make's
// own faccessat2 of the shell on Alpine 3.14+.
const SECCOMP = /getaddrinfo\(\) thread failed to start|ldd: error: you do not have read permission for|clone3 failed: Operation not permitted|pthread_create failed: Operation not permitted|pthread_create failed \(EPERM\)|Assertion `\(0\) == \(uv_thread_create\(|requires working CLOCK_MONOTONIC|^(?:ls|stat|du|cp|mv|chmod|\S*\/(?:ls|stat)): cannot (?:access|stat) '\/(?:usr|bin|lib|opt|etc)\/[^']*': Operation not permitted|^g?make(?:\[\d+\])?: \/bin\/(?:ba)?sh: Operation not permitted/

function seccomp(s: Scan): Diagnosis[] {
  // No container runtime stands between a shell runner's job and its host.
  const hit = s.family === 'shell' ? undefined : s.last(SECCOMP)
  if (!hit) return []
  return [diagnosis('seccomp_blocks_new_syscalls', 'The runner\'s container runtime is too old for this image', `"${hit.line.text.trim().slice(0, 160)}": a call the image's C library makes is refused as "operation not permitted" where nothing should refuse it. New distribution images (Fedora rawhide and later releases, Ubuntu 21.10+, Alpine 3.14+) use system calls (clone3, faccessat2; the time64 calls such as clock_gettime64 in 32-bit images) that the seccomp profile of an older Docker/runc/libseccomp on the runner host does not know, and it answers EPERM.`,
    evidence(s.commandAt(hit.line.n), hit), [
      // Under user-mode emulation (buildx --platform, binfmt) the emulator, not seccomp, is the usual gap for time64 calls.
      ...(/--platform[= ]\S*(?:arm|386|ppc|s390|riscv|mips)|\[linux\/(?:arm|386|ppc|s390|riscv|mips)/.test(`${s.commandAt(hit.line.n)?.text ?? ''} ${hit.line.text}`) ? [{ text: 'This build runs under user-mode emulation (qemu-user via binfmt): update the emulator registered on the host, which gains the newer system calls first.', snippet: 'docker run --privileged --rm tonistiigi/binfmt --install all   # or update qemu-user-static' }] : []),
      { text: 'Update the container runtime on the runner host (Docker ≥ 20.10.10, runc ≥ 1.0.2, libseccomp ≥ 2.4.4).', snippet: 'docker version\nrunc --version' },
      { text: 'Until then, pin the image to a release the host can run, or (less safe) relax seccomp for these jobs.', snippet: '[runners.docker]\n  security_opt = ["seccomp=unconfined"]' },
    ], /CLOCK_MONOTONIC/.test(hit.line.text) ? 0.7 : 0.9)]
}

function unprivileged(s: Scan): Diagnosis[] {
  const hit = s.last(UNPRIVILEGED)
  if (!hit) return []
  const k8s = s.family === 'kubernetes'
  return [diagnosis('unprivileged_container_build', 'The image build needs privileges the job container does not have',
    `buildah/podman inside the job container could not ${/overlay/i.test(hit.line.text) ? 'use overlay storage on top of the container\'s own overlay filesystem' : 'create namespaces or mounts'}: "${hit.line.text.trim().slice(0, 160)}". Job containers are unprivileged by default.`,
    evidence(s.commandAt(hit.line.n), hit), [
      ...(/systemd cgroup flag/.test(hit.line.text) ? [{ text: 'There is no systemd in a job container: let podman/buildah manage cgroups directly.', snippet: 'podman --cgroup-manager=cgroupfs build .\n# or in containers.conf: [engine] cgroup_manager = "cgroupfs"' }] : []),
      ...(/overlay\.mountopt/.test(hit.line.text) ? [{ text: 'With the vfs driver, drop the overlay mount options from storage.conf (newer buildah applies them to any driver).', snippet: 'sed -i "/^mountopt/d" /etc/containers/storage.conf' }] : []),
      ...(/rootlesskit|failed to share mount point/.test(hit.line.text) ? [{ text: 'rootlesskit (rootless BuildKit, Podman, Docker) is stopped by AppArmor: give the build container an AppArmor profile that allows its mounts.', snippet: '[runners.kubernetes.build_container_security_context.app_armor_profile]\n  type = "Unconfined"   # or a Localhost profile allowing only what rootlesskit needs' }] : []),
      { text: 'Use the storage driver and isolation that work unprivileged.', snippet: 'variables:\n  STORAGE_DRIVER: vfs\n  BUILDAH_ISOLATION: chroot' },
      { text: 'Or use a builder made for unprivileged containers (kaniko, buildkit rootless).', snippet: 'image:\n  name: gcr.io/kaniko-project/executor:debug\n  entrypoint: [""]' },
      { text: `Or run such jobs on a dedicated privileged runner${k8s ? ' (privileged = true in [runners.kubernetes])' : ''}.`, snippet: k8s ? '[runners.kubernetes]\n  privileged = true' : '[runners.docker]\n  privileged = true\n  # or, narrower: devices = ["/dev/fuse"], cap_add = ["SYS_ADMIN"], security_opt = ["seccomp:unconfined", "apparmor:unconfined"]' },
    ], 0.85)]
}

// Kubernetes: the helper container never started (it is the runner's own image, so a crash at start
// is rarely the job's fault). With an ARM node/runner named in the log, the usual cause is the default
// x86_64 helper image on an arm64 node: its entrypoint dies with "exec format error" in the pod events.
const HELPER_NEVER_STARTED = /container not found \("helper"\)/
const ARM_HINT = /\b(?:arm64|aarch64|armv\d\w*|armhf)\b|[-_.]arm(?:[-_.]|\b)|kubernetes\.io\/arch[=:]\s*"?arm/i

function helperArchitecture(s: Scan): Diagnosis[] {
  if (s.family !== 'kubernetes' && !s.has(/^Using Kubernetes (?:namespace|executor)/)) return []
  const hit = s.last(HELPER_NEVER_STARTED)
  if (!hit) return []
  const hint = s.first(ARM_HINT)
  return [diagnosis('image_wrong_architecture', 'The helper image does not match the node\'s CPU architecture',
    `The helper container of the build pod never started ("${hit.line.text.trim().slice(0, 140)}")${hint ? `, and the log names an ARM runner or node ("${hint.line.text.trim().slice(0, 80)}")` : ''}: the runner uses the x86_64 helper image by default, which cannot start on arm64 nodes (the pod events show "exec format error").`,
    evidence(hint, hit), [
      { text: 'Use the helper image for the nodes\' architecture on runners that schedule onto ARM nodes.', snippet: '[runners.kubernetes]\n  helper_image = "registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:arm64-v<runner version>"' },
      { text: 'Or pin such runners\' pods to nodes of the helper\'s architecture.', snippet: '[runners.kubernetes.node_selector]\n  "kubernetes.io/arch" = "amd64"' },
      { text: 'Confirm in the pod events.', snippet: 'kubectl get events -n <namespace> --field-selector involvedObject.name=<pod> | grep -i "exec format"' },
    ], hint ? 0.85 : 0.45)]
}

function architecture(s: Scan): Diagnosis[] {
  const hit = s.all(ARCH).filter((h) => !/docker-machine/.test(h.line.text)).pop()
  if (!hit) return helperArchitecture(s)
  const want = hit.m[1] ?? hit.m[3] ?? hit.m[4] ?? hit.m[5]
  const host = hit.m[2]
  const image = s.image()
  // Docker's "image with reference … was found but … the specified platform": only another platform's copy is local.
  const platform = /specified platform|cannot be used on this platform/.test(hit.line.text)
  return [diagnosis('image_wrong_architecture', 'An image or binary is built for another CPU architecture',
    platform
      ? `"${hit.line.text.trim().slice(0, 200)}": the daemon has this image only for another platform${want ? ` (${want})` : ''} than the one the job runs on or asked for.`
      : want
      ? `The image is for ${want}${host ? ` but the host is ${host}` : ' and has no variant for this host'}.`
      : `"${hit.line.text.trim().slice(0, 160)}": the kernel cannot run this binary, almost always because it was built for another architecture (an arm64 image on an amd64 runner or the reverse; sometimes a download that is really an HTML error page).`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: `Use an image (tag) published for the runner's architecture${image ? ` instead of ${image}` : ''}, or send the job to a runner of the right architecture with tags.`, snippet: 'job:\n  tags: [<amd64 or arm64 runner tag>]' },
      { text: 'Build multi-architecture images so every runner finds its variant.', snippet: 'docker buildx build --platform linux/amd64,linux/arm64 --push -t "$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA" .' },
      { text: 'Check what the file is.', snippet: 'uname -m; file "$(command -v <binary>)"' },
    ], 0.8)]
}

// git clean / checkout cannot delete a file of the reused checkout: on Windows a process of an
// earlier job still holds it open (Invalid argument, busy), elsewhere a mount or a busy file.
const LOCKED = /^(?:warning: )?failed to remove (.+): (Invalid argument|Device or resource busy|Resource busy|Text file busy|Directory not empty)$/
const WINDOWS_DENIED = /^(?:error: unable to unlink old '([^']+)'|warning: failed to remove ([^:]+)|error: unable to create file ([^:]+)): Permission denied$/

function worktree(s: Scan): Diagnosis[] {
  // On Windows, "Permission denied" on a file of the checkout before any script command is a file held open too.
  const windowsDenied = s.onWindows() ? s.all(WINDOWS_DENIED).filter((h) => !s.commandAt(h.line.n)) : []
  const locked = [...s.all(LOCKED).filter((h) => s.inClone(h.line) || ['get_sources', ''].includes(phaseName(h.line.section))), ...windowsDenied].sort((a, b) => a.line.n - b.line.n).pop()
  if (locked) {
    return [diagnosis('git_worktree_corrupt', 'Files of the reused checkout cannot be removed',
      `"${locked.line.text.trim()}": the runner reuses the previous job's checkout (GIT_STRATEGY fetch) and git clean could not delete files that a process of an earlier job still holds open (on Windows: a tool left running after a job was canceled or timed out, which skips after_script).`,
      evidence(locked), [
        { text: 'End the leftover process on the runner host, then retry (Windows: Task Manager, or taskkill).', snippet: 'taskkill /F /T /IM <program>.exe' },
        { text: 'Skip the runner\'s git clean and clean up yourself first thing in the job.', snippet: 'variables:\n  GIT_CLEAN_FLAGS: none\nbefore_script:\n  - <stop leftover processes; remove the files>' },
        { text: 'On a Windows runner, have the runner end every process a job started when the job ends (a feature flag, per job or in config.toml).', snippet: 'variables:\n  FF_USE_WINDOWS_JOB_OBJECT: "true"' },
        { text: 'Or start each job from a fresh clone.', snippet: 'variables:\n  GIT_STRATEGY: clone' },
      ], 0.75)]
  }
  // "remote: …" is the server speaking about its own copy (remoteCorrupt), not this checkout.
  const hit = s.all(WORKTREE).filter((h) => !/^remote:/.test(h.line.text)).pop()
  if (!hit) return []
  const runnerClone = ['get_sources', ''].includes(phaseName(hit.line.section)) || /\/builds\//.test(hit.line.text)
  const fixes: Fix[] = [
    { text: 'Start this job from a fresh clone (and retry).', snippet: 'variables:\n  GIT_STRATEGY: clone' },
    { text: 'Two jobs must not share one build directory: give concurrent jobs their own directories.', snippet: '[[runners]]\n  builds_dir = "/builds"\n  # Docker executor: do not mount one host path as /builds for all concurrent jobs' },
    { text: 'Clear the runner\'s cached checkouts (Docker: the runner-…-cache volumes; shell: the builds directory).', snippet: 'docker volume ls -q --filter name=runner- | xargs -r docker volume rm' },
  ]
  return [diagnosis('git_worktree_corrupt', 'The reused git checkout is inconsistent',
    `"${hit.line.text.trim()}": ${runnerClone ? 'the runner reuses the previous checkout (GIT_STRATEGY fetch) and it' : 'the repository'} was left half-written by a concurrent or aborted git operation.`,
    evidence(hit), fixes, 0.8)]
}

// The pack the server sent fails git's checks (or the server says its own objects are broken):
// its repository needs housekeeping or repair; a local checkout has nothing to do with it.
const REMOTE_CORRUPT = /fatal: pack is corrupted \(SHA1 mismatch\)|fatal: pack has bad object at offset \d+|fatal: pack has \d+ unresolved deltas?|^remote: (?:fatal|error): (?:.*\bis corrupt\b|unable to read \S+|Could not read [0-9a-f]{40}|missing (?:blob|tree|commit) \S+|bad object \S+)|fatal: early EOF after remote: (?:fatal|error)|git upload-pack: aborting due to possible repository corruption on the remote side/

function remoteCorrupt(s: Scan): Diagnosis[] {
  const hit = s.last(REMOTE_CORRUPT)
  if (!hit) return []
  return [diagnosis('remote_repository_corrupt', 'The repository on the Git server sends a broken pack',
    `"${hit.line.text.trim().slice(0, 160)}": ${/^remote:/.test(hit.line.text) ? 'the server reports broken objects in its own copy of the repository' : 'the pack the server sent for this clone failed git\'s checksum/object checks'}. A corrupted or badly fragmented repository on the server does this to every fresh clone; a flaky proxy that alters transfers can too, but then a retry passes.`,
    evidence(s.commandAt(hit.line.n), hit, s.near(hit.line.n, /index-pack failed|unpack-objects failed/, 2)), [
      { text: 'Run housekeeping on the project (Settings > General > Advanced > Run housekeeping), or on a self-managed server check and repack the repository.', snippet: 'git fsck --full\ngit repack -a -d -f && git gc --aggressive --prune=now   # in the server\'s copy' },
      { text: 'Confirm it is the server and not the path: clone the same URL from another machine.', snippet: 'git clone --no-checkout <project URL> /tmp/check' },
      retryFix(),
    ], 0.65)]
}

function submodules(s: Scan): Diagnosis[] {
  const skipped = s.first(SKIPPED_SUBMODULES)
  if (!skipped) return []
  // Submodules live in the checkout: a missing /etc or /certs file is something else.
  const missing = s.all(MISSING_FILE).filter((h) => h.line.n > skipped.line.n && !/(?:^|[\s'"])\/(?!builds\/)[\w.-]+\//.test(h.line.text)).pop()
  const gitmodules = /GIT_SUBMODULE_STRATEGY:\s*(?:normal|recursive)/.test(s.ev.ciYaml ?? '')
  if (!missing || gitmodules) return []
  // A repository with submodules says so somewhere: the YAML, a .gitmodules or "submodule" in the output.
  const hasSubmodules = /submodule|\.gitmodules/i.test(s.ev.ciYaml ?? '') || s.has(/\.gitmodules|^Submodule '|submodule path/)
  return [diagnosis('submodules_not_fetched', 'The job ran without the repository\'s submodules',
    `The runner skipped the submodules (GIT_SUBMODULE_STRATEGY is none, the default), and the build then misses files: "${missing.line.text.trim().slice(0, 160)}".`,
    evidence(skipped, s.commandAt(missing.line.n), missing), [
      { text: 'Let the runner fetch submodules.', snippet: 'variables:\n  GIT_SUBMODULE_STRATEGY: recursive' },
      { text: 'Use relative URLs in .gitmodules for submodules on the same GitLab, so the job token can fetch them.', snippet: '[submodule "lib"]\n  path = lib\n  url = ../../group/lib.git' },
    ], hasSubmodules ? 0.75 : 0.5)]
}

export const scriptRule: Rule = {
  id: 'script',
  categories: ['ssh_host_key_verification_failed', 'ssh_publickey_denied', 'unprivileged_container_build', 'image_wrong_architecture', 'git_worktree_corrupt', 'submodules_not_fetched', 'remote_repository_corrupt', 'transient_failure', 'network_connection_reset', 'windows_path_too_long', 'seccomp_blocks_new_syscalls'],
  match(ev) {
    const s = Scan.of(ev)
    return [...hostKey(s), ...publickey(s), ...sshNoProject(s), ...sshBanner(s), ...longPath(s), ...seccomp(s), ...unprivileged(s), ...architecture(s), ...worktree(s), ...submodules(s), ...remoteCorrupt(s)]
  },
}
