import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { makeRepo } from '../support/git-repo.js'
import { glrun } from './run-glrun.js'

/**
 * Values given as secrets never show: not in the job log (console, trace files), not in an error
 * about them, not in any file glrun writes. glrun applies GitLab's rules for what can be masked
 * (the runner masks a value only whole), and refuses the rest without quoting it.
 */
const cleanups: (() => void)[] = []
afterAll(() => cleanups.forEach((c) => c()))

function repo(files: Record<string, string>): string {
  const r = makeRepo({ files, origin: 'https://gitlab.example.com/acme/app.git' })
  cleanups.push(r.cleanup)
  return r.dir
}

/** Every file under `dir`, concatenated (traces, reports, caches), but the variables file given. */
function allFiles(dir: string): string {
  if (!existsSync(dir)) return ''
  let out = ''
  for (const e of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const p = join(dir, e)
    if (e === 'variables.yml') continue
    if (statSync(p).isFile()) out += readFileSync(p, 'utf8')
  }
  return out
}

const PIPELINE = { '.gitlab-ci.yml': 'show:\n  script:\n    - echo "first line $(echo "$KEY" | head -1)"\n    - echo "whole $KEY"\n' }

function run(dir: string, ...args: string[]) {
  const r = glrun(['run', '--cwd', dir, ...args], { timeoutMs: 60_000 })
  return { ...r, everything: r.out + r.err + allFiles(join(dir, '.glrun')) }
}

describe('glrun run refuses values GitLab would not mask, and never repeats them', () => {
  it('a multi-line masked value: refused, so no job can print it line by line', () => {
    const dir = repo(PIPELINE)
    const r = run(dir, '--masked-variable', 'KEY=FirstLineSecret1\nSecondLineSecret2')
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/GLRUN_MASKED_VALUE_INVALID.*--masked-variable: variable KEY cannot be masked: the value spans more than one line \(the value is not shown\)/)
    expect(r.everything).not.toMatch(/FirstLineSecret1|SecondLineSecret2/)
  })

  it('a short masked value: refused (it would mask pieces of other words and so give itself away)', () => {
    const dir = repo(PIPELINE)
    const r = run(dir, '--masked-variable', 'KEY=Zq7')
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/variable KEY cannot be masked: the value is shorter than 8 characters/)
    expect(r.everything).not.toContain('Zq7')
    expect(r.everything).not.toContain('[MASKED]')
  })

  it('a value with spaces or characters outside GitLab\'s alphabet: refused, without quoting it', () => {
    for (const [value, reason] of [['correct horse battery', 'contains whitespace'], ['pa$$w0rd!#%&', 'contains characters other than A-Z']] as const) {
      const r = run(repo(PIPELINE), '--masked-variable', `KEY=${value}`)
      expect(r.code, value).toBe(2)
      expect(r.err).toContain(`variable KEY cannot be masked: the value ${reason}`)
      expect(r.everything).not.toContain(value)
      expect(r.everything).not.toMatch(/horse|w0rd/)
    }
  })

  it('--masked-variable "=VALUE" (no name): the error does not repeat the value', () => {
    const r = run(repo(PIPELINE), '--masked-variable', '=Zk9SecretValueX')
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/GLRUN_CLI_BAD_PAIR.*a --masked-variable argument is not KEY=VALUE: the variable name before "=" is missing/)
    expect(r.everything).not.toContain('Zk9SecretValueX')
  })

  it('--masked-variable VALUE (the name forgotten): not repeated either', () => {
    const r = run(repo(PIPELINE), '--masked-variable', 'Zk9SecretValueY')
    expect(r.code).toBe(2)
    expect(r.everything).not.toContain('Zk9SecretValueY')
  })
})

describe('the variables file', () => {
  it('a masked entry with a mistake: the error names the file and key, never shows the line with the value', () => {
    const dir = repo({ ...PIPELINE, '.glrun/variables.yml': 'PLAIN: visible\nKEY: { value: Sup3rSecretValue99, masked: true, maskd: true }\n' })
    const r = run(dir)
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/GLRUN_VARIABLES_FILE_ENTRY.*variable KEY has unknown keys: maskd \(in .*variables\.yml\)/)
    expect(r.everything).not.toContain('Sup3rSecretValue99')
  })

  it('a YAML mistake in it is placed by line and column, without showing the line (it may hold a secret)', () => {
    const dir = repo({ ...PIPELINE, '.glrun/variables.yml': 'KEY: { value: "Sup3rSecretValue77, masked: true }\n' })
    const r = run(dir)
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/GLRUN_YAML_SYNTAX.*variables\.yml is not valid YAML: .*\(line 1, column \d+\)/)
    expect(r.everything).not.toContain('Sup3rSecretValue77')
  })

  it('masked values follow GitLab\'s rules there too (a raw one may hold any non-space characters)', () => {
    const dir = repo({ ...PIPELINE, '.glrun/variables.yml': 'KEY: { value: "Multi-Line-1\\nMulti-Line-2", masked: true }\nRAWKEY: { value: "pa$$w0rd!#%&", masked: true, raw: true }\n' })
    const r = run(dir)
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/variables\.yml, variable KEY: variable KEY cannot be masked: the value spans more than one line/)
    expect(r.err).not.toContain('RAWKEY')
    expect(r.everything).not.toMatch(/Multi-Line-\d|w0rd/)
  })

  it('is never copied into glrun\'s parse cache (secrets stay out of ~/.cache)', () => {
    const cache = mkdtempSync(join(tmpdir(), 'glrun-xdg-'))
    cleanups.push(() => rmSync(cache, { recursive: true, force: true }))
    const dir = repo({ ...PIPELINE })
    writeFileSync(join(dir, 'vars.yml'), 'KEY: { value: CachedSecretValue42, masked: true }\n')
    const r = glrun(['lint', '--cwd', dir, '--variables-file', 'vars.yml'], { env: { XDG_CACHE_HOME: cache, GLRUN_NO_PARSE_CACHE: '0' } })
    expect(r.code).toBe(0)
    expect(allFiles(cache)).not.toBe('') // the pipeline file itself was cached
    expect(allFiles(cache)).not.toContain('CachedSecretValue42')
  })
})
