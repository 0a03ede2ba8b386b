import { describe, expect, it } from 'vitest'
import { expectLinear, sized } from '../../test/support/linear-time.js'
import { all, cats, step, top } from '../../test/support/diagnose-log.js'

// The twenty-third rule pass (batch 23's dev entries: game/embedded, infrastructure testing, C/C++/HPC and
// Windows runners): the runner's "shell not found", a needs: error wrapped over two lines, Python 2's exit
// status -9, git clean's refusal without its prefix, and four classes the pass proposed —
// hpc_module_unavailable, runner_service_account_context, cygwin_fork_failure, antivirus_blocked_file.

describe('shell-detection.ts: the runner\'s "shell not found"', () => {
  const log = ['Using docker image sha256:0b1c for ubuntu:24.04 with digest ubuntu@sha256:77aa ...', 'shell not found', 'Cleaning up project directory and file based variables', 'ERROR: Job failed: exit code 1'].join('\n')
  it('is an old runtime refusing faccessat2 first, a shell-less image second', () => {
    expect(cats(log).slice(0, 2)).toEqual(['seccomp_blocks_new_syscalls', 'image_missing_shell'])
    expect(all(top(log))).toContain('faccessat2')
  })
  it('guard: a script that prints "shell not found" itself is not the runner\'s detection', () => {
    expect(cats(step('$ ./find-shell.sh', 'shell not found', 'ERROR: Job failed: exit code 1'))).not.toContain('seccomp_blocks_new_syscalls')
  })
})

describe('config.ts: GitLab\'s needs: error wrapped over two lines', () => {
  it('is a configuration error, first', () => {
    expect(top(" 'hardware-tests' job needs 'build-firmware' job, but\n 'build-firmware' is not in any previous stage")?.category).toBe('yaml_config_error')
  })
})

describe('kubernetes.ts: Python 2\'s SIGKILL\'d child', () => {
  it('"returned non-zero exit status -9" is a (weak) OOM kill', () => {
    expect(top("subprocess.CalledProcessError: Command '['/opt/tools/llvm-link', '-o', 'out.bc']' returned non-zero exit status -9")?.category).toBe('oom_killed')
  })
  it('guard: exit status -90 is not', () => {
    expect(cats("Command '['x']' returned non-zero exit status -90")).not.toContain('oom_killed')
  })
})

describe('script.ts: git clean\'s refusal without "warning:"', () => {
  it('a file held by a leftover process on a Windows runner', () => {
    const d = top(['Fetching changes with git depth set to 20...', 'failed to remove test_output.json: Invalid argument', 'ERROR: Job failed: exit status 1'].join('\n'))
    expect(d?.category).toBe('git_worktree_corrupt')
    expect(all(d)).toContain('FF_USE_WINDOWS_JOB_OBJECT')
  })
})

describe('env-modules.ts: hpc_module_unavailable', () => {
  it('Environment Modules 4/5', () => {
    const d = top(step('$ module load rh/devtoolset/8 cuda/9.2', "ERROR: Unable to locate a modulefile for 'rh/devtoolset/8'", "ERROR: Unable to locate a modulefile for 'cuda/9.2'"))
    expect(d?.category).toBe('hpc_module_unavailable')
    expect(d?.title).toContain('cuda/9.2')
  })
  it('Environment Modules 3.x through modulecmd', () => {
    expect(top("bison(20):ERROR:105: Unable to locate a modulefile for 'bison'")?.category).toBe('hpc_module_unavailable')
  })
  it('Lmod', () => {
    expect(top(step('$ module load gcc/9.1.0', 'Lmod has detected the following error: The following module(s) are unknown: "gcc/9.1.0"'))?.category).toBe('hpc_module_unavailable')
  })
  it('guard: a module load the script went past', () => {
    expect(cats(step("$ module load optional-tool || true", "ERROR: Unable to locate a modulefile for 'optional-tool'", '$ make', 'make: *** [all] Error 2'))).not.toContain('hpc_module_unavailable')
  })
})

describe('runner-account.ts: runner_service_account_context', () => {
  it('a tool\'s home under the SYSTEM profile (Windows service as LocalSystem)', () => {
    const d = top("LINK : fatal error LNK1181: cannot open input file 'C:/Windows/system32/config/systemprofile/.conan/data/Poco/1.9.0/lib\\PocoUtilmd.lib'")
    expect(d?.category).toBe('runner_service_account_context')
    expect(all(d)).toContain('gitlab-runner install --user')
  })
  it('SQL Server refusing the service\'s identity', () => {
    expect(top("Login failed for user 'NT AUTHORITY\\SYSTEM'.")?.category).toBe('runner_service_account_context')
  })
  it('the macOS keychain with no login session', () => {
    const d = top(step('$ security unlock-keychain -p "$KEYCHAIN_PASSWORD" build.keychain', 'security: SecKeychainUnlock build.keychain: User interaction is not allowed.'))
    expect(d?.category).toBe('runner_service_account_context')
    expect(d?.title).toContain('macOS')
  })
  it('guard: a line merely naming the SYSTEM profile without a failure', () => {
    expect(cats(step('$ echo %USERPROFILE%', 'C:\\Windows\\system32\\config\\systemprofile', '$ npm test', 'npm ERR! Test failed.'))).not.toContain('runner_service_account_context')
  })
})

describe('windows-host.ts: cygwin_fork_failure and antivirus_blocked_file', () => {
  it('Cygwin\'s fork emulation failing', () => {
    expect(top(['      5 [main] sh (2052) child_copy: cygheap read copy failed, 0x612E4408..0x6130C870, done 0, windows pid 2052, Win32 error 299',
      '  17894 [main] sh (2052) C:\\ci\\cygwin32\\bin\\sh.exe: *** fatal error in forked process - ccalloc would have returned NULL'].join('\n'))?.category).toBe('cygwin_fork_failure')
  })
  it('MSYS2\'s heap mismatch', () => {
    expect(top('      0 [main] bash (1234) C:\\msys64\\usr\\bin\\bash.exe: *** fatal error - cygheap base mismatch detected - 0x180349408/0x180346408.')?.category).toBe('cygwin_fork_failure')
  })
  it('Windows\' ERROR_VIRUS_INFECTED', () => {
    const d = top(step('$ dist\\app.exe --version', 'Operation did not complete successfully because the file contains a virus or potentially unwanted software.'))
    expect(d?.category).toBe('antivirus_blocked_file')
    expect(d?.confidence).toBeGreaterThan(0.7)
  })
  it('Python\'s EINVAL on a bootloader it just unpacked is a weak answer', () => {
    const d = top("OSError: [Errno 22] Invalid argument: 'c:\\users\\ci\\.virtualenvs\\app\\lib\\site-packages\\PyInstaller\\bootloader\\Windows-64bit\\run.exe'")
    expect(d?.category).toBe('antivirus_blocked_file')
    expect(d?.confidence).toBeLessThan(0.5)
  })
  it('guard: EINVAL on a data file is not antivirus', () => {
    expect(cats("OSError: [Errno 22] Invalid argument: 'c:\\data\\report:2024.csv'")).not.toContain('antivirus_blocked_file')
  })
})

describe('long lines stay linear', () => {
  it('80 000 characters of near-matches', () => {
    const lines: Array<(k: number) => string> = [(k) => 'NT AUTHORITY\\SYSTEM '.repeat(sized(4000, k)), (k) => 'child_copy: '.repeat(sized(6000, k)),
      (k) => "ERROR: Unable to locate a modulefile for '".repeat(sized(2000, k)), (k) => "OSError: [Errno 22] Invalid argument: 'c:\\".padEnd(sized(80_000, k), 'a')]
    for (const line of lines) expectLinear((k) => { const log = step('$ ./build.sh', line(k)); return () => cats(log) }, line(0.001).slice(0, 30))
  })
})
