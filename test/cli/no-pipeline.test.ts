import { spawnSync } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import { makeRepo } from '../support/git-repo.js'

/** When GitLab would create no pipeline, `list` and `run` say why, in glrun's words and GitLab's. */
const bin = new URL('../../bin/glrun.js', import.meta.url).pathname
const cleanups: (() => void)[] = []
afterAll(() => cleanups.forEach((c) => c()))

function glrun(dir: string, ...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args, '--cwd', dir], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

function repo(yml: string): string {
  const r = makeRepo({ files: { '.gitlab-ci.yml': yml }, origin: 'https://gitlab.example.com/acme/app.git' })
  cleanups.push(r.cleanup)
  return r.dir
}

const RULES = 'The resulting pipeline would have been empty. Review the rules configuration for the relevant jobs.'
const WORKFLOW = 'The pipeline did not run. Review the workflow:rules configuration for the pipeline.'

describe('no pipeline', () => {
  it('rules leave every job out: list says so with GitLab\'s error; run fails (exit 1) instead of "pipeline passed"', () => {
    const dir = repo('build:\n  script: [make]\n  rules:\n    - if: $NOPE\n')
    expect(glrun(dir, 'list')).toEqual({
      code: 0,
      err: '',
      out: `No pipeline would be created: no job is left: its only job, build, is left out (none of its 1 rule matched).\nGitLab says: "${RULES}"\n(\`glrun list --all\` shows every job left out and why.)\n`,
    })
    const run = glrun(dir, 'run')
    expect(run.code).toBe(1)
    expect(run.out).toBe('')
    expect(run.err).toContain(`error[GLRUN_NO_PIPELINE]: no pipeline would be created: no job is left: its only job, build, is left out (none of its 1 rule matched); GitLab says: "${RULES}"`)
    expect(run.err).toMatch(/hint: `glrun list --all` shows every job left out and why/)
    const json = glrun(dir, 'run', '--json')
    expect(json.code).toBe(1)
    expect(JSON.parse(json.out)).toMatchObject({ type: 'pipeline-not-created', code: 'GLRUN_NO_PIPELINE' })
  })

  it('workflow:rules turn the pipeline away: GitLab\'s workflow error, not "no workflow:rules"', () => {
    const dir = repo('workflow:\n  rules:\n    - if: $CI_COMMIT_TAG\nbuild:\n  script: [make]\n')
    const list = glrun(dir, 'list', '--all')
    expect(list.code).toBe(0)
    expect(list.out).toMatch(/^No pipeline would be created: workflow:rules: none of the 1 workflow rules matched\.\nGitLab says: "The pipeline did not run\. Review the workflow:rules configuration for the pipeline\."\n/)
    expect(list.out).toMatch(/^build +\.gitlab-ci\.yml:4 +the pipeline is not created \(workflow:rules\)$/m)
    const run = glrun(dir, 'run')
    expect(run.code).toBe(1)
    expect(run.err).toContain(`workflow:rules: none of the 1 workflow rules matched; GitLab says: "${WORKFLOW}"`)
  })

  it('only a .pre job is left: no pipeline, as in GitLab; nothing runs (a .pre job beside another stage\'s job runs)', () => {
    const dir = repo('prepare:\n  stage: .pre\n  script: [touch ran]\ntest:\n  script: [make test]\n  rules:\n    - when: never\n')
    const list = glrun(dir, 'list', '--all')
    expect(list.out).toMatch(/^No pipeline would be created: only \.pre\/\.post jobs are left \(prepare\), and GitLab creates no pipeline of those alone\.$/m)
    expect(list.out).toMatch(/^prepare +\.gitlab-ci\.yml:1 +the pipeline is not created: only \.pre\/\.post jobs would run$/m)
    const run = glrun(dir, 'run')
    expect(run.code).toBe(1)
    expect(run.out).not.toMatch(/prepare|passed/)
    expect(run.err).toContain('only .pre/.post jobs are left (prepare)')
    // Beside a job in another stage, the .pre job is part of the pipeline.
    const both = repo('prepare:\n  stage: .pre\n  script: [echo]\nbuild:\n  script: [make]\n')
    expect(glrun(both, 'list').out).toBe('name     stage  when        allow_failure  needs\nprepare  .pre   on_success  false\nbuild    test   on_success  false\n')
  })
})
