import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { expectLinear, sized } from '../../test/support/linear-time.js'
import { all, cats, run, step, top } from '../../test/support/diagnose-log.js'
import { diagnose } from './engine.js'
import { unnumberPaste } from './paste-numbers.js'
import { parseTrace, parseTraceStream } from './trace.js'

/**
 * Kept from review rv5 (helper) of 6b6b0b7..d31e309, all findings mended; then the seventeenth rule
 * pass's cases at the end. Review rv5 of 6b6b0b7..d31e309 (symptom tier, sixteenth rule pass, dev_headers_missing, glued line
 * numbers). A test under "finding" fails on the reviewed code and states the expected behaviour;
 * a test under "guard" passes and pins behaviour that must stay. REVIEW-rv5.md numbers the findings.
 */

const firstTwo = (log: string): string[] => cats(log).slice(0, 2)

describe('rules/build-dependencies.ts (dev_headers_missing)', () => {
  describe('finding', () => {
    // F1: FindPackageHandleStandardArgs prints message(STATUS "Could NOT find …") for a package that is not REQUIRED.
    it('F1a: an optional package CMake reports with "-- Could NOT find" in a configure that went on is not the failure', () => {
      const log = step('$ cmake -S . -B build', '-- Could NOT find LibXml2 (missing: LIBXML2_LIBRARY LIBXML2_INCLUDE_DIR)', '-- Configuring done', '-- Generating done',
        '$ cmake --build build', '[100%] Built target app', '$ ./build/app --selftest', 'selftest: checksum mismatch for sample.bin', 'error: 1 of 12 checks did not pass')
      expect(top(log)?.category).not.toBe('dev_headers_missing')
    })
    it('F1b: an optional find_package(CONFIG) warning is not the failure when the build fails later on its own code', () => {
      const log = step('$ cmake -S . -B build', 'CMake Warning at CMakeLists.txt:30 (find_package):', '  Could not find a package configuration file provided by "Qt6" with any of', '  the following names:',
        '$ cmake --build build', "src/app.cpp:42:7: error: use of undeclared identifier 'frobnicate'", '1 error generated.')
      expect(top(log)?.category).not.toBe('dev_headers_missing')
    })

    // F2: a missing <Pkg>_EXECUTABLE is a program (FindPythonInterp, FindJava), not a library's -dev package.
    it.each([
      ['PythonInterp', '  Could NOT find PythonInterp (missing: PYTHON_EXECUTABLE)'],
      ['Java', '  Could NOT find Java (missing: Java_JAVA_EXECUTABLE Java_JAR_EXECUTABLE Java_JAVAC_EXECUTABLE)'],
    ])('F2: CMake\'s Could NOT find %s (missing: *_EXECUTABLE) is a program, not a library', (_name, line) => {
      const log = step('$ cmake ..', 'CMake Error at /usr/share/cmake-3.22/Modules/FindPackageHandleStandardArgs.cmake:230 (message):', line)
      expect(top(log)?.category).not.toBe('dev_headers_missing')
    })

    // F3: the first autoconf pattern makes the library word optional, so any program configure looks for passes.
    it.each([['Cannot find java'], ['Could not find gawk'], ['Unable to find pandoc']])('F3: configure: error: %s is a program, not a library', (words) => {
      expect(top(step('$ ./configure', `configure: error: ${words}`))?.category).not.toBe('dev_headers_missing')
    })

    // F4: the program filter is applied to every tool: pkg-config's, Meson's and CMake's python3 are python3-dev.
    it('F4a: pkg-config and Meson not finding python3 is python3-dev', () => {
      const d = top(step('$ meson setup build', 'Package python3 was not found in the pkg-config search path.', "Perhaps you should add the directory containing `python3.pc'", 'meson.build:9:0: ERROR: Dependency "python3" not found, tried pkgconfig'))
      expect(d?.category).toBe('dev_headers_missing')
      expect(all(d)).toContain('python3-dev')
    })
    it('F4b: CMake\'s FindPython missing its Development component is python3-dev', () => {
      const d = top(step('$ pip install .', '  CMake Error at /usr/share/cmake-3.25/Modules/FindPackageHandleStandardArgs.cmake:230 (message):', '    Could NOT find Python (missing: Python_INCLUDE_DIRS Development.Module)'))
      expect(d?.category).toBe('dev_headers_missing')
      expect(all(d)).toContain('python3-dev')
    })

    // F5: a known library header is a library header however it is included (Cython output and CPython's own modules use "Python.h").
    it('F5: a quoted include of Python.h (Cython-generated C) is still python3-dev', () => {
      const d = top(step('$ pip install .', "      building 'fastmod' extension", '      fastmod.c:4:10: fatal error: Python.h: No such file or directory', '          4 | #include "Python.h"', '            |          ^~~~~~~~~~', '      compilation terminated.'))
      expect(d?.category).toBe('dev_headers_missing')
      expect(all(d)).toContain('python3-dev')
    })

    // F6: pkgconf (Alpine, Fedora, recent Debian/Ubuntu) words a missing module differently from freedesktop pkg-config.
    it('F6: pkgconf\'s "Package \'x\', required by \'virtual:world\', not found"', () => {
      const d = top(step('$ ./configure', 'checking for GLIB... no', 'configure: error: Package requirements (glib-2.0 >= 2.56) were not met:', '', "Package 'glib-2.0', required by 'virtual:world', not found"))
      expect(d?.category).toBe('dev_headers_missing')
      expect(all(d)).toContain('libglib2.0-dev')
    })

    // F7: CMake's pkg_check_modules prints pkg-config's error as a status line: "--   No package 'x' found".
    it('F7: CMake pkg_check_modules(REQUIRED) names the missing module on a "--" status line', () => {
      const d = top(step('$ cmake ..', "-- Checking for module 'gtk+-3.0'", "--   No package 'gtk+-3.0' found", 'CMake Error at /usr/share/cmake-3.25/Modules/FindPkgConfig.cmake:607 (message):', '  A required package was not found'))
      expect(d?.category).toBe('dev_headers_missing')
      expect(d?.title).toContain('gtk+-3.0')
    })

    // F8: CMake wraps message(FATAL_ERROR) text at ~80 columns; FindOpenSSL adds its FAIL_MESSAGE before "(missing:".
    it('F8a: FindOpenSSL\'s "Could NOT find OpenSSL, try to set the path …" (wrapped)', () => {
      const d = top(step('$ cmake ..', 'CMake Error at /usr/share/cmake-3.22/Modules/FindPackageHandleStandardArgs.cmake:230 (message):', '  Could NOT find OpenSSL, try to set the path to OpenSSL root folder in the', '  system variable OPENSSL_ROOT_DIR (missing: OPENSSL_CRYPTO_LIBRARY', '  OPENSSL_INCLUDE_DIR)'))
      expect(d?.category).toBe('dev_headers_missing')
      expect(all(d)).toContain('libssl-dev')
    })
    it('F8b: a "(missing: …)" list wrapped onto the next line', () => {
      expect(top(step('$ cmake ..', 'CMake Error at /usr/share/cmake-3.22/Modules/FindPackageHandleStandardArgs.cmake:230 (message):', '  Could NOT find Boost (missing: Boost_INCLUDE_DIR filesystem system thread', '  program_options)'))?.category).toBe('dev_headers_missing')
    })

    // F9: the linker's wording for the same missing -dev package (it ships the libz.so link the linker needs).
    it.each([
      ['GNU ld', '/usr/bin/ld: cannot find -lz: No such file or directory'],
      ['ld.lld', 'ld.lld: error: unable to find library -lz'],
    ])('F9: %s not finding -lz', (_ld, line) => {
      const d = top(step('$ make', 'gcc -o app main.o -lz', line, 'collect2: error: ld returned 1 exit status'))
      expect(d?.category).toBe('dev_headers_missing')
      expect(all(d)).toContain('zlib1g-dev')
    })

    // F10: Meson's compiler checks with required: true.
    it.each([["meson.build:20:2: ERROR: C header 'zlib.h' not found"], ["meson.build:20:2: ERROR: C shared or static library 'z' not found"]])('F10: Meson: %s', (line) => {
      expect(top(step('$ meson setup build', line))?.category).toBe('dev_headers_missing')
    })

    // F11: the language package managers' own wording for a missing -dev package.
    it('F11a: Ruby mkmf without ruby headers (ruby-dev / ruby-devel)', () => {
      const d = top(step('$ bundle install', 'Gem::Ext::BuildError: ERROR: Failed to build gem native extension.', '/usr/bin/ruby3.1 -I /usr/lib/ruby/3.1.0 extconf.rb', "mkmf.rb can't find header files for ruby at /usr/lib/ruby/include/ruby.h"))
      expect(d?.category).toBe('dev_headers_missing')
      expect(all(d)).toContain('ruby-dev')
    })
    it('F11b: psycopg2 without pg_config (libpq-dev)', () => {
      const d = top(step('$ pip install psycopg2', '      Error: pg_config executable not found.', '      pg_config is required to build psycopg2 from source.  Please add the directory'))
      expect(d?.category).toBe('dev_headers_missing')
      expect(all(d)).toContain('libpq-dev')
    })

    // F12: MSVC's C1083 is a Windows build: apt/dnf/apk are the wrong advice there.
    it('F12: MSVC C1083 does not advise Linux package managers', () => {
      const d = top(step('$ nmake', "src\\zip.c(3): fatal error C1083: Cannot open include file: 'zlib.h': No such file or directory"))
      expect(d?.category).toBe('dev_headers_missing')
      expect(all(d)).not.toMatch(/apt-get|dnf install|apk add/)
    })

    // F13: C++ headers without an extension (Eigen, Qt, the standard library).
    it('F13: gcc not finding <Eigen/Dense>', () => {
      expect(top(step('$ make', 'src/solver.cpp:3:10: fatal error: Eigen/Dense: No such file or directory', '    3 | #include <Eigen/Dense>', '      |          ^~~~~~~~~~~~~', 'compilation terminated.'))?.category).toBe('dev_headers_missing')
    })

    // F14: an angle-bracket include under the project's own name is the project's header (-Iinclude), not an image package.
    it('F14: <myproj/version.h> in /builds/g/myproj is not a confident "not in the image"', () => {
      const d = run(step('$ make', '/builds/g/myproj/src/main.c:3:10: fatal error: myproj/version.h: No such file or directory', '    3 | #include <myproj/version.h>', '      |          ^~~~~~~~~~~~~~~~~~', 'compilation terminated.')).diagnoses.find((x) => x.category === 'dev_headers_missing')
      expect(d?.confidence ?? 0).toBeLessThan(0.5)
    })

    // F15: INCLUDE's "\d+\s*\|?\s*" is quadratic on a long run of blanks after a number (80 000 characters: ~2 s).
    it('F15: a long line under the header error is read in linear time', () => {
      expectLinear((k) => {
        const log = step('$ make', 'src/zip.c:3:10: fatal error: zlib.h: No such file or directory', `   12${' '.repeat(sized(80_000, k))}x`, 'compilation terminated.')
        return () => run(log)
      })
    })
  })

  describe('guard', () => {
    it('a quoted include of an unknown (generated) header is not this class', () => {
      expect(cats(step('$ make', 'src/main.c:5:10: fatal error: generated/version.h: No such file or directory', '    5 | #include "generated/version.h"'))).not.toContain('dev_headers_missing')
    })
    it('a version CMake found but cannot use is a version problem', () => {
      expect(top(step('$ cmake ..', 'CMake Error at /usr/share/cmake-3.22/Modules/FindPackageHandleStandardArgs.cmake:230 (message):', '  Could NOT find ZLIB: Found unsuitable version "1.2.8", but required is at', '  least "1.2.11" (found /usr/lib/x86_64-linux-gnu/libz.so)'))?.category).toBe('toolchain_version_too_old')
    })
    it('pkg-config\'s missing libffi names the Alpine package too', () => {
      const d = top(step('$ make', 'Package libffi was not found in the pkg-config search path.', "Perhaps you should add the directory containing `libffi.pc'", 'to the PKG_CONFIG_PATH environment variable', "No package 'libffi' found"))
      expect(d?.category).toBe('dev_headers_missing')
      expect(all(d)).toContain('libffi-dev')
    })
    it('CMake\'s Could NOT find PkgConfig (the program) is not a library', () => {
      expect(cats(step('$ cmake ..', '  Could NOT find PkgConfig (missing: PKG_CONFIG_EXECUTABLE)'))).not.toContain('dev_headers_missing')
    })
  })
})

describe('symptoms.ts (the broad matches on the error line)', () => {
  describe('finding', () => {
    // S1: bash's parse error for an unclosed quote is the script's bug, not a cut connection.
    it('S1: bash "unexpected EOF while looking for matching" is not a cut transfer', () => {
      expect(cats(step('$ ./scripts/release.sh', "./scripts/release.sh: line 42: unexpected EOF while looking for matching `\"'"))).not.toContain('transient_failure')
    })

    // S2: ": not found" at the end of any line is read as a missing program.
    it.each([
      ['Helm\'s missing release', '$ helm rollback myapp 0 --namespace prod', 'Error: release: not found'],
      ['an HTTP 404 from urllib', '$ python fetch.py', 'urllib.error.HTTPError: HTTP Error 404: Not Found'],
    ])('S2: %s is not a missing program', (_what, command, line) => {
      expect(cats(step(command, line))).not.toContain('command_not_found')
    })

    // S3: esbuild's unresolved import is a module, not a host name.
    it('S3: esbuild "Could not resolve \\"react-dom/client\\"" is not DNS', () => {
      expect(cats(step('$ npm run build', '> vite build', '✘ [ERROR] Could not resolve "react-dom/client"', '    src/main.tsx:2:21:', '      2 │ import ReactDOM from "react-dom/client"'))).not.toContain('dns_resolution_failure')
    })

    // S4: a linker's undefined symbol is the build's link error; the loader family's fix (ldd <program>) does not apply.
    it('S4: ld.lld "undefined symbol" at link time is not a loader failure', () => {
      expect(cats(step('$ cmake --build build', 'ld.lld: error: undefined symbol: frob_init', '>>> referenced by main.c:12 (src/main.c:12)', 'clang: error: linker command failed with exit code 1 (use -v to see invocation)'))).not.toContain('binary_loader_missing')
    })

    // S5: distutils/setuptools "command 'gcc' failed with exit code 1": the compiler ran and failed.
    it('S5: "error: command \'/usr/bin/gcc\' failed with exit code 1" is not a missing program', () => {
      expect(cats(step('$ pip install .', "      src/ext.c:10:5: error: unknown type name 'frob_t'", "      error: command '/usr/bin/gcc' failed with exit code 1", '      [end of output]', '  ERROR: Failed building wheel for ext'))).not.toContain('command_not_found')
    })

    // S6: HOST_NAMED is satisfied by the error's own words ("server", "host"), so unnamed connections pass.
    it.each([
      ['curl without a host', '$ ./smoke.sh', "curl: (7) Couldn't connect to server"],
      ['a services: container by its alias', '$ mysql -h mysql -u root -e "select 1"', "ERROR 2002 (HY000): Can't connect to MySQL server on 'mysql' (115)"],
    ])('S6: %s is not a download server being down', (_what, command, line) => {
      expect(cats(step(command, line))).not.toContain('upstream_service_unavailable')
    })

    // S7: chown/chmod refused in the checkout is ownership, not a privileged operation (privileged = true is the wrong fix).
    it('S7: chown in /builds refused is not an unprivileged container build', () => {
      expect(cats(step('$ chown -R app:app /builds/group/proj', "chown: changing ownership of '/builds/group/proj/.git': Operation not permitted"))).not.toContain('unprivileged_container_build')
    })

    // S8: "not trusted" without a certificate word.
    it('S8: mise\'s untrusted config file is not a TLS certificate', () => {
      expect(cats(step('$ mise install', 'mise ERROR Config files in /builds/g/app/.mise.toml are not trusted. Trust them with `mise trust`.'))).not.toContain('tls_untrusted_ca')
    })

    // S9: CMake's "A required package was not found" is a pkg-config module, not a distribution package name.
    it('S9: CMake\'s "A required package was not found" is not package_not_found', () => {
      expect(cats(step('$ cmake ..', 'CMake Error at /usr/share/cmake-3.25/Modules/FindPkgConfig.cmake:607 (message):', '  A required package was not found'))).not.toContain('package_not_found')
    })

    // S10: a unittest failure's ndiff lines are the test's data: "FAILED (failures=1)" is its verdict.
    it('S10: Python unittest\'s diff of two curl messages is not the job\'s network', () => {
      const log = step('$ python -m unittest tests.test_cli', 'F', '======================================================================',
        'FAIL: test_offline_message (tests.test_cli.CliTest.test_offline_message)', '----------------------------------------------------------------------',
        'Traceback (most recent call last):', '  File "/builds/g/cli/tests/test_cli.py", line 20, in test_offline_message', '    self.assertEqual(out, expected)',
        "AssertionError: 'curl: (28) Failed to connect to registry.example.com port 443: Connection timed out' != 'curl: (28) Failed to connect to registry.example.com port 443: Timeout was reached'",
        '- curl: (28) Failed to connect to registry.example.com port 443: Connection timed out',
        '?                                                                  ^^^^^^^^^^^^^^^^^^',
        '+ curl: (28) Failed to connect to registry.example.com port 443: Timeout was reached', '', '----------------------------------------------------------------------', 'Ran 1 test in 0.003s', '', 'FAILED (failures=1)')
      expect(cats(log).filter((c) => c === 'upstream_service_unavailable' || c === 'egress_blocked_firewall')).toEqual([])
    })
  })

  describe('guard', () => {
    it('quiet on a pytest verdict whose message names a refused connection', () => {
      expect(cats(step('$ pytest', "E   requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.example.com', port=443): Max retries exceeded (Caused by NewConnectionError('Connection refused'))", 'FAILED tests/test_api.py::test_fetch - requests.exceptions.ConnectionError', '=========================== 1 failed, 3 passed in 2.31s ==========================')))
        .toEqual(['user_script_failure'])
    })
    it('a bash "command not found" still offers command_not_found below the kind of failure', () => {
      expect(firstTwo(step('$ make docs', '/bin/bash: line 12: sphinx-build: command not found'))).toContain('command_not_found')
    })
    it('Permission denied outside the checkout stays quiet', () => {
      expect(cats(step('$ ./install.sh', "cp: cannot create regular file '/usr/local/bin/tool': Permission denied"))).not.toContain('permission_denied_builds_dir')
    })
  })
})

describe('sixteenth rule pass', () => {
  describe('finding', () => {
    // H1 (host.ts GIT_OLD_WORDING): a 4xx under the old wording is the server's or a proxy's refusal first.
    it.each([
      ['413 (nginx client_max_body_size)', '413'],
      ['411 (Length Required)', '411'],
      ['407 (proxy authentication)', '407'],
      ['429 (rate limit)', '429'],
    ])('H1: "RPC failed; result=22, HTTP code = %s" is not first an old git', (_what, code) => {
      const log = step('$ git push https://gitlab-ci-token:${TOKEN}@gitlab.example.com/g/p.git HEAD:main', 'Writing objects: 100% (18281/18281), 687.05 MiB | 129.92 MiB/s, done.', `error: RPC failed; result=22, HTTP code = ${code}`, 'fatal: The remote end hung up unexpectedly')
      expect(top(log)?.category).not.toBe('git_client_too_old')
    })

    // U1 (runner.ts): urllib's HTTP 500 from a server the job started on loopback is the job's own app failing.
    it('U1: urllib\'s HTTP Error 500 from 127.0.0.1 is not a download server\'s incident', () => {
      const log = step('$ python manage.py runserver 127.0.0.1:8000 &', '$ python scripts/smoke.py http://127.0.0.1:8000/health', 'Traceback (most recent call last):',
        '  File "/usr/lib/python3.11/urllib/request.py", line 643, in http_error_default', '    raise HTTPError(req.full_url, code, msg, hdrs, fp)', 'urllib.error.HTTPError: HTTP Error 500: Internal Server Error')
      expect(top(log)?.category).not.toBe('upstream_service_unavailable')
    })

    // T1 (tls.ts): apt with GnuTLS on an expired chain (the 2021 Let's Encrypt root in old images).
    it('T1: apt\'s GnuTLS "The certificate chain uses expired certificate" is an expired certificate', () => {
      const log = step('$ apt-get update', 'Err:5 https://repo.example.com/debian bookworm InRelease',
        '  Certificate verification failed: The certificate is NOT trusted. The certificate chain uses expired certificate.  Could not handshake: Error in the certificate verification. [IP: 203.0.113.7 443]',
        'Reading package lists...', "E: The repository 'https://repo.example.com/debian bookworm InRelease' does not have a Release file.")
      expect(top(log)?.category).toBe('tls_certificate_expired')
    })

    // R1 (registry.ts): docker build -t quotes its argument through pflag: invalid argument "…" for "-t, --tag" flag.
    it('R1: the malformed reference of docker build -t is quoted in the second answer', () => {
      const d = run(step('$ docker build -t $REGISTRY_IMAGE:$RELEASE_TAG .', 'invalid argument "registry.example.com/g/p:" for "-t, --tag" flag: invalid reference format', "See 'docker build --help'.")).diagnoses.find((x) => x.category === 'image_reference_invalid')
      expect(d?.cause).toContain('registry.example.com/g/p:')
    })

    // N1 (scan.ts inDiff): unified diff lines have no blank after the sign ("-old", "+new").
    it('N1: a golden-file test\'s unified diff is the test\'s data, not the job\'s connection', () => {
      const log = step('$ ./test/golden.sh offline', '--- expected/offline.txt', '+++ actual/offline.txt', '@@ -1,2 +1,2 @@',
        '-error: request to https://registry.example.com/v2/ failed: context deadline exceeded',
        '+curl: (28) Failed to connect to registry.example.com port 443 after 5001 ms: Connection timed out', ' done')
      expect(top(log)?.category).not.toBe('egress_blocked_firewall')
    })
  })

  describe('guard', () => {
    it.each([['401'], ['403'], ['404']])('the old wording with %s is not an old git', (code) => {
      expect(cats(step('$ git clone https://gitlab.example.com/g/p.git', `error: RPC failed; result=22, HTTP code = ${code}`, 'fatal: The remote end hung up unexpectedly'))).not.toContain('git_client_too_old')
    })
    it('the old partial-clone wording is an old git', () => {
      expect(top(step('$ git fetch --filter=blob:none origin', 'fatal: --filter can only be used when extensions.partialClone is set'))?.category).toBe('git_client_too_old')
    })
    it('FreeBSD pkg and apk so: names are missing packages', () => {
      expect(top(step('$ pkg install -y py39-pip', "pkg: No packages available to install matching 'py39-pip' have been found in the repositories"))?.category).toBe('package_not_found')
      expect(top(step('$ apk add --no-cache so:libssl.so.3', 'ERROR: unable to select packages:', '  so:libssl.so.3 (no such package):', '    required by: world[so:libssl.so.3]'))?.category).toBe('package_not_found')
    })
    it('a real timeout after an unrelated line that starts with "--- " is still egress', () => {
      expect(top(step('$ git diff --stat origin/main', '+++ b/CHANGELOG.md', '$ ./deploy.sh', 'curl: (28) Failed to connect to deploy.example.com port 443 after 130001 ms: Connection timed out'))?.category).toBe('egress_blocked_firewall')
    })
  })
})

describe('paste-numbers.ts / paste-dedent.ts normalizePaste', () => {
  describe('finding', () => {
    // P1: a tool's own consecutive line numbers at column 0 (rustc's gutter for a multi-line span, grep -n).
    it('P1a: rustc\'s multi-line span is not a copy from GitLab\'s page', () => {
      expect(unnumberPaste(['error[E0308]: `if` and `else` have incompatible types', '  --> src/main.rs:10:5', '10 | /     if x {', '11 | |         1', '12 | |     } else {', '13 | |         "two"', '14 | |     }', '   | |_____^ expected integer, found `&str`'])).toBeUndefined()
    })
    it('P1b: grep -n over consecutive lines keeps its numbers', () => {
      expect(unnumberPaste(['$ grep -n "password" config/app.yml', '12:  password: hunter2', '13:  password_confirmation: hunter2', '14:  password_reset: true'])).toBeUndefined()
    })

    // P2: numbers jump where a section was collapsed or two ranges were copied; only the larger run is taken off.
    it('P2: a paste whose numbers jump (a collapsed section) loses them everywhere', () => {
      const log = ['12$ ./configure', '13checking for gcc... gcc', '14checking whether the C compiler works... yes', '2608configure: error: Could not find zlib', '2609ERROR: Job failed: exit code 1'].join('\n')
      expect(parseTrace(log).lines.map((l) => l.text)).toEqual(['$ ./configure', 'checking for gcc... gcc', 'checking whether the C compiler works... yes', 'configure: error: Could not find zlib', 'ERROR: Job failed: exit code 1'])
      expect(top(log)?.category).toBe('dev_headers_missing')
    })

    // P3: normalizePaste falls back to the unnumbered lines when dedentPaste refuses a paste over DEDENT_MAX_CHARS,
    // so the string parser reads a large numbered paste without its numbers and the streaming parser (which kept
    // only part of it) with them.
    it('P3: the string and the streaming parser agree on a large numbered paste', async () => {
      const lines: string[] = []
      for (let i = 1; i < 4000; i++) lines.push(`${i}${'x'.repeat(3000)}`)
      lines.push('4000E: Unable to locate package libfrob-dev')
      const text = lines.join('\n')
      const whole = diagnose({ trace: parseTrace(text) }).diagnoses[0]?.category
      const streamed = diagnose({ trace: await parseTraceStream(Readable.from([text])) }).diagnoses[0]?.category
      expect(streamed).toBe(whole)
    }, 60_000)
  })

  describe('guard', () => {
    it('lines that start with a timestamp are not numbered', () => {
      expect(unnumberPaste(['2024-05-01T10:00:00Z start', '2024-05-01T10:00:01Z fetch', '2024-05-01T10:00:02Z done'])).toBeUndefined()
    })
    it('a numbered paste with a space after each number is read without them', () => {
      expect(top(['1320 $ apt-get install -y libfoo-dev', '1321 E: Unable to locate package libfoo-dev', '1322 ERROR: Job failed: exit code 100'].join('\n'))?.category).toBe('package_not_found')
    })
  })
})

describe('fallback.ts (touched by the symptom tier commit)', () => {
  describe('finding', () => {
    // X1: the fallback's VERDICT keeps an unbounded "Tests?:.*\bfailed\b" (symptoms.ts bounds its copy); it is tried on every line.
    it('X1: four 80 000-character lines are read in linear time', () => {
      expectLinear((k) => {
        const long = 'Test:'.repeat(sized(16_000, k))
        const log = step('$ ./run.sh', long, long, long, long, 'error: done')
        return () => run(log)
      })
    })
  })
})

describe('seventeenth rule pass (batch 17 dev entries)', () => {
  it.each([
    ['Nix\'s build sandbox', 'error: cloning builder process: Operation not permitted', 'sandbox false'],
    ['bubblewrap', 'bwrap: No permissions to creating new namespace, likely because the kernel does not allow non-privileged user namespaces.', 'privileged'],
    ['unshare', 'unshare: unshare failed: Operation not permitted', 'privileged'],
    ['Chromium', '[0101/000000.000:FATAL:zygote_host_impl_linux.cc(127)] No usable sandbox! Update your kernel or see https://chromium.googlesource.com/chromium/src/+/main/docs/linux/suid_sandbox_development.md for more information on developing with the SUID sandbox.', '--no-sandbox'],
    ['crun in a nested Podman', 'Error: OCI runtime error: crun: controller `pids` is not available under /sys/fs/cgroup/libpod_parent/libpod-28f6/cgroup.controllers', '--cgroups=disabled'],
  ])('%s cannot create its namespaces or cgroups in the job container', (_what, line, fix) => {
    const d = top(step('$ ./ci/build.sh', line))
    expect(d?.category).toBe('unprivileged_container_build')
    expect(all(d)).toContain(fix)
  })
  it('opam\'s sandbox hook around a failed build is a weaker answer, with --disable-sandboxing', () => {
    const d = top(step('$ opam install -y ocaml-base-compiler.4.07.1', '[ERROR] The compilation of ocaml-base-compiler failed at "/builds/g/p/opam-root/opam-init/hooks/sandbox.sh build ./configure -prefix /builds/g/p/opam-root/4.07.1".'))
    expect(d?.category).toBe('unprivileged_container_build')
    expect(d?.confidence).toBeLessThan(0.6)
    expect(all(d)).toContain('--disable-sandboxing')
  })
  it('opam\'s build failing outside its sandbox hook is not this', () => {
    expect(cats(step('$ opam install -y frob', '[ERROR] The compilation of frob failed at "make".'))).not.toContain('unprivileged_container_build')
  })
  it('a services: name that expanded to nothing', () => {
    const d = top(['Preparing the "docker" executor', 'ERROR: Job failed (system failure): invalid service name: '].join('\n'))
    expect(d?.category).toBe('image_reference_invalid')
    expect(d?.title).toMatch(/empty/)
  })
  it('kaniko deleting a stage on storage without d_type', () => {
    const d = top(step('$ /kaniko/executor --context . --destination "$IMAGE"', 'INFO[0010] Deleting filesystem...', 'error building image: deleting file system after stage 0: unlinkat //bin: directory not empty'))
    expect(d?.category).toBe('docker_engine_broken')
    expect(all(d)).toContain('ftype')
  })
  it('Node\'s HTTP clients reporting OpenSSL\'s untrusted issuer', () => {
    expect(top(step('$ npx semantic-release', 'An error occurred while running semantic-release: RequestError: unable to get issuer certificate'))?.category).toBe('tls_untrusted_ca')
  })
})
