import { describe, expect, it } from 'vitest'
import { expectLinear, sized } from '../../test/support/linear-time.js'
import { all, cats, run, step, top } from '../../test/support/diagnose-log.js'

/**
 * Review of the rule passes after da91717 (lifecycle E2BIG, tls curl 77, kubernetes OOM wordings,
 * config needs/stage/include, packages version requirements and symbol versions, dind cleanup
 * volumes, script GLib clock, network refused public servers and busybox wget, image Meson
 * programs, runner RemoteDisconnected, host dash "cannot create"). A case that fails shows a
 * defect; the passing ones are guards. Wordings are the tools' own (curl lib/vtls, GitLab's
 * yaml_processor and needs validation, pkg-config/pkgconf, Meson, CMake FPHSA, RubyGems,
 * Bundler, FreeBSD rtld, GNU findutils).
 */

describe('network.ts refused(): a refused connection is a public server being down only for downloads', () => {
  it('ssh to github.com:22 refused is an outbound SSH block, not GitHub being down', () => {
    const log = step('$ git clone git@github.com:acme/lib.git', 'ssh: connect to host github.com port 22: Connection refused', 'fatal: Could not read from remote repository.')
    expect(top(log)?.category).not.toBe('upstream_service_unavailable')
  })

  it('a refused proxy (the job\'s https_proxy, port 3128) is the proxy, not a third-party download server', () => {
    const log = step('$ export https_proxy=http://proxy.corp.example.com:3128', '$ curl -fsSL https://deb.nodesource.com/setup_20.x -o setup.sh', 'curl: (7) Failed to connect to proxy.corp.example.com port 3128 after 2 ms: Connection refused')
    expect(top(log)?.category).not.toBe('upstream_service_unavailable')
    expect(top(log)?.title).not.toMatch(/proxy\.corp\.example\.com refused the connection/)
  })

  it('a server the job started itself, on a reserved internal name (.test), is not a third-party server that went away', () => {
    const log = step('$ python -m http.server 8000 --bind 0.0.0.0 &', '$ curl -fsS http://app.example.test:8000/health', 'curl: (7) Failed to connect to app.example.test port 8000 after 0 ms: Connection refused')
    expect(top(log)?.category).not.toBe('upstream_service_unavailable')
  })

  it('a Kubernetes API server (kubectl, port 6443) refusing is not a download server', () => {
    const log = step('$ kubectl apply -f deploy.yaml', 'E0101 10:00:00.000000 1 memcache.go:265] couldn\'t get current server API group list: Get "https://35.1.2.3:6443/api?timeout=32s": dial tcp 35.1.2.3:6443: connect: connection refused')
    expect(top(log)?.category).not.toBe('upstream_service_unavailable')
  })

  it('busybox wget (no port in its message): the fixes do not print "80/443" as a port to nc or a firewall rule', () => {
    const log = step('$ wget -q https://dl.example.org/pkg.tar.gz', "wget: can't connect to remote host (93.184.216.34): Connection refused")
    const text = run(log).diagnoses.map(all).join('\n')
    expect(text).not.toMatch(/nc -z \S+ 80\/443/)
    expect(text).not.toMatch(/allow TCP 80\/443/)
  })
})

describe('dind.ts: "Failed to cleanup volumes" after a script that failed quietly', () => {
  it('a script step that failed without an error word (test -f) is still the failure, not the volume clean-up', () => {
    const log = ['Executing "step_script" stage of the job script', '$ test -f dist/app.js', 'Running after_script', 'Cleaning up project directory and file based variables', 'ERROR: Failed to cleanup volumes', 'ERROR: Job failed: exit code 1'].join('\n')
    expect(top(log)?.category).not.toBe('docker_engine_broken')
  })

  it('go test\'s "--- FAIL:" / "FAIL" is a failed script (the \\bfailed\\b filter misses it)', () => {
    const log = ['Executing "step_script" stage of the job script', '$ go test ./...', '--- FAIL: TestTotal (0.00s)', 'FAIL\tacme/app\t0.012s', 'Cleaning up project directory and file based variables', 'ERROR: Failed to cleanup volumes', 'ERROR: Job failed: exit code 1'].join('\n')
    expect(top(log)?.category).not.toBe('docker_engine_broken')
  })

  it('guard: a job timeout keeps its own answer first', () => {
    const log = ['Executing "step_script" stage of the job script', '$ ./long-task.sh', 'ERROR: Job failed: execution took longer than 1h0m0s seconds', 'ERROR: Failed to remove container abc', 'ERROR: Failed to cleanup volumes'].join('\n')
    expect(top(log)?.category).toBe('job_timeout')
  })
})

describe('runner.ts TRANSIENT: Python\'s RemoteDisconnected', () => {
  it('inside a pip retry warning that recovered, with a failing test after, is not the failure', () => {
    const log = step('$ pip install -r requirements.txt', "WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection broken by 'ProtocolError('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))': /simple/requests/", 'Successfully installed requests-2.31.0', '$ pytest', 'FAILED tests/test_api.py::test_total - assert 41 == 42', '1 failed, 40 passed in 3.2s')
    expect(top(log)?.category).not.toBe('transient_failure')
  })

  it('from the app the job started itself on localhost is that app crashing, not a flaky network (no retry: advice first)', () => {
    const log = step('$ ./manage.py runserver 0.0.0.0:8000 &', '$ python smoke.py http://localhost:8000/', "requests.exceptions.ConnectionError: ('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))")
    expect(top(log)?.category).not.toBe('transient_failure')
  })
})

describe('packages.ts TOO_OLD: version requirements that are not a minimum', () => {
  const older = /older than the project requires/
  it('CMake "required is exact version" with a newer Python found is not "older"', () => {
    const log = step('$ cmake -B build', 'CMake Error at /usr/share/cmake-3.28/Modules/FindPackageHandleStandardArgs.cmake:230 (message):', '  Could NOT find Python3: Found unsuitable version "3.12.3", but required is', '  exact version "3.11" (found /usr/bin/python3, found components: Interpreter)')
    expect(top(log)?.title).not.toMatch(older)
  })

  it('CMake version range (FPHSA "required range is") with a version above the range is not "older"', () => {
    const log = step('$ cmake -B build', '  Could NOT find Boost: Found unsuitable version "1.86.0", required range is "1.70...<1.85" (found /usr/include)')
    expect(top(log)?.title).not.toMatch(older)
  })

  it('pkg-config upper bound (foo < 2.0, found 2.1.0) is a library too new', () => {
    const log = step('$ ./configure', 'configure: error: Package requirements (foo < 2.0) were not met:', '', "Requested 'foo < 2.0' but version of foo is 2.1.0")
    expect(top(log)?.title).not.toMatch(older)
  })

  it('Meson upper bound (need [\'<2.0\'] found 2.1.0) is a library too new', () => {
    const log = step('$ meson setup build', "Dependency foo found: NO found 2.1.0 but need: '< 2.0'", "meson.build:12:0: ERROR: Invalid version of dependency, need 'foo' ['<2.0'] found '2.1.0'.")
    expect(top(log)?.title).not.toMatch(older)
  })

  it('RubyGems "requires Ruby version < 2.8.dev, >= 2.3.0" on Ruby 3.2 is a Ruby too new for that gem version', () => {
    const log = step('$ gem install nokogiri -v 1.10.10', 'ERROR:  Error installing nokogiri:', '\tnokogiri-1.10.10 requires Ruby version < 2.8.dev, >= 2.3.0. The current ruby version is 3.2.2.53.')
    expect(top(log)?.title).not.toMatch(older)
  })

  it('Bundler with a Ruby newer than the Gemfile\'s exact pin (a floating ruby:3.1 tag moved to 3.1.6) is not "older"', () => {
    const log = ['Using Docker executor with image ruby:3.1 ...', step('$ bundle install', 'Your Ruby version is 3.1.6, but your Gemfile specified 3.1.2')].join('\n')
    expect(top(log)?.title).not.toMatch(older)
  })
})

describe('wordings the tools print that the new patterns miss', () => {
  it('curl ≥ 7.7x (OpenSSL backend): "curl: (77) error setting certificate file: <path>"', () => {
    expect(top(step('$ curl -fsSL https://example.com/install.sh | sh', 'curl: (77) error setting certificate file: /etc/ssl/certs/ca-certificates.crt'))?.category).toBe('tls_untrusted_ca')
  })

  it('guard: the older three-line form is read, with its CAfile', () => {
    const d = top(step('$ curl -fsSL https://example.com/install.sh | sh', 'curl: (77) error setting certificate verify locations:', '  CAfile: /etc/ssl/certs/ca-certificates.crt', '  CApath: none'))
    expect(d?.category).toBe('tls_untrusted_ca')
    expect(all(d)).toMatch(/\/etc\/ssl\/certs\/ca-certificates\.crt/)
  })

  it('GitLab\'s current stage error names the stage: "<job> job: chosen stage <s> does not exist; available stages are …"', () => {
    expect(top('build-job job: chosen stage build does not exist; available stages are .pre, test, .post')?.category).toBe('yaml_config_error')
  })

  it('the needs error wrapped over two lines (as mailed or pasted): "… job needs \'b\' job" / "but \'b\' is not in any previous stage"', () => {
    const log = ["'cross-loongarch64-system' job needs 'loongarch64-cross-container' job", "but 'loongarch64-cross-container' is not in any previous stage"].join('\n')
    expect(top(log)?.category).toBe('yaml_config_error')
  })

  it('an include of another project\'s file that is not there: "Project `<p>` file `<f>` does not exist!"', () => {
    expect(top('Project `acme/ci-templates` file `templates/build.yml` does not exist!')?.category).toBe('yaml_config_error')
  })

  it('pkgconf (pkg-config on Fedora, Alpine, Arch, Debian ≥ 12): "Package \'<p>\' has version \'<w>\', required version is \'>= <v>\'"', () => {
    const log = step('$ ./configure', 'configure: error: Package requirements (glib-2.0 >= 2.56) were not met:', '', "Package dependency requirement 'glib-2.0 >= 2.56' could not be satisfied.", "Package 'glib-2.0' has version '2.50.3', required version is '>= 2.56'")
    expect(top(log)?.category).toBe('toolchain_version_too_old')
  })

  it('pkg-config for a dependency of a dependency: "Package \'<a>\' requires \'<b> >= <v>\' but version of <b> is <w>"', () => {
    expect(top(step('$ ./configure', "Package 'gtk+-3.0' requires 'glib-2.0 >= 2.57.2' but version of glib-2.0 is 2.56.4"))?.category).toBe('toolchain_version_too_old')
  })

  it('Meson itself too old: "ERROR: Meson version is 0.55.1 but project requires >= 0.56.0"', () => {
    expect(top(step('$ meson setup build', 'meson.build:1:0: ERROR: Meson version is 0.55.1 but project requires >= 0.56.0'))?.category).toBe('toolchain_version_too_old')
  })

  it('Meson program version: "ERROR: Invalid version of program, need \'bison\' [\'>= 3.0\'] found \'2.3\'."', () => {
    expect(top(step('$ meson setup build', "Program bison found: NO found 2.3 but need: '>= 3.0'", "meson.build:40:2: ERROR: Invalid version of program, need 'bison' ['>= 3.0'] found '2.3'."))?.category).toBe('toolchain_version_too_old')
  })

  it('RubyGems too old (rubygems.rb): "<gem> requires RubyGems version >= 3.3.22. The current RubyGems version is 3.1.2."', () => {
    const log = step('$ gem install jekyll', 'ERROR:  Error installing jekyll:', "\tsass-embedded requires RubyGems version >= 3.3.22. The current RubyGems version is 3.1.2. Try 'gem update --system' to update RubyGems itself.")
    expect(top(log)?.category).toBe('toolchain_version_too_old')
  })

  it('Bundler with a requirement, not a version: "Your Ruby version is 2.7.8, but your Gemfile specified ~> 3.1.0"', () => {
    expect(top(step('$ bundle install', 'Your Ruby version is 2.7.8, but your Gemfile specified ~> 3.1.0'))?.category).toBe('toolchain_version_too_old')
  })

  it('FreeBSD rtld\'s versioned-symbol error: "ld-elf.so.1: /lib/libc.so.7: version FBSD_1.7 required by <prog> not found"', () => {
    expect(top(step('$ pkg install -y git', 'ld-elf.so.1: /lib/libc.so.7: version FBSD_1.7 required by /usr/local/sbin/pkg not found'))?.category).toBe('binary_loader_missing')
  })

  it('FreeBSD rtld\'s undefined symbol with its version: Undefined symbol "<sym>@<ver>"', () => {
    expect(top(step('$ ./app', 'ld-elf.so.1: /usr/local/lib/libfoo.so.2: Undefined symbol "bar@FBSD_1.0"'))?.category).toBe('binary_loader_missing')
  })

  it('glibc\'s versioned symbols of other libraries: "libz.so.1: version `ZLIB_1.2.9\' not found"', () => {
    expect(top(step('$ ./tool', "./tool: /lib/x86_64-linux-gnu/libz.so.1: version `ZLIB_1.2.9' not found (required by /usr/lib/libpng16.so.16)"))?.category).toBe('binary_loader_missing')
  })

  it('dnf config-manager with several ids: "No matching repo to modify: powertools, crb."', () => {
    expect(top(step('$ dnf config-manager --set-enabled powertools crb', 'Error: No matching repo to modify: powertools, crb.'))?.category).toBe('package_not_found')
  })

  it('E2BIG from Node ("Error: spawn E2BIG")', () => {
    expect(top(step('$ npx eslint $(git ls-files "*.ts")', 'Error: spawn E2BIG', '    at ChildProcess.spawn (node:internal/child_process:421:11)'))?.category).toBe('job_environment_too_large')
  })

  it('E2BIG from Rust ("Argument list too long (os error 7)")', () => {
    expect(top(step('$ cargo build', 'error: could not execute process `rustc --crate-name foo` (never executed)', '', 'Caused by:', '  Argument list too long (os error 7)'))?.category).toBe('job_environment_too_large')
  })

  it('E2BIG from Java ("error=7, Argument list too long")', () => {
    expect(top(step('$ ./gradlew test', 'java.io.IOException: Cannot run program "/usr/bin/javac": error=7, Argument list too long'))?.category).toBe('job_environment_too_large')
  })

  it('GNU find -exec: "find: The environment is too large for exec()."', () => {
    expect(top(step('$ find . -name "*.sh" -exec shellcheck {} +', 'find: The environment is too large for exec().'))?.category).toBe('job_environment_too_large')
  })

  it('gcc\'s LTO back end out of memory: "lto1: out of memory allocating …"', () => {
    expect(top(step('$ make', 'lto1: out of memory allocating 1048576 bytes after a total of 3221225472 bytes', 'lto-wrapper: fatal error: gcc returned 1 exit status'))?.category).toBe('oom_killed')
  })
})

describe('fixes that point the wrong way', () => {
  it('E2BIG from a glob (rm build/*.o): the file-list fix comes before unsetting GitLab\'s variables', () => {
    const d = top(step('$ rm -f build/*.o', '/bin/bash: line 142: /usr/bin/rm: Argument list too long'))
    expect(d?.category).toBe('job_environment_too_large')
    expect(d?.fixes[0]?.text).toMatch(/xargs|file list|response file/)
  })

  it('MSVC C1060 in a Win32 build: the fix names the 64-bit host toolset, not a Docker memory limit', () => {
    const d = top(step('> msbuild app.sln /p:Platform=Win32', 'src\\big.cpp(1): fatal error C1060: compiler is out of heap space [C:\\builds\\acme\\app\\app.vcxproj]'))
    expect(d?.category).toBe('oom_killed')
    expect(all(d)).toMatch(/PreferredToolArchitecture|host=x64|64-bit/)
    expect(d?.fixes[0]?.snippet ?? '').not.toMatch(/\[runners\.docker\]/)
  })

  it('"Cannot allocate memory" from io_uring/mlock (RLIMIT_MEMLOCK) is not an out-of-memory kill at 0.95', () => {
    const d = top(step('$ ./build/tests/io_uring_test', 'io_uring_queue_init: Cannot allocate memory', 'FAILED: io_uring_test'))
    expect(d?.category === 'oom_killed' && (d.confidence ?? 0) >= 0.9).toBe(false)
  })

  it('GLib\'s CLOCK_MONOTONIC abort in a cross-platform buildx build (qemu-user) names the emulator, not only seccomp', () => {
    const d = top(step('$ docker buildx build --platform linux/arm/v7 -t app .', '#8 [linux/arm/v7 3/5] RUN apt-get update && apt-get install -y libglib2.0-bin', '#8 12.3 (process:12): GLib-ERROR **: 10:00:00.000: GLib requires working CLOCK_MONOTONIC', '#8 12.3 Trace/breakpoint trap (core dumped)'))
    expect(all(d)).toMatch(/qemu|binfmt/i)
  })

  it('GLIBC_x required by a build product under /builds (a restored cache from a newer image) suggests clearing the cache', () => {
    const d = top(step('$ cargo test', 'error: failed to run custom build command for `ring v0.17.8`', "  /builds/acme/app/target/debug/build/ring-3c1/build-script-build: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found (required by /builds/acme/app/target/debug/build/ring-3c1/build-script-build)"))
    expect(d?.category).toBe('binary_loader_missing')
    expect(all(d)).toMatch(/cache/i)
  })
})

describe('host.ts: dash "cannot create" only in a make directory under /builds', () => {
  it('make left /builds and entered /tmp/out before the write: not the build directory', () => {
    const log = step('$ make && make -C /tmp/out install', "make[1]: Entering directory '/builds/acme/app/src'", "make[1]: Leaving directory '/builds/acme/app/src'", "make[1]: Entering directory '/tmp/out'", '/bin/sh: 1: cannot create config.h: Permission denied')
    expect(cats(log)).not.toContain('permission_denied_builds_dir')
  })

  it('guard: inside /builds it is the build directory, and the path is named', () => {
    const log = step('$ make -C docs', "make[1]: Entering directory '/builds/acme/app/docs'", '/bin/sh: 1: cannot create version.txt: Permission denied', 'make[1]: *** [Makefile:3: version.txt] Error 2')
    const d = top(log)
    expect(d?.category).toBe('permission_denied_builds_dir')
    expect(all(d)).toMatch(/\/builds\/acme\/app\/docs/)
  })
})

describe('guards', () => {
  it('the new patterns scan an 80k-character line of their own prefixes in linear time', () => {
    const shapes: Array<(k: number) => string> = [
      ['requires Ruby version 1', 3500], ["Requested 'a' but version of ", 2700], ["'a' job needs 'b' job, but ", 2900],
      ['fork/exec /a: argument list too longx ', 2000], ['symbol lookup error: a: undefined symbol: ', 1900], ['ld-elf.so.1: a: Undefined symbol "', 2200],
      ['.so.1: version `GLIBC_2', 3500], ['Your Ruby version is 1.2, but your Gemfile specified ', 1500], ["ERROR:  Invalid version of dependency, need 'a' ['", 1600],
      ['Could NOT find X: Found unsuitable version "', 1900], ["wget: can't connect to remote host (1.2.3.4", 1900], ['Cannot allocate memory  ', 3300],
      ["ERROR: Program 'a", 4500], ['chosen stage ', 6000],
    ].map(([unit, n]) => (k: number) => String(unit).repeat(sized(Number(n), k)))
    shapes.push((k) => 'Error: No matching repo to modify: ' + 'a.'.repeat(sized(40000, k)) + ' x')
    for (const shape of shapes) expectLinear((k) => { const log = step('$ echo "$BLOB"', shape(k)); return () => run(log) }, shape(0.001).slice(0, 30))
  })

  it('a Meson required program that is missing names it', () => {
    expect(top(step('$ meson setup build', "meson.build:20:0: ERROR: Program 'flex' not found or not executable"))?.title).toMatch(/\bflex\b/)
  })

  it('GRUB\'s "Cannot allocate memory for …" inside a VM is not the job\'s memory', () => {
    expect(cats(step('$ ./run-vm.sh', 'error: Cannot allocate memory for the kernel image.'))).not.toContain('oom_killed')
  })
})
