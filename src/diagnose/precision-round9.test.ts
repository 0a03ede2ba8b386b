import { describe, expect, it } from 'vitest'
import { all, cats, on, run, step, top } from '../../test/support/diagnose-log.js'
import { unnumberPaste } from './paste-numbers.js'
import { parseTrace } from './trace.js'

// Kept from review rv6 (helper) of the commits from "review rv5 mended" (bd08492) on: the seventeenth and
// eighteenth rule passes and rv5's mends. All 26 findings (F1…F26) are mended: each states the behaviour
// expected where the reviewed code failed; a guard pins behaviour that must stay.

const dockerStage = (...lines: string[]): string => ['Preparing the "docker" executor', 'Using docker image sha256:7bb1 for ghcr.io/acme/tool:1.2 with digest ghcr.io/acme/tool@sha256:c1a9 ...', 'Executing "step_script" stage of the job script', ...lines, 'ERROR: Job failed: exit code 1'].join('\n')
const shellStage = (shell: string, ...lines: string[]): string => ['Preparing the "shell" executor', `Using Shell (${shell}) executor...`, 'Getting source from Git repository', 'Skipping Git repository setup', 'Executing "step_script" stage of the job script', ...lines, 'ERROR: Job failed: exit status 1'].join('\n')
const confidenceOf = (log: string, category: string): number => {
  const d = top(log)
  return d?.category === category ? d.confidence : 0
}

describe('image.ts silentScript(): a script stage without any "$ command"', () => {
  it('F1: not on the shell executor, which has no image and no ENTRYPOINT (bash failed to cd into the build directory)', () => {
    const log = shellStage('bash', 'bash: line 137: cd: /home/gitlab-runner/builds/x1/0/group/proj: No such file or directory')
    expect(cats(log)).not.toContain('image_entrypoint_override')
  })
  it('F2: not on a PowerShell shell runner whose profile failed before the first echo', () => {
    const log = shellStage('powershell', 'File C:\\Users\\runner\\Documents\\WindowsPowerShell\\profile.ps1 cannot be loaded because running scripts is disabled on this system.')
    expect(cats(log)).not.toContain('image_entrypoint_override')
  })
  it('guard: a docker job whose image printed a tool\'s log lines and no command is still answered', () => {
    const d = top(dockerStage('2021/02/13 00:47:29 failed to initialize options: arguments error'))
    expect(d?.category).toBe('image_entrypoint_override')
    expect(all(d)).toContain('entrypoint: [""]')
  })
})

describe('registry.ts serviceName(): "invalid service name"', () => {
  it('F3: a deploy tool\'s own "invalid service name:" in the script is not the runner refusing a services: entry', () => {
    const log = step('$ ./deploy.sh api_v2', 'Error: invalid service name: api_v2 (only letters, numbers, hyphens allowed)')
    expect(cats(log)).not.toContain('image_reference_invalid')
  })
  it('guard: the runner\'s system failure still is', () => {
    expect(top(['Preparing the "docker" executor', 'ERROR: Job failed (system failure): invalid service name: '].join('\n'))?.category).toBe('image_reference_invalid')
  })
})

describe('container-privileges.ts sandbox()', () => {
  it('F4: opam\'s sandbox hook around an OCaml type error is the compile error, not the sandbox', () => {
    const log = step('$ opam install . -y',
      '[ERROR] The compilation of mylib.dev failed at "/root/.opam/opam-init/hooks/sandbox.sh build dune build -p mylib -j 7 @install".',
      '',
      '#=== ERROR while compiling mylib.dev ============================#',
      '# exit-code            1',
      '### output ###',
      '# File "src/foo.ml", line 3, characters 8-11:',
      '# 3 | let x = "a" + 1',
      '#             ^^^',
      '# Error: This expression has type string but an expression was expected of type',
      '#          int',
      '',
      '<><> Error report <><><><><><><><><><><><><><><><><><><><><><><><><><><><>',
      '┌─ The following actions failed',
      '│ λ build mylib dev',
      '└─ ')
    expect(top(log)?.category).not.toBe('unprivileged_container_build')
  })
  it('F5: bubblewrap refused a fresh /proc (Docker\'s masked /proc, no CAP_SYS_ADMIN)', () => {
    const d = top(step('$ opam install . -y', 'bwrap: Can\'t mount proc on /newroot/proc: Operation not permitted'))
    expect(d?.category).toBe('unprivileged_container_build')
    expect(d?.confidence).toBeGreaterThanOrEqual(0.7)
  })
  it('F6: bubblewrap refused its network namespace\'s loopback (no CAP_NET_ADMIN)', () => {
    const d = top(step('$ opam install . -y', 'bwrap: loopback: Failed RTM_NEWADDR: Operation not permitted'))
    expect(d?.category).toBe('unprivileged_container_build')
    expect(d?.confidence).toBeGreaterThanOrEqual(0.7)
  })
  it('guard: bubblewrap without user namespaces, and Nix\'s sandbox', () => {
    expect(top(step('$ opam install . -y', 'bwrap: No permissions to creating new namespace, likely because the kernel does not allow non-privileged user namespaces.'))?.category).toBe('unprivileged_container_build')
    expect(all(top(step('$ nix build .#app', 'error: cloning builder process: Operation not permitted')))).toContain('sandbox false')
  })
})

describe('build-dependencies.ts: CMake', () => {
  it('F7: find_package(Qt5 REQUIRED) without CONFIG: the "By not providing FindQt5.cmake" paragraph puts the line 5 lines under "CMake Error"', () => {
    const log = step('$ cmake -S . -B build',
      'CMake Error at CMakeLists.txt:10 (find_package):',
      '  By not providing "FindQt5.cmake" in CMAKE_MODULE_PATH this project has',
      '  asked CMake to find a package configuration file provided by "Qt5", but',
      '  CMake did not find one.',
      '',
      '  Could not find a package configuration file provided by "Qt5" with any of',
      '  the following names:',
      '',
      '    Qt5Config.cmake',
      '    qt5-config.cmake',
      '',
      '-- Configuring incomplete, errors occurred!')
    expect(top(log)?.category).toBe('dev_headers_missing')
  })
  it('F8: pkg_check_modules on a pkgconf image (Debian 12, Fedora, Alpine) prints pkgconf\'s wording as a status line', () => {
    const log = step('$ cmake -S . -B build',
      '-- Checking for module \'libusb-1.0\'',
      '--   Package \'libusb-1.0\', required by \'virtual:world\', not found',
      'CMake Error at /usr/share/cmake-3.25/Modules/FindPkgConfig.cmake:607 (message):',
      '  A required package was not found',
      'Call Stack (most recent call first):',
      '-- Configuring incomplete, errors occurred!')
    expect(top(log)?.category).toBe('dev_headers_missing')
  })
  it('F9: FindSWIG\'s "(missing: SWIG_EXECUTABLE SWIG_DIR)" is a program, not a library', () => {
    const log = step('$ cmake -S . -B build',
      'CMake Error at /usr/share/cmake-3.25/Modules/FindPackageHandleStandardArgs.cmake:230 (message):',
      '  Could NOT find SWIG (missing: SWIG_EXECUTABLE SWIG_DIR)',
      'Call Stack (most recent call first):',
      '-- Configuring incomplete, errors occurred!')
    expect(cats(log)).not.toContain('dev_headers_missing')
  })
  it('guard: an optional package\'s status line, then a failure elsewhere', () => {
    const log = step('$ cmake -S . -B build', '-- Could NOT find ZLIB (missing: ZLIB_LIBRARY ZLIB_INCLUDE_DIR)', '-- Configuring done', '$ cmake --build build', 'make: *** [Makefile:146: all] Error 2')
    expect(cats(log)).not.toContain('dev_headers_missing')
  })
})

describe('build-dependencies.ts: headers', () => {
  it('F10: autoconf\'s generated config.h included with <…> is the project\'s (configure did not run), not a package', () => {
    const log = step('$ make', 'src/main.c:1:10: fatal error: config.h: No such file or directory', '    1 | #include <config.h>', '      |          ^~~~~~~~~~', 'compilation terminated.', 'make: *** [Makefile:10: src/main.o] Error 1')
    expect(cats(log)).not.toContain('dev_headers_missing')
  })
  it('F11: <widget/version.h> of the project widget, compiled with a relative path from the build directory', () => {
    const log = ['Preparing the "docker" executor', 'Getting source from Git repository', 'Initialized empty Git repository in /builds/acme/widget/.git/', 'Executing "step_script" stage of the job script',
      '$ cmake --build build', '../src/main.c:3:10: fatal error: widget/version.h: No such file or directory', '    3 | #include <widget/version.h>', '      |          ^~~~~~~~~~~~~~~~~~', 'compilation terminated.', 'ERROR: Job failed: exit code 1'].join('\n')
    expect(cats(log)).not.toContain('dev_headers_missing')
  })
  it('F12: MSVC cannot open unistd.h: a POSIX header Windows never has (the code is not portable), not a vcpkg port', () => {
    const d = top(on('shell', '$ cmake --build build', 'C:\\builds\\g\\p\\src\\main.c(3): fatal error C1083: Cannot open include file: \'unistd.h\': No such file or directory'))
    expect(all(d)).not.toContain('vcpkg install unistd')
  })
  it('F13: MSVC\'s libpq-fe.h comes with vcpkg\'s port libpq, not "libpq-fe"', () => {
    const d = top(on('shell', '$ cmake --build build', 'C:\\builds\\g\\p\\src\\db.c(3): fatal error C1083: Cannot open include file: \'libpq-fe.h\': No such file or directory'))
    expect(all(d)).toContain('vcpkg install libpq:')
  })
  it('guard: a quoted include of an unknown header is the project\'s', () => {
    expect(cats(step('$ make', 'src/a.c:2:10: fatal error: widget_priv.h: No such file or directory', '    2 | #include "widget_priv.h"', 'compilation terminated.'))).not.toContain('dev_headers_missing')
  })
})

describe('build-dependencies.ts: the linker\'s missing -l', () => {
  it('F14: gold says "error: cannot find -lgmp"', () => {
    const d = top(step('$ stack build', '/usr/bin/ld.gold: error: cannot find -lgmp', 'collect2: error: ld returned 1 exit status'))
    expect(d?.category).toBe('dev_headers_missing')
    expect(all(d)).toContain('libgmp-dev')
  })
  it('F15: mold says "fatal: library not found: ssl"', () => {
    expect(top(step('$ cargo build', '  = note: mold: fatal: library not found: ssl', '          clang: error: linker command failed with exit code 1 (use -v to see invocation)'))?.category).toBe('dev_headers_missing')
  })
  it('F16: Apple\'s ld since Xcode 15 says "library \'ssl\' not found"', () => {
    expect(top(on('shell', '$ make', 'ld: library \'ssl\' not found', 'clang: error: linker command failed with exit code 1 (use -v to see invocation)'))?.category).toBe('dev_headers_missing')
  })
  it('F17: Apple\'s ld is macOS: the fix is Homebrew and the library path, not apt/dnf/apk', () => {
    const d = top(on('shell', '$ make', 'ld: library not found for -lssl', 'clang: error: linker command failed with exit code 1 (use -v to see invocation)'))
    expect(d?.category).toBe('dev_headers_missing')
    expect(all(d)).not.toContain('apt-get')
    expect(all(d)).toMatch(/brew/)
  })
  it('guard: GNU ld with binutils 2.39\'s suffix', () => {
    const d = top(step('$ make', '/usr/bin/ld: cannot find -lz: No such file or directory', 'collect2: error: ld returned 1 exit status'))
    expect(d?.category).toBe('dev_headers_missing')
    expect(all(d)).toContain('zlib1g-dev')
  })
})

describe('dev-packages.ts: package names', () => {
  it('F18: gtk4 is libgtk-4-dev / gtk4-devel / gtk4.0-dev; the snippet installs GTK 3', () => {
    const d = top(step('$ meson setup build', 'Run-time dependency gtk4 found: NO (tried pkgconfig and cmake)', '', 'meson.build:12:0: ERROR: Dependency "gtk4" not found, tried pkgconfig and cmake'))
    expect(d?.category).toBe('dev_headers_missing')
    const snippet = d?.fixes[0]?.snippet ?? ''
    expect(snippet).toContain('libgtk-4-dev')
    expect(snippet).toContain('gtk4-devel')
    expect(snippet).toContain('gtk4.0-dev')
  })
})

describe('packages.ts muslRelocation(): musl\'s "Error relocating" inside a language\'s error', () => {
  it('F19: Python\'s ImportError of a glibc-built (manylinux) extension on Alpine', () => {
    const d = top(step('$ python -c "import grpc"', 'Traceback (most recent call last):', '  File "<string>", line 1, in <module>', 'ImportError: Error relocating /usr/local/lib/python3.9/site-packages/grpc/_cython/cygrpc.cpython-39-x86_64-linux-gnu.so: __strdup: symbol not found'))
    expect(d?.category).toBe('binary_loader_missing')
  })
  it('F20: Node\'s dlopen error of a glibc-built addon on Alpine', () => {
    const d = top(step('$ node index.js', 'Error: Error relocating /app/node_modules/sharp/build/Release/sharp.node: __sprintf_chk: symbol not found'))
    expect(d?.category).toBe('binary_loader_missing')
  })
  it('guard: musl\'s own line', () => {
    expect(top(step('$ ./tool', 'Error relocating /usr/local/bin/tool: __memcpy_chk: symbol not found'))?.category).toBe('binary_loader_missing')
  })
})

describe('tls.ts: Node clients\' OpenSSL texts', () => {
  it('F21: yarn v1 quotes the URL and the reason, without "Error:" or a code', () => {
    const d = top(step('$ yarn install', 'yarn install v1.22.19', '[1/4] Resolving packages...', 'error An unexpected error occurred: "https://registry.yarnpkg.com/react: unable to get local issuer certificate".'))
    expect(d?.category).toBe('tls_untrusted_ca')
    expect(d?.confidence).toBeGreaterThanOrEqual(0.5)
  })
  it('F22: Node 17+ words DEPTH_ZERO_SELF_SIGNED_CERT "self-signed certificate"', () => {
    const d = top(step('$ node deploy.js', 'Error: self-signed certificate', '    at TLSSocket.onConnectSecure (node:_tls_wrap:1674:34)'))
    expect(d?.category).toBe('tls_untrusted_ca')
    expect(d?.confidence).toBeGreaterThanOrEqual(0.5)
  })
  it('guard: got\'s RequestError', () => {
    expect(top(step('$ npx semantic-release', 'RequestError: unable to get local issuer certificate'))?.category).toBe('tls_untrusted_ca')
  })
})

describe('dind.ts: storage without d_type', () => {
  it('F23: kaniko\'s unlinkat on the Kubernetes executor is not a Docker host\'s disk at 0.7 (kaniko\'s own open bugs; no dockerd there)', () => {
    const log = ['Preparing the "kubernetes" executor', 'Using Kubernetes executor with image gcr.io/kaniko-project/executor:debug ...', 'Executing "step_script" stage of the job script', '$ /kaniko/executor --context . --destination reg/app:1', 'INFO[0139] Deleting filesystem...', 'error building image: deleting file system after stage 2: unlinkat //usr/src/app: directory not empty', 'ERROR: Job failed: command terminated with exit code 1'].join('\n')
    expect(confidenceOf(log, 'docker_engine_broken')).toBeLessThan(0.6)
    expect(all(top(log))).not.toContain('docker info')
  })
  it('F24: dockerd\'s d_type refusal is not "removing a directory left it non-empty"', () => {
    const log = ['Preparing the "docker" executor', 'Starting service docker:24-dind ...', 'Service container logs:', 'failed to start daemon: error initializing graphdriver: overlay2: the backing xfs filesystem is formatted without d_type support, which leads to incorrect behavior. Reformat the filesystem with ftype=1 to enable d_type support. Running without d_type is not supported.: driver not supported', 'Executing "step_script" stage of the job script', '$ docker build -t app .', 'Cannot connect to the Docker daemon at tcp://docker:2375. Is the docker daemon running?', 'ERROR: Job failed: exit code 1'].join('\n')
    const engine = run(log).diagnoses.find((x) => x.category === 'docker_engine_broken')
    expect(engine).toBeDefined()
    expect(engine?.cause).not.toContain('removing a directory inside the container left it non-empty')
  })
})

describe('paste-numbers.ts: several copied ranges', () => {
  const stamped = Array.from({ length: 30 }, (_, i) => `2024-05-01T10:00:${String(i).padStart(2, '0')}.000Z step ${i}`)
  it('F25: lines that all start with the same date are not numbered ("2" on line i and "20" on line i+18 are not a copied range)', () => {
    expect(unnumberPaste(stamped)).toBeUndefined()
  })
  it('F26: the reader keeps such a paste\'s text (it strips twice now: the normalized text is normalized again)', () => {
    expect(parseTrace(stamped.join('\n')).lines[0]?.text).toBe(stamped[0])
  })
  it('guard: a GitLab copy with glued numbers is still read without them', () => {
    const copied = ['2608$ ./configure', '2609checking for gcc... gcc', '2610configure: error: Cannot find libpq']
    expect(unnumberPaste(copied)).toEqual(['$ ./configure', 'checking for gcc... gcc', 'configure: error: Cannot find libpq'])
  })
})

describe('build-deploy.ts buildxTls()', () => {
  it('guard: buildx\'s refusal as it prints it ("error: …"), with the context fix', () => {
    const d = top(step('$ docker buildx create --use', 'error: could not create a builder instance with TLS data loaded from environment. Please use `docker context create <context-name>` to create a context for current environment and then create a builder instance with `docker buildx create <context-name>`'))
    expect(d?.category).toBe('dind_buildx_context_missing')
    expect(all(d)).toContain('docker context create')
  })
})

