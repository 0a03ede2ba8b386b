import { ciFacts } from '../ci-facts.js'
import { Scan, diagnosis, evidence } from '../scan.js'
import type { Diagnosis, Rule } from '../types.js'

/**
 * The runner's own shell detection failed: before the script, the Docker and Kubernetes executors run a
 * small script in the job container that execs the first of bash or sh it finds at the usual paths
 * (/usr/local/bin, /usr/bin, /bin, /busybox) and otherwise prints "shell not found" and exits 1
 * (gitlab-runner's shells/bash.go). A shell ran that script, so a shell exists: what failed is mostly the
 * `[ -x <path> ]` test itself, which glibc 2.33+ and musl 1.2.2+ images make with faccessat2 — a syscall an
 * old Docker/runc/libseccomp on the runner host refuses with EPERM (seccomp_blocks_new_syscalls, first).
 * Less often the image really has no shell at those paths, or its entrypoint runs the detection
 * elsewhere (image_missing_shell, second). With --ci, a YAML entrypoint override is ci-hypotheses.ts's.
 */

const NOT_FOUND = /^shell not found$/
// Images whose libc predates faccessat2 (glibc < 2.33, musl < 1.2.2): there the seccomp story cannot hold.
const OLD_LIBC = /(?:^|\/)(?:alpine:3\.(?:[0-9]|1[0-3])(?:[.-]|$)|(?:debian|buildpack-deps):(?:[0-9]|1[01]|jessie|stretch|buster|bullseye)(?:[.-]|$)|ubuntu:(?:1[0-9]|20|21\.04|trusty|xenial|bionic|focal|groovy|hirsute)(?:[.-]|$)|(?:centos|rockylinux|almalinux|oraclelinux|ubi[78]?\/\S*|amazonlinux):(?:[678]|2)(?:[.-]|$)|fedora:(?:[12][0-9]|3[0-3])(?:[.-]|$))/

function shellNotFound(s: Scan): Diagnosis[] {
  // Only the Docker and Kubernetes executors run the detection script; a shell runner's line is someone else's.
  if (s.family === 'shell') return []
  const hit = s.all(NOT_FOUND).filter((h) => s.commandAt(h.line.n) === undefined).pop()
  if (!hit) return []
  // The pull banner names the image too ("Using docker image sha256:… for alpine:3.12 with digest …").
  const image = s.image() ?? s.last(/^Using docker image \S+ for (\S+?) (?:with digest|\.\.\.)/)?.m[1]
  const oldLibc = image !== undefined && OLD_LIBC.test(image)
  const override = ciFacts(s.ev.ciYaml)?.images.some((i) => i.entrypoint !== undefined && i.entrypoint.join('') !== '') ?? false
  const banner = s.last(/Using docker image|Using (?:Docker|Kubernetes) executor with image/)
  const seccomp = oldLibc ? [] : [diagnosis('seccomp_blocks_new_syscalls', 'The runner host\'s container runtime is too old for the job image',
    `"shell not found" is the runner's shell detection: a shell ran it, yet its \`[ -x /bin/sh ]\`-style tests found no bash or sh. On a recent image (glibc 2.33+: Ubuntu 21.10+, Debian 12, Fedora 34+; musl 1.2.2+: Alpine 3.14+) those tests use the faccessat2 system call, and an old Docker, runc or libseccomp on the runner host refuses it with "Operation not permitted", so every path looks missing.`,
    evidence(banner, hit), [
      { text: 'Update Docker (20.10.10 or newer), runc and libseccomp (2.4.4 or newer) on the runner host.' },
      { text: 'Until then, pin an image built on an older distribution release.' },
      { text: 'As a stopgap only, run the job containers without the default seccomp profile.', snippet: '[runners.docker]\n  security_opt = ["seccomp=unconfined"]' },
    ], 0.7)]
  return [...seccomp, diagnosis('image_missing_shell', `The runner found no shell in the job image${image ? ` ${image}` : ''}`,
    `The runner's shell detection looked for bash and sh in /usr/local/bin, /usr/bin, /bin and /busybox inside the job container before the script and found neither. Either ${image ?? 'the image'} has no shell at those paths (a distroless or tool image, or a new tag that dropped it), or the image's ENTRYPOINT runs the runner's detection script where its shell is not${override ? ' (the .gitlab-ci.yml overrides the entrypoint)' : ''}.`,
    evidence(banner, hit), [
      { text: 'Check which shell the image has, and where, with its entrypoint cleared.', snippet: `docker run --rm --entrypoint '' ${image ?? '<image>'} sh -c 'command -v bash sh'` },
      { text: 'If the image has a shell but its ENTRYPOINT is a tool or a wrapper, clear the entrypoint for the job.', snippet: `image:\n  name: ${image ?? '<image>'}\n  entrypoint: [""]` },
      { text: 'Otherwise use the image variant that ships a shell (a debug/busybox tag), or pin the tag that worked.' },
    ], oldLibc ? 0.65 : 0.55)]
}

export const shellDetectionRule: Rule = {
  id: 'shell-detection',
  categories: ['seccomp_blocks_new_syscalls', 'image_missing_shell'],
  match: (ev) => shellNotFound(Scan.of(ev)),
}
