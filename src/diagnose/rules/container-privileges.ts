import { type Hit, Scan, diagnosis, evidence, firstGroup } from '../scan.js'
import type { Diagnosis, Fix, Rule } from '../types.js'

/**
 * Jobs that need more of the machine than a job container gets by default: device nodes (loop
 * devices for disk images, /dev/kvm for emulators, /dev/fuse, /dev/net/tun, creating block
 * devices with mknod), raw sockets (ping, traceroute: gitlab-runner's Kubernetes executor drops
 * NET_RAW by default), and mount(2). The tools' own words: coreutils/busybox mknod, util-linux
 * losetup and mount, QEMU's KVM accelerator (accel/kvm/kvm-all.c), the Android emulator, libfuse,
 * OpenVPN and Go's tun open, iputils and busybox ping, nmap; and the namespaces and cgroups that build
 * sandboxes and nested containers create (Nix, bubblewrap/opam, unshare, Chromium, Podman/crun).
 */

const DEVICE = new RegExp([
  String.raw`^mknod: '?(\/dev\/[^':\s]+)'?: Operation not permitted`,
  // A busy loop device (EBUSY) is a clash with another user of it, not a missing device.
  String.raw`^losetup: (?:\S+: )?failed to set up loop device(?!: Device or resource busy)`,
  String.raw`^mount: (?:\S+: )?failed to setup loop device for`,
  String.raw`^losetup: cannot find an unused loop device|^losetup: could not find any free loop device`,
  String.raw`Could not access KVM kernel module: (?:No such file or directory|Permission denied|No such device)`,
  String.raw`failed to initialize (?:kvm|KVM): (?:No such file or directory|Permission denied)`,
  String.raw`(\/dev\/kvm) (?:is not found|device: permission denied)`,
  String.raw`fuse:? device not found, try 'modprobe fuse' first`,
  String.raw`Cannot open TUN\/TAP dev (\/dev\/net\/tun)`,
  String.raw`open (\/dev\/net\/tun): no such file or directory`,
].join('|'))
const RAW_SOCKET = /^ping: socket: Operation not permitted|^ping: permission denied \(are you root\?\)|missing cap_net_raw\+p capability or setuid\?|Couldn't open a raw socket\. Error: Operation not permitted/
// mount(2) refused: util-linux ≥ 2.35 ("mount failed: Operation not permitted."), older util-linux and busybox.
const MOUNT = /^mount: .*mount failed: Operation not permitted\.?$|^mount: (?:\S+: )?permission denied\.?$|^mount: only root can do that|^mount: (?:\S+: )?must be superuser to use mount|^mount: mounting \S+ on \S+ failed: (?:Operation not permitted|Permission denied)/

// Sandboxes and nested containers that need namespaces or cgroups the job container does not delegate: Nix's
// build sandbox, bubblewrap (opam, Flatpak), unshare(1), Chromium's sandbox, rootless Podman's uid maps, crun's controllers.
const SANDBOX = new RegExp([
  /error: cloning builder process: Operation not permitted/,
  /^bwrap: (?:No permissions to creat(?:e|ing) new namespace|Creating new namespace failed|setting up uid map: Permission denied|Failed to make \/ slave|[^\n]{0,200}: (?:Operation not permitted|Permission denied)$)/,
  /^unshare: unshare failed: Operation not permitted/,
  // buildah's re-exec into a user namespace (containers/storage's unshare package).
  /^Error during unshare\(\.\.\.\): Operation not permitted/,
  /No usable sandbox! |Failed to move to new namespace: .*Operation not permitted/,
  /newuidmap: write to uid_map failed: Operation not permitted|cannot set up namespace using "?\/usr\/bin\/newuidmap/,
  /crun: controller `(\w+)` is not available under \/sys\/fs\/cgroup/,
  // Chromium started as root (a job container's default user) refuses its own sandbox.
  /Running as root without --no-sandbox is not supported/,
].map((r) => r.source).join('|'))
// opam's sandbox hook (bubblewrap) around a build that failed: the sandbox is the usual suspect in a container.
const OPAM_SANDBOX = /^\[ERROR\] The compilation of \S+ failed at "[^"]*hooks\/sandbox\.sh build/

type Kind = 'loop' | 'kvm' | 'fuse' | 'tun' | 'mknod' | 'ping' | 'mount'

// On a shell runner the job is the runner user on the host itself: what it lacks depends on the device.
const SHELL_FIX: Record<Kind, Fix> = {
  loop: { text: 'Shell executor: the job runs as the runner user, not root. Allow losetup for it in sudoers and call it with sudo (or run such jobs in a VM).', snippet: '# /etc/sudoers.d/gitlab-runner\ngitlab-runner ALL=(root) NOPASSWD: /usr/sbin/losetup' },
  mount: { text: 'Shell executor: the job runs as the runner user, not root. Allow mount/umount for it in sudoers and call them with sudo (or use tools that need no mount).', snippet: '# /etc/sudoers.d/gitlab-runner\ngitlab-runner ALL=(root) NOPASSWD: /usr/bin/mount, /usr/bin/umount' },
  mknod: { text: 'Shell executor: only root creates device nodes. Run that step with sudo (a sudoers line for it), or in a VM.', snippet: '# /etc/sudoers.d/gitlab-runner\ngitlab-runner ALL=(root) NOPASSWD: /usr/bin/mknod' },
  kvm: { text: 'Shell executor: the host has no usable /dev/kvm (a VM without nested virtualisation, or the kvm module not loaded), or the runner user is not in the kvm group.', snippet: 'ls -l /dev/kvm; lsmod | grep kvm\nsudo usermod -aG kvm gitlab-runner && sudo systemctl restart gitlab-runner' },
  fuse: { text: 'Shell executor: load the fuse module on the host and let the runner user use /dev/fuse.', snippet: 'sudo modprobe fuse && ls -l /dev/fuse' },
  tun: { text: 'Shell executor: a VPN needs root (CAP_NET_ADMIN) and the tun module: allow the VPN client in sudoers.', snippet: 'sudo modprobe tun\n# /etc/sudoers.d/gitlab-runner\ngitlab-runner ALL=(root) NOPASSWD: /usr/sbin/openvpn' },
  ping: { text: 'Shell executor: give ping its capability back, or allow unprivileged ICMP for the runner user\'s group.', snippet: 'sudo setcap cap_net_raw+ep "$(command -v ping)"\n# or: sudo sysctl -w net.ipv4.ping_group_range="0 2147483647"' },
}

function configFix(s: Scan, kind: Kind, docker: string, k8s: string): Fix {
  // The instance executor's job runs on a VM the autoscaler boots: its devices come with the instance type and its image.
  if (s.onInstance()) {
    return kind === 'kvm'
      ? { text: 'Instance executor: /dev/kvm exists only on an instance type with nested virtualisation (or bare metal); pick one for these jobs, with the kvm module and group in the VM image.', snippet: '# the autoscaler plugin\'s instance group: a *.metal type or one with nested virtualisation enabled' }
      : { text: 'Instance executor: the job runs on the VM as the connector\'s user; give that user what it needs in the VM image (sudo for the command, the device or kernel module).', snippet: '# in the VM image\'s build\necho "<connector user> ALL=(root) NOPASSWD: ALL" > /etc/sudoers.d/ci' }
  }
  if (s.family === 'shell') return SHELL_FIX[kind]
  return s.family === 'kubernetes'
    ? { text: 'Kubernetes executor: the build container needs it in its security context (or a device plugin for the device).', snippet: k8s }
    : { text: 'Docker executor: give the job container the device or capability in config.toml (on runners reserved for such jobs, by tags).', snippet: docker }
}

function device(s: Scan): Diagnosis[] {
  const hit: Hit | undefined = s.last(DEVICE)
  if (!hit) return []
  const text = hit.line.text
  const kind = /loop/.test(text) ? 'loop' : /KVM|kvm/.test(text) ? 'kvm' : /fuse/.test(text) ? 'fuse' : /tun/i.test(text) ? 'tun' : 'mknod'
  const node = firstGroup(hit) ?? { loop: '/dev/loop-control', kvm: '/dev/kvm', fuse: '/dev/fuse', tun: '/dev/net/tun', mknod: 'a device node' }[kind]
  const shell = s.family === 'shell'
  // Every loop device taken, where the job may use them (a shell runner, or sudo): earlier jobs left theirs attached.
  if (kind === 'loop' && /unused loop device|any free loop device/.test(text) && (shell || /\bsudo\b/.test(s.commandAt(hit.line.n)?.text ?? ''))) return loopExhausted(s, hit)
  // The device is there; the job's user may not open it: its group, not the runner's devices.
  const denied = /device: permission denied|: Permission denied$/.test(text)
  const what = {
    loop: 'attach a file as a loop device (disk images, filesystem tests)',
    kvm: 'use KVM (/dev/kvm) for hardware-accelerated virtual machines or emulators',
    fuse: 'open /dev/fuse for a FUSE filesystem',
    tun: 'open /dev/net/tun for a VPN or virtual network interface',
    mknod: `create the device node ${node}`,
  }[kind]
  const docker = {
    loop: '[runners.docker]\n  privileged = true   # loop devices need /dev/loop-control, /dev/loopN and CAP_SYS_ADMIN',
    kvm: '[runners.docker]\n  devices = ["/dev/kvm"]',
    fuse: '[runners.docker]\n  devices = ["/dev/fuse"]\n  cap_add = ["SYS_ADMIN"]',
    tun: '[runners.docker]\n  devices = ["/dev/net/tun"]\n  cap_add = ["NET_ADMIN"]',
    mknod: '[runners.docker]\n  cap_add = ["MKNOD"]   # and no cap_drop = ["ALL"]; or privileged = true',
  }[kind]
  const who = shell ? 'The runner user' : 'The job container'
  return [diagnosis('container_device_unavailable', `${who} may not ${kind === 'mknod' ? 'create device nodes' : `use ${node}`}`,
    denied
      ? `"${text.trim().slice(0, 160)}": ${node} is there, but the job's user may not open it: it is not root and not in the device's group.`
      : `"${text.trim().slice(0, 160)}": the job tried to ${what}, and ${shell ? 'the runner user on this host' : 'its container'} does not have that device or the privilege for it.${shell ? '' : ' Job containers get no host devices and a reduced set of capabilities unless the runner\'s configuration adds them; some runners of a fleet may allow it and others not.'}`,
    evidence(s.commandAt(hit.line.n), hit), [
      ...(denied && !shell ? [{ text: `Add the device's group to the job's user (or run the job as root).`, snippet: `[runners.docker]\n  group_add = ["kvm"]   # the group owning ${node} on the host (ls -ln ${node})` }] : []),
      configFix(s, kind, docker, '[runners.kubernetes]\n  privileged = true   # or a device plugin exposing the device to pods'),
      ...(shell ? [] : [{ text: 'Or run these jobs on a shell or VM-based runner (virtualbox, instance executor), where the job has a whole machine.' }]),
      ...(kind === 'kvm' ? [{ text: 'Or run the emulator without KVM (much slower): QEMU with -accel tcg, the Android emulator with -accel off.' }] : []),
      ...(kind === 'mknod' ? [{ text: 'Inside user namespaces (rootless Docker, Podman, userns-remap) device nodes cannot be created at all: use a loop-free or mock setup in the tests, or a VM runner.' }] : []),
    ], 0.85)]
}

function loopExhausted(s: Scan, hit: Hit): Diagnosis[] {
  return [diagnosis('container_device_unavailable', 'No free loop device on the runner host',
    `"${hit.line.text.trim().slice(0, 160)}": every loop device of the host is attached. Jobs that attach disk images and fail or get canceled before detaching leave theirs behind, and the host's pool (often 8) runs out.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Detach what the job attached, also when it fails.', snippet: 'after_script:\n  - sudo losetup -D   # or detach only the device the job printed: losetup -d "$LOOPDEV"' },
      { text: 'On the host: see what holds them, and allow more.', snippet: 'losetup -l\nsudo modprobe loop max_loop=64   # or max_loop=64 on the kernel command line' },
    ], 0.8)]
}

function rawSocket(s: Scan): Diagnosis[] {
  const hit = s.last(RAW_SOCKET)
  if (!hit) return []
  return [diagnosis('container_net_raw_denied', 'The job container may not open raw sockets (ping, traceroute)',
    `"${hit.line.text.trim().slice(0, 160)}": the tool needs CAP_NET_RAW (or unprivileged ICMP allowed by net.ipv4.ping_group_range), and the job container has neither. gitlab-runner's Kubernetes executor drops NET_RAW from job containers by default; on Docker it is missing when the runner drops capabilities or the container runs rootless.`,
    evidence(s.commandAt(hit.line.n), hit), [
      configFix(s, 'ping', '[runners.docker]\n  cap_add = ["NET_RAW"]', '[runners.kubernetes]\n  cap_add = ["NET_RAW"]'),
      { text: 'Or test reachability without raw sockets.', snippet: 'curl -sS -o /dev/null -w "%{http_code}\\n" https://<host>/\nnc -vz <host> <port>' },
    ], 0.85)]
}

function sandbox(s: Scan): Diagnosis[] {
  // opam prints its sandbox hook for every failed build: only when no build output of its own follows.
  const opam = s.last(OPAM_SANDBOX)
  const hit = s.last(SANDBOX) ?? (opam && !s.output.some((l) => l.n > opam.line.n && /### output ###|^#?\s*Error\b|\berror:/.test(l.text)) ? opam : undefined)
  if (!hit) return []
  const text = hit.line.text
  const tool = /cloning builder process/.test(text) ? 'nix' : /sandbox\.sh/.test(text) ? 'opam' : /^bwrap/.test(text) ? 'bwrap' : /sandbox!|namespace:|without --no-sandbox/.test(text) ? 'chromium' : /Error during unshare/.test(text) ? 'buildah' : /crun|uid_?map/.test(text) ? 'podman' : 'unshare'
  const own: Fix = {
    nix: { text: 'Or build without Nix\'s sandbox in CI containers (the container already isolates the job).', snippet: 'nix build --option sandbox false' },
    opam: { text: 'Or let opam build without its bubblewrap sandbox inside the container.', snippet: 'opam init --disable-sandboxing' },
    bwrap: { text: 'Or run the tool without its bubblewrap sandbox inside the container, if it has such an option.' },
    chromium: { text: 'Or start the browser without its sandbox inside the container (the container isolates it).', snippet: 'chromium --no-sandbox   # Puppeteer: args: ["--no-sandbox"]' },
    podman: { text: 'Or run the nested containers without their own cgroups, or let a privileged runner delegate them.', snippet: 'podman run --cgroups=disabled ...' },
    buildah: { text: 'Or let buildah build without a user namespace of its own: chroot isolation and the vfs driver work in an unprivileged container.', snippet: 'variables:\n  BUILDAH_ISOLATION: chroot\n  STORAGE_DRIVER: vfs\nscript:\n  - buildah build --isolation chroot --storage-driver vfs -t "$CI_REGISTRY_IMAGE" .' },
    unshare: { text: 'Or avoid new namespaces in the job (they need CAP_SYS_ADMIN or user namespaces the runtime allows).' },
  }[tool]
  if (/without --no-sandbox/.test(text)) {
    return [diagnosis('unprivileged_container_build', 'Chromium refuses to start its sandbox as root in the job container',
      `"${text.trim().slice(0, 160)}": the job's commands run as root in the container (the image's default user), and Chromium will not run its sandbox as root; inside an unprivileged container it could not create the sandbox's namespaces either.`,
      evidence(s.commandAt(hit.line.n), hit), [
        /Failed to launch the browser process|puppeteer|playwright/i.test(s.ev.trace.lines.filter((l) => Math.abs(l.n - hit.line.n) <= 6).map((l) => l.text).join('\n'))
          ? { text: 'Start the browser without its sandbox in CI (the container isolates it).', snippet: "// Puppeteer\nawait puppeteer.launch({ args: ['--no-sandbox', '--disable-setuid-sandbox'] })\n// Playwright: chromium.launch({ chromiumSandbox: false })" }
          : { text: 'Start the browser without its sandbox in CI (the container isolates it): the launcher\'s flags, e.g. a custom Karma launcher.', snippet: "// karma.conf.js\ncustomLaunchers: { ChromeHeadlessCI: { base: 'ChromeHeadless', flags: ['--no-sandbox'] } },\nbrowsers: ['ChromeHeadlessCI']" },
        { text: 'Or run the tests as a non-root user of the image (USER in its Dockerfile), with the sandbox.' },
      ], 0.8)]
  }
  return [diagnosis('unprivileged_container_build', tool === 'opam' ? 'opam\'s build sandbox failed inside the job container' : 'The job container may not create the namespaces or cgroups a sandbox needs',
    `"${text.trim().slice(0, 160)}": ${tool === 'opam' ? 'opam builds packages inside bubblewrap, which needs new namespaces; in a job container without them the sandboxed build fails (the compiler\'s own error, if any, is above it). ' : ''}sandboxes and nested containers create namespaces and cgroups, which an unprivileged job container is refused by the runtime's seccomp and AppArmor profiles (and cgroups it does not delegate). Runners of a fleet can differ: the same job works on one and not on another.`,
    evidence(s.commandAt(hit.line.n), hit), [
      configFix(s, 'mount', '[runners.docker]\n  privileged = true\n  # narrower: cap_add = ["SYS_ADMIN"], security_opt = ["seccomp:unconfined", "apparmor:unconfined"]', '[runners.kubernetes]\n  privileged = true'),
      own,
      { text: 'Or pin such jobs with tags to the runners that allow it.', snippet: 'build:\n  tags: [privileged]' },
    ], tool === 'opam' ? 0.5 : 0.75)]
}

function mount(s: Scan): Diagnosis[] {
  const hit = s.last(MOUNT)
  if (!hit) return []
  // util-linux's words for a caller that is not root (euid), as opposed to root without CAP_SYS_ADMIN.
  const nonRoot = /only root can do that|must be superuser/.test(hit.line.text)
  return [diagnosis('unprivileged_container_build', 'The job container may not mount filesystems',
    nonRoot
      ? `"${hit.line.text.trim().slice(0, 160)}": mount refuses a user that is not root${s.family === 'shell' ? ' (the runner user)' : ' (the image\'s USER)'}; privileges for the container do not change who runs the script.`
      : `"${hit.line.text.trim().slice(0, 160)}": mount(2) needs CAP_SYS_ADMIN (and AppArmor/seccomp that allow it), which job containers do not have unless the runner is privileged. Runners of a fleet can differ: the same job mounts on one and not on another.`,
    evidence(s.commandAt(hit.line.n), hit), [
      ...(nonRoot && s.family !== 'shell' ? [{ text: 'Run the step as root: an image whose USER is root, or sudo in the image; then the container also needs the privilege below.' }] : []),
      configFix(s, 'mount', '[runners.docker]\n  privileged = true\n  # narrower: cap_add = ["SYS_ADMIN"], security_opt = ["apparmor:unconfined"]', '[runners.kubernetes]\n  privileged = true'),
      { text: 'Or avoid the mount: read and write disk images with tools that need no mount (mtools, e2tools, guestfish, debugfs, mkfs.ext4 -d).' },
      { text: 'Or pin such jobs with tags to the runners that allow it.', snippet: 'build-image:\n  tags: [privileged]' },
    ], 0.8)]
}

export const containerPrivilegesRule: Rule = {
  id: 'container-privileges',
  categories: ['container_device_unavailable', 'container_net_raw_denied', 'unprivileged_container_build'],
  match(ev) {
    const s = Scan.of(ev)
    return [...device(s), ...rawSocket(s), ...mount(s), ...sandbox(s)]
  },
}
