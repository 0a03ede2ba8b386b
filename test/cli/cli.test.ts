import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { git, makeRepo } from '../support/git-repo.js'

/** The real `glrun` binary (built by `npm run build`), as a user runs it. */
const bin = new URL('../../bin/glrun.js', import.meta.url).pathname
const cleanups: (() => void)[] = []
afterAll(() => cleanups.forEach((c) => c()))

function glrun(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

function repo(yml: string): string {
  const r = makeRepo({ files: { '.gitlab-ci.yml': yml }, origin: 'https://gitlab.example.com/acme/app.git' })
  cleanups.push(r.cleanup)
  return r.dir
}

const pipeline = 'build:\n  stage: build\n  script: [make]\ntest:\n  script: [make test]\n  rules:\n    - if: $RUN_TESTS\n.hidden:\n  script: [x]\n'

describe('glrun CLI', () => {
  it('lint: exit 0 and a summary when valid', () => {
    const r = glrun('lint', '--cwd', repo(pipeline))
    expect(r).toMatchObject({ code: 0, out: '.gitlab-ci.yml is valid: 1 job in 1 stage\n' })
  })

  it('lint --json: every diagnostic with its place, exit 1', () => {
    const r = glrun('lint', '--json', '--cwd', repo('build:\n  stage: nope\n  script: [make]\n  scirpt: [x]\n'))
    expect(r.code).toBe(1)
    const out = JSON.parse(r.out) as { valid: boolean; errors: { code: string; line: number }[] }
    expect(out.valid).toBe(false)
    expect(out.errors.map((e) => [e.code, e.line])).toEqual([['GLRUN_SCHEMA_UNKNOWN_KEY', 4], ['GLRUN_STAGE_UNKNOWN', 2]])
  })

  it('list: jobs in stage order; --all explains the others; variables change rules', () => {
    const dir = repo(pipeline)
    expect(glrun('list', '--cwd', dir).out).toBe('name   stage  when        allow_failure  needs\nbuild  build  on_success  false\n')
    const all = glrun('list', '--all', '--cwd', dir).out
    expect(all).toMatch(/test +\.gitlab-ci\.yml:4 +none of its 1 rule matched/)
    expect(all).toMatch(/\.hidden +\.gitlab-ci\.yml:8 +hidden job/)
    expect(glrun('list', '--cwd', dir, '--variable', 'RUN_TESTS=1').out).toMatch(/^test +test/m)
  })

  it('compile: payloads for the named jobs; an unknown or excluded job is one clear line, exit 2', () => {
    const dir = repo(pipeline)
    const ok = glrun('compile', '--json', '--cwd', dir, 'build')
    expect(JSON.parse(ok.out).payloads.map((p: { job_info: { name: string } }) => p.job_info.name)).toEqual(['build'])
    const unknown = glrun('compile', '--cwd', dir, 'biuld')
    expect(unknown.code).toBe(2)
    expect(unknown.err).toMatch(/no job named "biuld" in this pipeline/)
    expect(unknown.err).toMatch(/did you mean "build"\?/)
    expect(unknown.err).not.toMatch(/at .*\.js:\d+/)
    expect(glrun('compile', '--cwd', dir, 'test').err).toMatch(/job "test" is not in this pipeline: none of its 1 rule matched/)
  })

  it('bad invocations: not a git repository, missing file, bad --variable, unknown option', () => {
    const empty = mkdtempSync(join(tmpdir(), 'glrun-nogit-'))
    cleanups.push(() => rmSync(empty, { recursive: true, force: true }))
    for (const [args, message] of [
      [['lint', '--cwd', empty], /is not inside a git repository/],
      [['lint', '--cwd', repo(pipeline), '--file', 'nope.yml'], /no pipeline file: nope\.yml does not exist/],
      [['list', '--cwd', repo(pipeline), '--variable', 'NOEQUALS'], /--variable "NOEQUALS" is not KEY=VALUE/],
      [['list', '--frobnicate'], /unknown option '--frobnicate'/],
      [['lint', '--cwd', join(empty, 'missing')], /does not exist/],
    ] as const) {
      const r = glrun(...args)
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.err, args.join(' ')).toMatch(message)
      expect(r.err).not.toMatch(/internal error/)
    }
  })

  it('before the first commit: lint, list and compile read the file; run says it needs a commit', () => {
    const dir = repo('build:\n  script: [make]\n  rules:\n    - changes: [src/**]\n')
    git(dir, 'update-ref', '-d', 'HEAD') // the files stay staged; HEAD is unborn, as after `git init && git add`
    expect(glrun('lint', '--cwd', dir)).toMatchObject({ code: 0, out: '.gitlab-ci.yml is valid: 1 job in 1 stage\n' })
    // Nothing to compare with: rules:changes is true, as for a pipeline with no push.
    expect(glrun('list', '--cwd', dir)).toMatchObject({ code: 0, out: 'name   stage  when        allow_failure  needs\nbuild  test   on_success  false\n' })
    const compiled = glrun('compile', '--json', '--cwd', dir, 'build')
    expect(compiled.code).toBe(0)
    expect(JSON.parse(compiled.out).payloads[0].git_info.sha).toBe('0'.repeat(40))
    const run = glrun('run', '--cwd', dir)
    expect(run.code).toBe(2)
    expect(run.err).toMatch(/^error\[GLRUN_NO_COMMIT\]: the repository .* has no commit yet, and a pipeline runs for a commit$/m)
    expect(run.err).toMatch(/git add -A && git commit -m init/)
  })

  it('masked values never reach the output, not even in compile --json', () => {
    const dir = repo('job:\n  script: [echo "$SECRET"]\n')
    const r = glrun('compile', '--json', '--cwd', dir, '--masked-variable', 'SECRET=s3cr3t-value-123')
    expect(r.code).toBe(0)
    expect(r.out).not.toMatch(/s3cr3t-value-123|glcbt-local/)
    expect(r.out).toMatch(/"key": "SECRET",\s+"value": "\[MASKED\]"/)
  })

  it('--help works everywhere', () => {
    for (const cmd of [[], ['lint'], ['list'], ['compile']]) {
      const r = glrun(...cmd, '--help')
      expect(r.code).toBe(0)
      expect(r.out).toMatch(/Usage: glrun/)
    }
  })
})
