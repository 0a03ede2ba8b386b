import { describe, expect, it } from 'vitest'
import { all, cats, on, step, top } from '../../test/support/diagnose-log.js'
import { diagnose } from './engine.js'
import { parseTrace, parseTraceStream } from './trace.js'
import type { Evidence } from './types.js'

/**
 * Review of the eleventh rule pass (e40e4fb): container-privileges.ts, the new wordings in image.ts,
 * packages.ts and tool-verdicts.ts, the worker's Docker API in runner.ts, the dedent of indented
 * pastes in trace-reader.ts, and Scan.of/sharedDuring. A case that fails shows a defect; the cases
 * marked "guard" pass today and pin behaviour worth keeping. Tool wordings are quoted from the
 * tools' sources (util-linux libmount, libfuse's fusermount, libxml2 xmlIO.c, pacman remove.c,
 * go's toolchain/select.go) or from public issue threads, as noted per case.
 */

describe('OCI manifests: a registry or proxy that mislabels them, not only an old Docker', () => {
  // distribution's schema2 unmarshaller runs when the Content-Type header says Docker v2; the body
  // then says OCI. Harbor's and Nexus's pull-through caches did exactly that (goharbor/harbor#15837,
  // podman-container-tools/buildah#2266, docker-library/official-images#14938 from a GitLab job);
  // Docker has pulled OCI manifests since 2018 (distribution/distribution#2076), 19.03 included.
  it('does not blame Docker 19.03 and names the registry or proxy in between', () => {
    const d = top(step('$ docker pull harbor.example.com/dockerhub/library/ubuntu:24.04', "Error response from daemon: mediaType in manifest should be 'application/vnd.docker.distribution.manifest.v2+json' not 'application/vnd.oci.image.manifest.v1+json'"))
    expect(all(d)).not.toMatch(/19\.03/)
    expect(all(d)).toMatch(/proxy|mirror|pull-through|Harbor|Nexus|Artifactory/i)
  })

  it('reads the manifest-list wording (an OCI index), the more common one today', () => {
    const d = top(step('$ docker pull harbor.example.com/proxy/minio/mc:latest', "Error response from daemon: mediaType in manifest list should be 'application/vnd.docker.distribution.manifest.list.v2+json' not 'application/vnd.oci.image.index.v1+json'"))
    expect(d?.category).not.toBe('user_script_failure')
    expect(all(d)).toMatch(/OCI/)
  })
})

describe('libxml2: --nonet refusing the network is a missing local catalog entry, not a site that is down', () => {
  // xmlIO.c's xmlNoNetExternalEntityLoader: "Attempt to load network entity %s". The site was never asked.
  it('xmllint --nonet with the DTD not in the catalog', () => {
    const log = step('$ xmllint --nonet --noout --valid doc.xml',
      'I/O error : Attempt to load network entity http://www.oasis-open.org/docbook/xml/4.5/docbookx.dtd',
      'doc.xml:2: warning: failed to load external entity "http://www.oasis-open.org/docbook/xml/4.5/docbookx.dtd"',
      'validity error : Could not load the external subset "http://www.oasis-open.org/docbook/xml/4.5/docbookx.dtd"')
    expect(top(log)?.category).not.toBe('upstream_service_unavailable')
  })
})

describe('mount and loop devices: wordings util-linux and libfuse print', () => {
  it('util-linux >= 2.35 names the target: "mount: /mnt: must be superuser to use mount."', () => {
    const log = on('docker', '$ mount -t tmpfs tmpfs /mnt', 'mount: /mnt: must be superuser to use mount.', '       dmesg(1) may have more information after failed mount system call.')
    expect(cats(log)).toContain('unprivileged_container_build')
  })

  it('a non-root job user on Docker is told about the user, not only privileged = true', () => {
    // "only root can do that" / "must be superuser" come from a non-root euid: privileged = true does not make the image's USER root.
    const d = top(on('docker', '$ mount -t tmpfs tmpfs /mnt', 'mount: only root can do that'))
    expect(all(d)).toMatch(/\broot\b.*\b(?:USER|user)\b|\bUSER\b|run (?:it|the job) as root|sudo/)
  })

  it('libmount\'s "failed to setup loop device for" (mount -o loop)', () => {
    const d = top(step('$ mount -o loop rootfs.ext4 /mnt', 'mount: /mnt: failed to setup loop device for rootfs.ext4.'))
    expect(['container_device_unavailable', 'unprivileged_container_build']).toContain(d?.category)
  })

  it('fusermount/fusermount3 print "<prog>: fuse device not found" (no colon after fuse)', () => {
    expect(top(step('$ sshfs ci@host:/data /mnt/data', "fusermount3: fuse device not found, try 'modprobe fuse' first"))?.category).toBe('container_device_unavailable')
    expect(top(step('$ gcsfuse bucket /mnt', "mount: running fusermount: exit status 1 stderr: /bin/fusermount: fuse device not found, try 'modprobe fuse' first"))?.category).toBe('container_device_unavailable')
  })

  it('a busy loop device is not a missing privilege', () => {
    const log = on('shell', '$ sudo losetup /dev/loop0 disk.img', 'losetup: disk.img: failed to set up loop device: Device or resource busy')
    expect(top(log)?.category).not.toBe('container_device_unavailable')
  })

  it('a shell runner whose job already uses sudo: no free loop device is exhaustion (leaked by earlier jobs), not "not root"', () => {
    const d = top(on('shell', '$ sudo losetup -fP --show disk.img', 'losetup: cannot find an unused loop device'))
    expect(all(d)).not.toMatch(/not root/)
    expect(all(d)).toMatch(/losetup -[dD]|detach|max_loop/)
  })
})

describe('the shell executor\'s fix fits the device at hand', () => {
  it('KVM on a shell runner: no sudoers line for mount/losetup (the VM lacks nested virtualisation, or the user the kvm group)', () => {
    const d = top(on('shell', '$ qemu-system-x86_64 -enable-kvm -m 1G -drive file=disk.img', 'Could not access KVM kernel module: No such file or directory', 'qemu-system-x86_64: failed to initialize kvm: No such file or directory'))
    expect(d?.category).toBe('container_device_unavailable')
    expect(all(d)).not.toMatch(/NOPASSWD: \/usr\/bin\/mount/)
  })

  it('ping on a shell runner: no sudoers line for mount/losetup', () => {
    const d = top(on('shell', '$ ping -c 1 db.internal', 'ping: socket: Operation not permitted'))
    expect(d?.category).toBe('container_net_raw_denied')
    expect(all(d)).not.toMatch(/NOPASSWD: \/usr\/bin\/mount/)
  })

  it('/dev/kvm present but "permission denied": the device is there, the job user lacks its group', () => {
    const d = top(on('docker', '$ emulator -avd test -no-window', 'ERROR   | x86_64 emulation currently requires hardware acceleration!', 'CPU acceleration status: /dev/kvm device: permission denied.'))
    expect(d?.category).toBe('container_device_unavailable')
    expect(all(d)).toMatch(/\bgroup\b/)
  })
})

describe('packages', () => {
  it('apt\'s replacement list belongs to the package it follows, not to the last error line', () => {
    // apt prints the "not available … replace it" block for python, then its errors in command-line order.
    const log = step('$ apt-get update', '$ apt-get install -y python libfoo-dev',
      'Package python is not available, but is referred to by another package.',
      'This may mean that the package is missing, has been obsoleted, or',
      'is only available from another source',
      'However the following packages replace it:',
      '  python-is-python3 2to3',
      '',
      "E: Package 'python' has no installation candidate",
      'E: Unable to locate package libfoo-dev')
    expect(all(top(log))).not.toMatch(/libfoo-dev is obsolete/)
  })

  // (Reviewed and left out: go ≥ 1.21.1's "invalid toolchain: go1.22 is a language version but not a
  // toolchain version" is a GOTOOLCHAIN/go.mod value written wrong, not a tool that is too old; no class fits it.)

  it('a floating distro tag is no reason for an npm package missing from the registry', () => {
    const log = ['Using Docker executor with image alpine ...', ...step('$ npm install @acme/private-lib', 'npm ERR! code E404', "npm ERR! 404  '@acme/private-lib@*' is not in this registry.").split('\n')].join('\n')
    expect(all(top(log))).not.toMatch(/pin the release/)
  })

  it('"pin the release" for an untagged image suggests a tag, not the same image', () => {
    const log = ['Using Docker executor with image alpine ...', ...step('$ apk add --no-cache libfoo', 'ERROR: unable to select packages:', '  libfoo (no such package):', '    required by: world[libfoo]').split('\n')].join('\n')
    const pin = top(log)?.fixes.find((f) => /pin the release/.test(f.text))
    expect(pin?.snippet).toMatch(/alpine:<release>/)
  })

  it('pacman -R of a package that is not installed is not a package missing from the repositories', () => {
    // pacman's remove.c prints the same "target not found: %s" when the package to remove is not installed.
    const d = top(step('$ pacman -Rns --noconfirm vim', 'error: target not found: vim'))
    expect(all(d)).not.toMatch(/pacman -Syu/)
  })

})

describe('"program not found" and perl\'s Can\'t exec are often warnings', () => {
  it('a perl probe that carries on is not the failure of a job that fails its tests', () => {
    // perl's system()/exec warn and return -1; Makefile.PL scripts probe git this way and go on.
    const log = step('$ perl Makefile.PL', 'Can\'t exec "git": No such file or directory at Makefile.PL line 12.', 'Checking if your kit is complete...', 'Looks good', 'Writing Makefile for Foo',
      '$ make test', "#   Failed test 'parses input'", 'Failed 1/3 test programs. 1/10 subtests failed.', 'make: *** [Makefile:850: test_dynamic] Error 1')
    expect(top(log)?.category).not.toBe('command_not_found')
  })

  it('a configure warning about an optional program is not the failure', () => {
    const log = step('$ ./configure', 'configure: WARNING: pandoc program not found', 'checking for gcc... gcc', '$ make check', 'FAIL: test-parse', '# FAIL:  1', 'make: *** [Makefile:1234: check-TESTS] Error 1')
    expect(top(log)?.category).not.toBe('command_not_found')
  })

  it('guard: gettext\'s autopoint still names git', () => {
    expect(top(step('$ ./autogen.sh', 'autopoint: *** git program not found', 'autopoint: *** Stop.'))?.category).toBe('command_not_found')
  })
})

describe('dedent of indented pastes', () => {
  const indented = (n: number): string => [...Array.from({ length: n - 2 }, (_, i) => `    line ${i}`), '    E: Unable to locate package libfoo-dev', '    ERROR: Job failed: exit code 100'].join('\n')

  it('reads a long indented paste the same from a string and from a stream', async () => {
    // Both readers dedent only a paste they keep whole (5 000 lines at most), so they read it alike.
    const log = indented(6_000)
    async function* chunks() { yield Buffer.from(log) }
    const whole = parseTrace(log)
    const streamed = await parseTraceStream(chunks())
    expect(streamed.lines.at(-2)?.text).toBe(whole.lines.at(-2)?.text)
  })

  it('keeps the line count when an indented paste ends with blank lines', () => {
    const log = '  $ make\n  make: *** [all] Error 2\n\n'
    const plain = 'x\n  $ make\n  make: *** [all] Error 2\n\n'
    expect(parseTrace(log).lineCount).toBe(parseTrace(plain).lineCount! - 1)
  })

  it('guard: tabs and CRLF are dedented, line numbers kept', () => {
    const t = parseTrace('\t$ apt-get install -y libfoo\r\n\tE: Unable to locate package libfoo\r\n')
    expect(t.lines.map((l) => [l.n, l.text])).toEqual([[1, '$ apt-get install -y libfoo'], [2, 'E: Unable to locate package libfoo']])
  })

  it('guard: mixed tab and space indentation is left alone', () => {
    expect(parseTrace('\t$ make\n    make: *** [all] Error 2').lines.map((l) => l.text)).toEqual(['\t$ make', '    make: *** [all] Error 2'])
  })
})

describe('Scan.of / sharedDuring', () => {
  it('guard: the same evidence object diagnosed again after its trace changed is read afresh', () => {
    const ev: Evidence = { trace: parseTrace(step('$ apt-get update && apt-get install -y libfoo', 'E: Unable to locate package libfoo')) }
    expect(diagnose(ev).diagnoses[0]?.category).toBe('package_not_found')
    ev.trace = parseTrace(step('$ ping -c 1 db', 'ping: socket: Operation not permitted'))
    expect(diagnose(ev).diagnoses[0]?.category).toBe('container_net_raw_denied')
  })
})
