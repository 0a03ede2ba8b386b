import { describe, expect, it } from 'vitest'
import { all, cats, run, step, top } from '../../test/support/diagnose-log.js'
import { parseTrace } from './trace.js'

/**
 * Precision of the eleventh rule pass (container-privileges.ts, the compiler and "program not found"
 * wordings of image.ts, pacman/apt 3 and the toolchain wordings of packages.ts, libxml2 in
 * tool-verdicts.ts, a worker's Docker API in runner.ts) and of reading indented pastes: what must
 * still get its own answer, and what must not be pulled into the new ones.
 */

describe('indented pastes', () => {
  it('a block indented as a whole (a commit message, a Markdown code block) is read as the job printed it', () => {
    const log = ['    $ apt-get install -y libfoo-dev', '    Reading package lists...', '    E: Unable to locate package libfoo-dev'].join('\n')
    expect(top(log)?.category).toBe('package_not_found')
    expect(parseTrace(log).lines.map((l) => l.text)).toEqual(['$ apt-get install -y libfoo-dev', 'Reading package lists...', 'E: Unable to locate package libfoo-dev'])
  })

  it('keeps the indentation lines have beyond the shared one, and leaves a log with unindented lines alone', () => {
    expect(parseTrace('  Caused by:\n    package `a` failed\n  done').lines.map((l) => l.text)).toEqual(['Caused by:', '  package `a` failed', 'done'])
    const log = 'Running with gitlab-runner 17.5.0 (c6eae8ea)\n  on runner-1 abc\n$ make'
    expect(parseTrace(log).lines.map((l) => l.text)).toEqual(['Running with gitlab-runner 17.5.0 (c6eae8ea)', '  on runner-1 abc', '$ make'])
  })

  it('a stage title inside an indented paste still sets the phase', () => {
    const log = ['  Getting source from Git repository', '  Fetching changes with git depth set to 20...', "  fatal: unable to access 'https://gitlab.example.com/a/b.git/': Could not resolve host: gitlab.example.com", '  ERROR: Job failed: exit code 1'].join('\n')
    expect(run(log).phase).toBe('get_sources')
  })
})

describe('compilers and programs a tool looks up', () => {
  it('"C++ compiler cannot create executables" with a compiler that was found is not a missing compiler', () => {
    const log = step('$ ./configure CXXFLAGS="-march=native -fbogus"', 'checking for g++... g++', 'checking whether the C++ compiler works... no', 'configure: error: C++ compiler cannot create executables', "See `config.log' for more details")
    expect(top(log)?.category).not.toBe('command_not_found')
  })

  it('names the missing compiler and the package that brings it', () => {
    const d = top(step('$ ./configure', 'checking for gcc... no', 'checking for cc... no', 'configure: error: no acceptable C compiler found in $PATH'))
    expect(d?.category).toBe('command_not_found')
    expect(all(d)).toMatch(/C compiler/)
    expect(all(d)).toMatch(/build-essential|build-base/)
  })

  it('gettext\'s "git program not found" names git', () => {
    expect(top(step('$ ./autogen.sh', 'autopoint: *** git program not found', 'autopoint: *** Stop.'))?.title).toMatch(/\bgit\b/)
  })
})

describe('container privileges', () => {
  it('ping that cannot resolve a name is not a capability problem', () => {
    expect(cats(step('$ ping -c 1 db', 'ping: bad address \'db\''))).not.toContain('container_net_raw_denied')
  })

  it('mknod refused names the device and the runner settings, for the executor at hand', () => {
    const d = top(['Preparing the "kubernetes" executor', ...step('$ mknod -m 0660 /dev/sdb b 8 16', "mknod: '/dev/sdb': Operation not permitted").split('\n')].join('\n'))
    expect(d?.category).toBe('container_device_unavailable')
    expect(all(d)).toMatch(/\/dev\/sdb/)
    expect(all(d)).toMatch(/\[runners\.kubernetes\]/)
  })

  it('a mount refused to a non-root user of a shell runner is still the mount privilege, not a device', () => {
    const d = top(['Preparing the "shell" executor', ...step('$ mount /dev/sdb1 /mnt', 'mount: only root can do that').split('\n')].join('\n'))
    expect(d?.category).toBe('unprivileged_container_build')
    expect(all(d)).toMatch(/sudoers/)
    expect(all(d)).not.toMatch(/\[runners\.docker\]/)
  })
})

describe('packages and toolchains', () => {
  it('apt naming the replacement of an obsolete package offers it; a floating image tag is named', () => {
    const log = ['Using Docker executor with image ubuntu:latest ...', ...step('$ apt install -y policykit-1', 'Package policykit-1 is not available, but is referred to by another package.', 'However the following packages replace it:', '  polkitd pkexec', '', "Error: Package 'policykit-1' has no installation candidate").split('\n')].join('\n')
    const d = top(log)
    expect(d?.category).toBe('package_not_found')
    expect(all(d)).toMatch(/polkitd pkexec/)
    expect(all(d)).toMatch(/ubuntu:<release>/)
  })

  it('a pinned image tag gets no "pin the release" advice', () => {
    const log = ['Using Docker executor with image ubuntu:22.04 ...', ...step('$ apt-get update && apt-get install -y libfoo', 'E: Unable to locate package libfoo').split('\n')].join('\n')
    expect(all(top(log))).not.toMatch(/pin the release/)
  })

  it('go switching toolchains says the download failed, not only "older"', () => {
    expect(all(top(step('$ go test ./...', 'go: downloading go1.22.2 (linux/amd64)', 'go: download go1.22.2 for linux/amd64: toolchain not available')))).toMatch(/could not download/)
  })
})

describe('a worker\'s Docker daemon', () => {
  it('a helper pull that never reached the daemon is not the registry\'s fault, and not the job\'s egress', () => {
    const log = [
      'WARNING: Failed to pull image with policy "always": Post "https://10.164.0.84:2376/v1.47/images/create?fromImage=registry.gitlab.com%2Fgitlab-org%2Fgitlab-runner%2Fgitlab-runner-helper&tag=x86_64-v18.4.0": dial tcp 10.164.0.84:2376: i/o timeout (manager.go:238:10s)',
      'ERROR: Job failed (system failure): waiting for container: Post "https://10.164.0.84:2376/v1.47/containers/985e4f394df3/wait?condition=not-running": dial tcp 10.164.0.84:2376: i/o timeout',
    ].join('\n')
    const c = cats(log)
    expect(c[0]).toBe('machine_provisioning_failed')
    expect(c).not.toContain('helper_image_pull_failed')
    expect(c).not.toContain('egress_blocked_firewall')
  })

  it('a helper image the registry refuses is still the helper image', () => {
    const log = 'ERROR: Job failed: failed to pull image "registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v18.4.0" with specified policies [always]: Error response from daemon: manifest unknown'
    expect(cats(log)).toContain('helper_image_pull_failed')
  })
})

describe('twelfth rule pass', () => {
  it('GRUB inside a VM saying "Cannot allocate memory for OS image" is not the job running out of memory', () => {
    expect(cats(step('$ ./run-vm-test.sh', 'loader/multiboot.c:117: Cannot allocate memory for OS image'))).not.toContain('oom_killed')
  })

  it('fork failing with ENOMEM is still memory', () => {
    expect(top(step('$ make -j32', 'make: fork: Cannot allocate memory'))?.category).toBe('oom_killed')
  })

  it('the runner failing to remove volumes after the script already failed is not the answer', () => {
    const log = ['Executing "step_script" stage of the job script', '$ make test', 'make: *** [Makefile:12: test] Error 1', 'Cleaning up project directory and file based variables', 'ERROR: Failed to cleanup volumes', 'ERROR: Job failed: exit code 2'].join('\n')
    expect(cats(log)).not.toContain('docker_engine_broken')
  })

  it('a glob over too many files is told apart from a too large environment', () => {
    const d = top(step('$ rm build/*.o', '/bin/rm: Argument list too long'))
    expect(d?.category).toBe('job_environment_too_large')
    expect(all(d)).toMatch(/xargs/)
    expect(d?.confidence).toBeLessThan(0.8)
  })

  it('CMake\'s unsuitable version, wrapped as CMake wraps it, is a version too old', () => {
    expect(top(step('$ cmake -S . -B build', 'CMake Error at /usr/share/cmake-3.22/Modules/FindPackageHandleStandardArgs.cmake:230 (message):', '  Could NOT find Boost: Found unsuitable version "1.74.0", but required is at', '  least "1.81" (found /usr/include, )'))?.category).toBe('toolchain_version_too_old')
  })
})

describe('fifteenth rule pass', () => {
  it('a refused connection to a service on localhost or a private address is not a third-party server that is down', () => {
    expect(cats(step('$ psql -h localhost -c "select 1"', 'curl: (7) Failed to connect to localhost port 5432 after 0 ms: Connection refused'))).not.toContain('upstream_service_unavailable')
    expect(cats(step('$ curl -fsS http://10.0.3.7:8080/health', 'curl: (7) Failed to connect to 10.0.3.7 port 8080 after 2 ms: Connection refused'))).not.toContain('upstream_service_unavailable')
  })

  it('a public download server refusing comes with the firewall as the second answer', () => {
    const c = cats(step('$ curl -fsSLO https://downloads.example.org/tool.tar.gz', 'curl: (7) Failed to connect to downloads.example.org port 443 after 31 ms: Connection refused'))
    expect(c.slice(0, 2)).toEqual(['upstream_service_unavailable', 'egress_blocked_firewall'])
  })

  it('dash\'s "cannot create" outside a checkout under /builds is not the build directory', () => {
    expect(cats(step('$ make -C /opt/tool', "make: Entering directory '/opt/tool'", '/bin/sh: 1: cannot create out.tmp: Permission denied'))).not.toContain('permission_denied_builds_dir')
  })
})
