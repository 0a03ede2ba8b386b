import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { SourceTexts } from '../../src/diagnostics/source.js'
import { resolveConfig } from '../../src/pipeline/include/index.js'
import { compileYaml } from '../support/compile-yaml.js'
import { makeRepo } from '../support/git-repo.js'
import { glrun } from './run-glrun.js'

/**
 * GitLab's limits on what one pipeline may make it load, with GitLab's messages: a hostile file
 * is refused quickly, and a legitimate one near the limits still compiles.
 */
process.env['GLRUN_NO_PARSE_CACHE'] = '1'
const cleanups: (() => void)[] = []
afterAll(() => cleanups.forEach((c) => c()))

const codes = (p: { errors: readonly { code: string }[] }): string[] => p.errors.map((e) => e.code)

/** `.s.l0` is ten commands; each next level is ten references to the one below. */
function referenceBomb(levels: number, use: number): string {
  const out = ['.s:', `  l0: [${Array.from({ length: 10 }, (_, i) => `"echo ${i}"`).join(', ')}]`]
  for (let l = 1; l <= levels; l++) out.push(`  l${l}: [${Array(10).fill(`!reference [.s, l${l - 1}]`).join(', ')}]`)
  out.push('job:', `  script: !reference [.s, l${use}]`)
  return `${out.join('\n')}\n`
}

describe('!reference', () => {
  // Through the binary, under ulimit and a timeout: a regression must fail this test, not take
  // the machine's memory (10^10 commands, resolved naively, is what the 7-level case already
  // cost: 100 s and 4.3 GB).
  it('a "billion laughs" of references (10^10 commands): `glrun lint` refuses it at once, with the reference; ten references to ten commands still resolve', async () => {
    const r = makeRepo({ files: { '.gitlab-ci.yml': referenceBomb(9, 9) } })
    cleanups.push(r.cleanup)
    const res = glrun(['lint', '--cwd', r.dir], { timeoutMs: 30_000 })
    expect(res.code).not.toBeNull()
    expect(res.out + res.err).toMatch(/error\[GLRUN_REFERENCE_TOO_LARGE\]: !reference \[".s", "l\d"\] expands the configuration to more than 1,000,000 values\n +--> \.gitlab-ci\.yml:\d+:\d+/)
    expect(res.ms).toBeLessThan(10_000)
    // References that share their targets still resolve: ten references to a list of ten.
    const ok = await compileYaml(referenceBomb(1, 1))
    expect(ok.errors).toEqual([])
    expect(ok.jobs[0]!.payload.steps[0]!.script).toHaveLength(100)
  })
})

describe('extends depth does not depend on the order jobs are written in', () => {
  /** job0 extends job1 … extends job{n-1}; written top-down or bottom-up. */
  const chain = (n: number, reversed: boolean): string => {
    const jobs = Array.from({ length: n }, (_, i) => (i === n - 1 ? `j${i}:\n  script: [echo ${i}]\n` : `j${i}:\n  extends: j${i + 1}\n`))
    return (reversed ? jobs.reverse() : jobs).join('')
  }

  it('a 14-job chain fails in both orders, naming the job GitLab names (the first with 11 ancestors); 12 jobs compile', async () => {
    // GitLab extends the jobs in the order they are written and stops at the first error: top
    // down, j0 is first and j11 sits 11 below it; bottom up, j1 is the first with a too-deep
    // chain, and j12 sits 11 below it.
    for (const [reversed, named] of [[false, 'j11'], [true, 'j12']] as const) {
      const p = await compileYaml(chain(14, reversed))
      const deep = p.errors.filter((e) => e.code === 'GLRUN_EXTENDS_TOO_DEEP')
      expect(deep.map((e) => e.message), `reversed: ${reversed}`).toEqual([`${named}: nesting too deep in \`extends\``])
      // One job fewer (11 levels, GitLab's most) compiles.
      const p12 = await compileYaml(chain(12, reversed))
      expect(p12.errors, `reversed: ${reversed}`).toEqual([])
      expect(p12.jobs.find((j) => j.name === 'j0')!.payload.steps[0]!.script).toEqual(['echo 11'])
    }
  })
})

describe('one file\'s parsed size and depth (max_yaml_size_bytes, max_yaml_depth)', () => {
  const aliases = (copies: number): string =>
    `.big: &big [${Array.from({ length: 1000 }, (_, i) => `v${i}`).join(', ')}]\n.many: [${Array(copies).fill('*big').join(', ')}]\njob:\n  script: [echo]\n`

  it('aliases expanding to ~60,000 values are over GitLab\'s 2 MiB: "The parsed YAML is too big"', async () => {
    const p = await compileYaml(aliases(60))
    expect(codes(p)).toEqual(['GLRUN_YAML_TOO_LARGE'])
    expect(p.errors[0]!.message).toMatch(/The parsed YAML is too big$/)
    expect((await compileYaml(aliases(10))).errors).toEqual([]) // a few copies are fine
  })

  const nested = (levels: number): string => `job:\n  script: [echo]\n  variables:\n    X: ${'['.repeat(levels)}deep${']'.repeat(levels)}\n`

  it('a value under 100 levels of nesting is too deep, as in GitLab; under 99 it is not too deep', async () => {
    // job mapping, variables mapping and the top mapping are three levels; the lists the rest.
    const over = await compileYaml(nested(97))
    expect(codes(over)).toEqual(['GLRUN_YAML_TOO_LARGE'])
    expect(over.errors[0]!.hint).toMatch(/nested more than 100 levels/)
    expect(codes(await compileYaml(nested(96)))).not.toContain('GLRUN_YAML_TOO_LARGE')
    // Brackets inside strings are not nesting, however many are left open.
    const brackets = await compileYaml(`job:\n  script:\n${'    - echo "["\n'.repeat(2000)}`)
    expect(brackets.errors).toEqual([])
  })
})

describe('includes: the total size of included YAML (ci_max_total_yaml_size_bytes)', () => {
  it('over the total, GitLab\'s message at the include that crossed it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glrun-total-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    writeFileSync(join(dir, '.gitlab-ci.yml'), 'include: [a.yml, b.yml, c.yml]\n')
    for (const f of ['a', 'b', 'c']) writeFileSync(join(dir, `${f}.yml`), `${f}:\n  script: [${'"echo padding", '.repeat(5)}"done"]\n`)
    const r = await resolveConfig({ projectDir: dir, vars: () => undefined, sources: new SourceTexts(), maxTotalBytes: 250 })
    expect(r.errors.map((e) => [e.code, e.message])).toEqual([['GLRUN_INCLUDE_TOO_BIG', 'Total size of combined CI/CD configuration is too big']])
    expect(r.errors[0]!.where).toMatchObject({ file: '.gitlab-ci.yml', line: 1 })
  })
})
