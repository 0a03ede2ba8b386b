import { describe, expect, it } from 'vitest'
import { expectLinear, sized } from '../../test/support/linear-time.js'
import { ciFacts } from './ci-facts.js'
import { diagnose } from './engine.js'
import { parseTrace } from './trace.js'
import { all, cats, on, step, top } from '../../test/support/diagnose-log.js'

// Review rv12 of the twenty-third rule pass (7d70a71) and of rv11's mending (4169024): each "F<n>" case failed
// on the reviewed code and states the behaviour now expected; "guard:" cases held then and must keep holding.

const docker = (image: string, ...lines: string[]): string =>
  [`Using docker image sha256:0b1c for ${image} with digest x@sha256:77aa ...`, ...lines, 'ERROR: Job failed: exit code 1'].join('\n')
const withYaml = (log: string, ciYaml: string) => diagnose({ trace: parseTrace(log), ciYaml })

describe('shell-detection.ts', () => {
  it('F1: an image too old for faccessat2 (Alpine 3.12: musl 1.2.1; CentOS 7: glibc 2.17) does not put seccomp first', () => {
    for (const image of ['alpine:3.12', 'centos:7']) {
      expect(cats(docker(image, 'shell not found')).slice(0, 1)).not.toEqual(['seccomp_blocks_new_syscalls'])
    }
  })
  it('F2: on the shell executor there is no container and no shell detection: not a seccomp answer', () => {
    expect(cats(on('shell', 'shell not found'))).not.toContain('seccomp_blocks_new_syscalls')
  })
  it('guard: a recent Alpine (musl 1.2.2+) keeps seccomp first', () => {
    expect(cats(docker('alpine:3.19', 'shell not found'))[0]).toBe('seccomp_blocks_new_syscalls')
  })
})

describe('env-modules.ts', () => {
  it('F3: Lmod before 8.x ("These module(s) exist but cannot be loaded as requested", no "or extension(s)")', () => {
    expect(cats(step('$ module load OpenMPI/3.1.3', 'Lmod has detected the following error:  These module(s) exist but cannot be loaded as requested: "OpenMPI/3.1.3"',
      '   Try: "module spider OpenMPI/3.1.3" to see how to load the module(s).'))).toContain('hpc_module_unavailable')
  })
  it('F4: "exist but cannot be loaded as requested" is a missing prerequisite module (the job\'s load order), not a retired module', () => {
    const d = top(step('$ module load samtools', 'Lmod has detected the following error:  These module(s) or extension(s) exist but cannot be loaded as requested: "samtools"',
      '   Try: "module spider samtools" to see how to load the module(s).'))
    expect(d?.category).toBe('hpc_module_unavailable')
    expect(all(d)).not.toContain('The project did not change')
    expect(all(d)).toMatch(/prerequisite|module spider samtools|hierarch/i)
  })
  it('F5: a modulefile of the project\'s own tree (module use $CI_PROJECT_DIR/…) is not the site\'s retired module', () => {
    const d = top(step('$ module use "$CI_PROJECT_DIR/modulefiles"', '$ module load mytoolchain/1.2', "ERROR: Unable to locate a modulefile for 'mytoolchain/1.2'"))
    expect(all(d)).not.toContain('The project did not change')
  })
  it('F6: the title names only the modules that failed the job, not one the script went past', () => {
    const d = top(step('$ module load optional-viz || true', "ERROR: Unable to locate a modulefile for 'optional-viz'", '$ module load gcc/9.1.0', "ERROR: Unable to locate a modulefile for 'gcc/9.1.0'"))
    expect(d?.category).toBe('hpc_module_unavailable')
    expect(d?.title).not.toContain('optional-viz')
  })
  it('F7: "module: command not found" (the runner\'s non-login shell has no modules init) is the same class', () => {
    expect(cats(step('$ module load gcc/12', 'bash: line 142: module: command not found'))).toContain('hpc_module_unavailable')
  })
  it('guard: Environment Modules 3.x through ModuleCmd_Load.c', () => {
    expect(top(step('$ module load gcc/4.9', "ModuleCmd_Load.c(213):ERROR:105: Unable to locate a modulefile for 'gcc/4.9'"))?.category).toBe('hpc_module_unavailable')
  })
  it('guard: Spack', () => {
    expect(top(step('$ spack load cmake@3.20', "==> Error: Spec 'cmake@3.20' matches no installed packages."))?.category).toBe('hpc_module_unavailable')
  })
})

describe('runner-account.ts', () => {
  it('F8: npm 10\'s log path under the SYSTEM profile after an unrelated npm error is not the answer', () => {
    const log = step('$ npm ci', 'npm error code E404', 'npm error 404 Not Found - GET https://registry.npmjs.org/left-padd - Not found',
      'npm error A complete log of this run can be found in: C:\\Windows\\system32\\config\\systemprofile\\AppData\\Local\\npm-cache\\_logs\\2024-05-01T10_00_00_000Z-debug-0.log')
    expect(top(log)?.category).not.toBe('runner_service_account_context')
  })
  it('F9: a domain machine account (DOMAIN\\MACHINE$: LocalSystem on the network) refused by SQL Server', () => {
    expect(cats(step('$ sqlcmd -S db01 -E -i migrate.sql', "Sqlcmd: Error: Microsoft ODBC Driver 17 for SQL Server : Login failed for user 'CONTOSO\\BUILD01$'.")))
      .toContain('runner_service_account_context')
  })
  it('F10: NETWORK SERVICE is not "Windows\' SYSTEM account" in the title', () => {
    const d = top("Login failed for user 'NT AUTHORITY\\NETWORK SERVICE'.")
    expect(d?.category).toBe('runner_service_account_context')
    expect(d?.title).not.toMatch(/SYSTEM account/)
  })
  it('F11: codesign\'s errSecInternalComponent under a LaunchDaemon (no session to ask for the key) is the macOS case', () => {
    expect(cats(step('$ xcodebuild -scheme App archive', '/Users/ci/builds/App.app: errSecInternalComponent',
      'Command CodeSign failed with a nonzero exit code', '** ARCHIVE FAILED **'))).toContain('runner_service_account_context')
  })
  it('F20: when `security unlock-keychain` itself is refused, unlocking in the job is not the first fix (the LaunchAgent is)', () => {
    const d = top(step('$ security unlock-keychain -p "$KEYCHAIN_PASSWORD" build.keychain', 'security: SecKeychainUnlock build.keychain: User interaction is not allowed.'))
    expect(d?.category).toBe('runner_service_account_context')
    expect(d?.fixes[0]?.text).toMatch(/LaunchAgent/)
  })
  it('guard: a NuGet cache missing under the SYSTEM profile', () => {
    expect(top(step('$ msbuild App.sln', "error MSB4018: Could not find file 'C:\\Windows\\system32\\config\\systemprofile\\.nuget\\packages\\newtonsoft.json\\13.0.1\\lib\\net45\\Newtonsoft.Json.dll'."))?.category)
      .toBe('runner_service_account_context')
  })
})

describe('windows-host.ts', () => {
  it('F12: a fork hiccup Cygwin got past, followed by the build\'s own compile error, is not the answer', () => {
    const log = step('$ make -j8', '      0 [main] make 4242 fork: child 4343 - died waiting for dll loading, errno 11', 'gcc -c src/lexer.c -o lexer.o',
      "src/parser.c:42:5: error: 'tokn' undeclared (first use in this function)", 'make: *** [Makefile:12: parser.o] Error 1')
    expect(top(log)?.category).not.toBe('cygwin_fork_failure')
  })
  it('F13: child_copy\'s "<region> write copy failed" (stack, linked dll data, …)', () => {
    expect(cats(step('$ ./configure', '      1 [main] bash 1234 child_copy: stack write copy failed, 0xFFFFC910..0x100000000, done 0, windows pid 1234, Win32 error 5',
      './configure: fork: Resource temporarily unavailable'))).toContain('cygwin_fork_failure')
    expect(cats(step('$ make', '  13 [main] sh 88 child_copy: linked dll data write copy failed, 0x3D5000..0x3D7294, done 0, windows pid 88, Win32 error 5'))).toContain('cygwin_fork_failure')
  })
  it('F14: dofork\'s "forked process <pid> died unexpectedly" (cygwin fork.cc)', () => {
    expect(cats(step('$ make', '      0 [main] sh 1234 dofork: child -1 - forked process 5678 died unexpectedly, retry 0, exit code 0xC0000142, errno 11',
      'make: fork: Resource temporarily unavailable'))).toContain('cygwin_fork_failure')
  })
  it('F15: ERROR_VIRUS_DELETED (226) as Windows words it', () => {
    expect(cats(step('$ dist\\app.exe --selftest', 'This file contains a virus or potentially unwanted software and cannot be opened. Due to the nature of this virus or potentially unwanted software, the file has been removed from this location.')))
      .toContain('antivirus_blocked_file')
  })
  it('F16: ERROR_VIRUS_INFECTED (225) in its older wording ("…because the file contains a virus.")', () => {
    expect(cats(step('$ build\\installer.exe /S', 'Operation did not complete successfully because the file contains a virus.'))).toContain('antivirus_blocked_file')
  })
  it('F17: EINVAL on an .exe name with a colon past the drive (an invalid Windows name) is not antivirus', () => {
    expect(cats("OSError: [Errno 22] Invalid argument: 'C:\\\\ci\\\\build\\\\dist\\\\tool-2024-05-01T10:00:00.exe'")).not.toContain('antivirus_blocked_file')
  })
  it('F21: rebaseall is run from dash (/usr/bin/rebaseall), the shell Cygwin ships for it; ash.exe is a legacy name', () => {
    const d = top(step('$ make', '      5 [main] sh (2052) C:\\cygwin64\\bin\\sh.exe: *** fatal error in forked process - ccalloc would have returned NULL'))
    expect(d?.category).toBe('cygwin_fork_failure')
    expect(all(d)).toContain('dash.exe')
  })
  it('guard: Python\'s [WinError 225]', () => {
    expect(top(step('$ python -m PyInstaller app.spec', "PermissionError: [WinError 225] Operation did not complete successfully because the file contains a virus or potentially unwanted software: 'dist\\\\app.exe'"))?.category)
      .toBe('antivirus_blocked_file')
  })
})

describe('script.ts: "failed to remove" without "warning:"', () => {
  it('guard: a script\'s own tool in a pasted excerpt (no stage header, after a $ command) is not git clean\'s refusal', () => {
    const log = ['$ ./clean-cache.sh', 'failed to remove /mnt/cache/build.lock: Device or resource busy', 'ERROR: Job failed: exit code 1'].join('\n')
    expect(top(log)?.category).not.toBe('git_worktree_corrupt')
  })
  it('guard: git clean in get_sources without the prefix', () => {
    expect(top(['Fetching changes with git depth set to 20...', 'failed to remove test_output.json: Invalid argument', 'ERROR: Job failed: exit status 1'].join('\n'))?.category).toBe('git_worktree_corrupt')
  })
})

describe('config.ts: needs: over two lines', () => {
  it('guard: the wrapped message is a configuration error', () => {
    expect(top(" 'deploy' job needs 'build' job, but\n 'build' does not exist in the pipeline")?.category).toBe('yaml_config_error')
  })
})

describe('job-token.ts / host.ts: curl exit 22 on an API call', () => {
  it('F18: curl inside a command substitution: host.ts drops it as REST, job-token.ts does not take it; nobody answers', () => {
    const log = step('$ RESP=$(curl --fail -sS -H "JOB-TOKEN: $CI_JOB_TOKEN" "$CI_API_V4_URL/projects/$CI_PROJECT_ID/pipelines?ref=main")',
      'curl: (22) The requested URL returned error: 403')
    expect(cats(log)).toContain('job_token_api_scope')
  })
  it('guard: a plain curl call of the API is the job token\'s', () => {
    expect(top(step('$ curl --fail -H "JOB-TOKEN: $CI_JOB_TOKEN" "$CI_API_V4_URL/projects/$CI_PROJECT_ID/pipelines"', 'curl: (22) The requested URL returned error: 403'))?.category)
      .toBe('job_token_api_scope')
  })
})

describe('ci-facts.ts: extends: on untrusted YAML', () => {
  const log = docker('ubuntu:24.04', 'shell not found')
  it('guard: a cycle and an 11-level chain stay quick', () => {
    const chain = Array.from({ length: 40 }, (_, i) => `.t${i}:\n  extends: .t${i + 1}\n  variables: { V${i}: x }`).join('\n')
    const yaml = `${chain}\n.t40:\n  extends: .t0\njob:\n  extends: .t0\n  image: ubuntu:24.04\n  script: [make]\n`
    // A walk that did not stop at the cycle would not return: the bound is the test's own timeout.
    expect(withYaml(log, yaml).diagnoses.length).toBeGreaterThan(0)
  })
  it('F19: a job listing one large template many times costs jobs × list × template size (deepMerge copies per entry)', () => {
    // The template and the list grow together: copying the template per entry grows with their product
    // (16× from a quarter of both), reading each once with their sum (4×).
    expectLinear((k) => {
      const vars = Array.from({ length: sized(1500, k) }, (_, i) => `    V${i}: x`).join('\n')
      const list = Array.from({ length: sized(200, k) }, () => '.t').join(', ')
      const jobs = Array.from({ length: 80 }, (_, i) => `j${i}:\n  extends: [${list}]\n  script: [make]`).join('\n')
      const yaml = `.t:\n  variables:\n${vars}\n${jobs}\n`
      let run = 0
      return () => withYaml(log, `${yaml}# ${run++}\n`) // ci-facts.ts keeps the facts of the last YAML it read
    })
  }, 120_000)
  it('guard: inherit: default: false drops the default image', () => {
    const yaml = 'default:\n  image: ubuntu:24.04\njob:\n  inherit:\n    default: false\n  script: [make]\nother:\n  script: [make]\n'
    const jobs = ciFacts(yaml)?.jobs ?? []
    expect(jobs.find((j) => j.name === 'job')?.image).toBeUndefined()
    expect(jobs.find((j) => j.name === 'other')?.image).toBeDefined()
  })
})

describe('long lines stay linear (80 000 characters)', () => {
  it('guard: the new patterns on near-miss lines', () => {
    const lines = (n: (c: number) => number): string[] => ['unable to remap '.repeat(n(5000)), 'fork: retry: Resource temporarily unavailable '.repeat(n(1800)),
      `Login failed for user 'NT AUTHORITY\\${'SYSTEM'.repeat(n(13000))}`, `${'System32\\config\\'.repeat(n(4500))}`, `'a' job needs '${'b'.repeat(n(80_000))}`]
    for (let i = 0; i < 5; i++) {
      expectLinear((k) => { const log = step('$ ./build.sh', lines((c) => sized(c, k))[i] ?? ''); return () => cats(log) }, `line ${i + 1}`)
    }
  })
})
