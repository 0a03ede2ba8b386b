import { describe, expect, it } from 'vitest'
import { cats, step, top } from '../../test/support/diagnose-log.js'

// terminal.ts: commands that want a terminal in a job that has none (tty_required). Wordings are the
// tools' own: the docker CLI, sudo, GnuPG, Go's and Node's /dev/tty opens, Python's termios/getpass.

describe('terminal.ts', () => {
  it('docker run -it', () => {
    const d = top(step('$ docker run -it --rm node:20 npm test', 'the input device is not a TTY'))
    expect(d?.category).toBe('tty_required')
    expect(d?.fixes[0]?.text).toContain('Drop -t')
  })
  it('docker compose exec without -T', () => {
    expect(top(step('$ docker compose exec app pytest', 'the input device is not a TTY'))?.fixes[0]?.snippet).toContain('exec -T')
  })
  it('sudo asking for a password on a shell runner', () => {
    const d = top(['Running with gitlab-runner 16.5.0 (853330f9)', 'Preparing the "shell" executor', 'Using Shell executor...', 'Executing "step_script" stage of the job script', '$ sudo apt-get install -y jq', 'sudo: a terminal is required to read the password; either use the -S option to read from standard input or configure an askpass helper', 'sudo: a password is required', 'ERROR: Job failed: exit status 1'].join('\n'))
    expect(d?.category).toBe('tty_required')
    expect(d?.fixes[0]?.snippet).toContain('NOPASSWD')
  })
  it('gpg signing through pinentry', () => {
    expect(top(step('$ gpg --detach-sign dist/app.tar.gz', 'gpg: signing failed: Inappropriate ioctl for device', 'gpg: signing failed: Inappropriate ioctl for device'))?.category).toBe('tty_required')
  })
  it('a Go CLI prompting', () => {
    expect(top(step('$ glab mr create --fill', 'could not prompt: open /dev/tty: no such device or address'))?.category).toBe('tty_required')
  })
  it('guard: an stty complaint from a profile, and the job went on', () => {
    expect(cats(step('$ ./build.sh', "stty: 'standard input': Inappropriate ioctl for device", 'make: *** [all] Error 2'))).not.toContain('tty_required')
  })
  it('guard: the script went past it', () => {
    expect(cats(step('$ docker run -it img true || docker run img true', 'the input device is not a TTY', '$ make', 'make: *** [all] Error 2'))).not.toContain('tty_required')
  })
  it('guard: docker login with an empty password stays a credential answer', () => {
    expect(top(step('$ docker login -u "$CI_REGISTRY_USER" -p "$CI_REGISTRY_PASSWORD" $CI_REGISTRY', 'Error: Cannot perform an interactive login from a non TTY device'))?.category).not.toBe('tty_required')
  })
})
