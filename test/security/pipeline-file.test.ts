import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { makeRepo } from '../support/git-repo.js'
import { glrun } from './run-glrun.js'

/**
 * A repository is untrusted input: its pipeline file (and every file it names) may be a symlink
 * out of the repository, a FIFO, a device, a directory, huge, or not text at all. `glrun lint`
 * must refuse each with a clear GLRUN_ error, quickly, and never show what it must not read.
 */
const cleanups: (() => void)[] = []
afterAll(() => cleanups.forEach((c) => c()))

function repo(files: Record<string, string> = {}): string {
  const r = makeRepo({ files: { 'README.md': '# app\n', ...files } })
  cleanups.push(r.cleanup)
  return r.dir
}

/** A file outside every repository, standing in for /etc/shadow. */
function secretOutside(): string {
  const dir = mkdtempSync(join(tmpdir(), 'glrun-outside-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'shadow')
  writeFileSync(file, 'root:$6$SECRETHASHLINE:19000:0:99999:7:::\nada:$6$OTHERSECRET:19000::::::\n')
  return file
}

const lint = (dir: string, ...args: string[]) => glrun(['lint', '--cwd', dir, ...args])

describe('the pipeline file is read safely', () => {
  it('a .gitlab-ci.yml symlinked to a file outside the repository is refused, and none of that file is shown', () => {
    const dir = repo()
    symlinkSync(secretOutside(), join(dir, '.gitlab-ci.yml'))
    const r = lint(dir)
    expect(r.code).not.toBe(0)
    expect(r.out + r.err).toContain('GLRUN_FILE_OUTSIDE_PROJECT')
    expect(r.out + r.err).not.toMatch(/SECRET|root:|ada:/)
  })

  it('a .gitlab-ci.yml symlinked to /dev/zero is refused at once (no endless read)', () => {
    const dir = repo()
    symlinkSync('/dev/zero', join(dir, '.gitlab-ci.yml'))
    const r = lint(dir)
    expect(r.out + r.err).toContain('GLRUN_FILE_OUTSIDE_PROJECT')
    expect(r.ms).toBeLessThan(10_000)
  })

  it('a FIFO as the pipeline file does not block glrun', () => {
    const dir = repo()
    execFileSync('mkfifo', [join(dir, 'pipe.yml')])
    const r = lint(dir, '--file', 'pipe.yml')
    expect(r.code).not.toBeNull() // not killed by the timeout
    expect(r.out + r.err).toMatch(/GLRUN_FILE_NOT_REGULAR.*pipe\.yml is a named pipe \(FIFO\), not a regular file/)
  })

  it('--file . is a directory: a user error with a hint, not an internal error', () => {
    const r = lint(repo(), '--file', '.')
    expect(r.code).not.toBe(70)
    expect(r.out + r.err).toMatch(/GLRUN_FILE_NOT_REGULAR.*\. is a directory, not a regular file/)
    expect(r.out + r.err).toContain('hint:')
    expect(r.out + r.err).not.toMatch(/internal error|at readFileSync|\.cjs:\d+/)
  })

  it('a local include that is a FIFO is refused at the include, without blocking', () => {
    const dir = repo({ '.gitlab-ci.yml': 'include: ci/jobs.yml\nbuild:\n  script: [make]\n' })
    mkdirSync(join(dir, 'ci'), { recursive: true })
    execFileSync('mkfifo', [join(dir, 'ci/jobs.yml')])
    const r = lint(dir)
    expect(r.code).not.toBeNull()
    expect(r.out + r.err).toMatch(/GLRUN_FILE_NOT_REGULAR.*ci\/jobs\.yml is a named pipe/)
    expect(r.out + r.err).toMatch(/--> \.gitlab-ci\.yml:1:10/)
  })

  it('a pipeline file over the read limit is refused without being parsed', () => {
    const comment = `# ${'x'.repeat(1000)}\n`
    const r = lint(repo({ '.gitlab-ci.yml': `build:\n  script: [make]\n${comment.repeat(5000)}` }))
    expect(r.code).not.toBe(0)
    expect(r.out + r.err).toMatch(/GLRUN_FILE_TOO_LARGE.*\.gitlab-ci\.yml is too big: \d+ bytes, over the 4 MiB/)
  })

  it('the default variables file symlinked out of the repository is refused, its content never shown', () => {
    const dir = repo({ '.gitlab-ci.yml': 'build:\n  script: [make]\n' })
    mkdirSync(join(dir, '.glrun'), { recursive: true })
    symlinkSync(secretOutside(), join(dir, '.glrun/variables.yml'))
    const r = lint(dir)
    expect(r.code).not.toBe(0)
    expect(r.out + r.err).toContain('GLRUN_FILE_OUTSIDE_PROJECT')
    expect(r.out + r.err).not.toMatch(/SECRET|root:/)
  })
})

describe('what the file holds: encoding, control characters, nesting', () => {
  it('invalid UTF-8 is refused with libyaml\'s words and the place of the bad byte', () => {
    const dir = repo()
    writeFileSync(join(dir, '.gitlab-ci.yml'), Buffer.concat([Buffer.from('build:\n  script:\n    - echo caf'), Buffer.from([0xe9]), Buffer.from(' au lait\n')]))
    const r = lint(dir)
    expect(r.code).not.toBe(0)
    expect(r.out + r.err).toMatch(/GLRUN_YAML_ENCODING.*\.gitlab-ci\.yml is not valid YAML: invalid trailing UTF-8 octet/)
    expect(r.out + r.err).toContain('--> .gitlab-ci.yml:3:15')
  })

  it('NUL and escape characters are refused like Psych refuses them, and never reach the terminal', () => {
    const r = lint(repo({ '.gitlab-ci.yml': 'build:\n  script:\n    - echo "\x1b[2J\x1b]0;owned\x07" \x00\n' }))
    expect(r.code).not.toBe(0)
    expect(r.out + r.err).toMatch(/GLRUN_YAML_CONTROL_CHARACTER.*control characters are not allowed \(ESC\)/)
    expect(r.out + r.err).toContain('--> .gitlab-ci.yml:3:13')
    expect(r.out + r.err).not.toMatch(/[\x00\x07\x1b]/)
  })

  it('a million nested brackets: GitLab\'s "too big" error at once, no stack overflow, no 2 MB line printed', () => {
    const r = lint(repo({ '.gitlab-ci.yml': `build:\n  script: ${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}\n` }))
    expect(r.code).not.toBe(0)
    expect(r.out + r.err).toMatch(/GLRUN_YAML_TOO_LARGE.*\.gitlab-ci\.yml: The parsed YAML is too big/)
    expect(r.out + r.err).not.toMatch(/call stack/)
    expect(Math.max(...(r.out + r.err).split('\n').map((l) => l.length))).toBeLessThan(300)
    expect(r.ms).toBeLessThan(10_000)
  })

  it('an error at the end of a 500 kB line shows a clipped window of it, caret under the fault', () => {
    const r = lint(repo({ '.gitlab-ci.yml': `build:\n  script: [${'"x", '.repeat(100_000)}"unterminated]\n` }))
    expect(r.code).not.toBe(0)
    const lines = (r.out + r.err).split('\n')
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(300)
    const shown = lines.findIndex((l) => /^2 \| /.test(l))
    expect(shown).toBeGreaterThan(0)
    expect(lines[shown]).toMatch(/^2 \| …/)
    const caret = lines[shown + 1]!.indexOf('^') - lines[shown + 1]!.indexOf('|')
    expect(lines[shown]!.slice(lines[shown]!.indexOf('|') + caret)).toMatch(/^"unterminated/)
  })
})
