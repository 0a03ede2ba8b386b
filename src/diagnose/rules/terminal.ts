import { Scan, diagnosis, evidence } from '../scan.js'
import type { Diagnosis, Fix, Rule } from '../types.js'

/**
 * A CI job has no terminal: the runner gives the script a pipe, not a TTY, and nobody answers a
 * prompt (tty_required, proposed by the corpus's nineteenth pass). Commands that ask for one fail:
 * `docker run -it`, `docker compose exec` without -T, sudo asking for a password, gpg's pinentry,
 * Go and Node CLIs opening /dev/tty to prompt, Python's getpass and termios.
 */

const DOCKER_TTY = /the input device is not a TTY/
const SUDO = /^sudo: (?:no tty present and no askpass program specified|a terminal is required to read the password|a password is required|sorry, you must have a tty to run sudo)/
const GPG = /^gpg: (?:signing failed: Inappropriate ioctl for device|cannot open ['`]\/dev\/tty'|public key decryption failed: Inappropriate ioctl for device)/
// Prompts in other tools: Go's survey/promptui and Node opening /dev/tty, Python's termios and getpass.
const OPEN_TTY = /open \/dev\/tty: no such device or address|ENXIO: no such device or address, open '\/dev\/tty'|^termios\.error: \(25, 'Inappropriate ioctl for device'\)|^OSError: \[Errno 25\] Inappropriate ioctl for device|Errno::ENOTTY|^Error: Cannot prompt in a non-interactive|could not prompt: /

function fixesFor(kind: 'docker' | 'sudo' | 'gpg' | 'prompt', compose: boolean): Fix[] {
  switch (kind) {
    case 'docker':
      return compose
        ? [{ text: 'docker compose exec/run allocate a TTY by default: turn it off in CI.', snippet: 'script:\n  - docker compose exec -T app ./run-tests.sh' }]
        : [{ text: 'Drop -t (and -i unless you pipe input in): a CI job has no terminal to attach.', snippet: 'script:\n  - docker run --rm "$IMAGE" ./run-tests.sh' }]
    case 'sudo':
      return [
        { text: 'On a shell runner, let the runner\'s user run the commands it needs without a password (a sudoers rule for gitlab-runner), or install what the job needs beforehand.', snippet: '# /etc/sudoers.d/gitlab-runner (visudo -f)\ngitlab-runner ALL=(root) NOPASSWD: /usr/bin/apt-get, /usr/bin/systemctl' },
        { text: 'In a Docker job the image\'s user decides: run as root there (or use an image with the tools installed) instead of sudo.' },
      ]
    case 'gpg':
      return [{ text: 'Give gpg its passphrase without pinentry: batch mode with loopback pinentry, the passphrase from a masked variable.', snippet: 'script:\n  - echo "$GPG_PASSPHRASE" | gpg --batch --yes --pinentry-mode loopback --passphrase-fd 0 --detach-sign file' }]
    case 'prompt':
      return [{ text: 'The tool asked a question: pass the answer as flags or environment (its --yes/--non-interactive options, a token variable) so it never prompts in CI.' }]
  }
}

function terminal(s: Scan): Diagnosis[] {
  const hit = s.all(new RegExp([DOCKER_TTY, SUDO, GPG, OPEN_TTY].map((r) => r.source).join('|'))).filter((h) => !s.inDiff(h.line)).pop()
  if (!hit) return []
  if (s.wentPast(hit.line)) return []
  const t = hit.line.text
  const kind = DOCKER_TTY.test(t) ? 'docker' : SUDO.test(t) ? 'sudo' : GPG.test(t) ? 'gpg' : 'prompt'
  const cmd = s.commandAt(hit.line.n)
  const compose = /docker[ -]compose\b/.test(cmd?.text ?? '')
  const what = kind === 'docker' ? 'docker was asked for a terminal (-t, or compose exec\'s default)' : kind === 'sudo' ? 'sudo asked for the runner user\'s password' : kind === 'gpg' ? 'gpg asked for a passphrase through pinentry' : 'a tool tried to prompt on the terminal'
  const fixes = fixesFor(kind, compose)
  // RHEL/CentOS's `Defaults requiretty`: sudo wants a terminal even where no password is asked.
  if (/must have a tty/.test(t)) fixes.unshift({ text: 'sudoers has `Defaults requiretty` (RHEL/CentOS): exempt the runner\'s user from it.', snippet: '# /etc/sudoers.d/gitlab-runner (visudo -f)\nDefaults:gitlab-runner !requiretty' })
  return [diagnosis('tty_required', 'The job has no terminal for a command that wants one',
    `"${t.trim().slice(0, 140)}": ${what}, but a CI job's script runs with pipes, not a TTY, and nobody is there to answer.`,
    evidence(cmd, hit), fixes, kind === 'prompt' ? 0.6 : 0.75)]
}

export const terminalRule: Rule = {
  id: 'terminal',
  categories: ['tty_required'],
  match: (ev) => terminal(Scan.of(ev)),
}
