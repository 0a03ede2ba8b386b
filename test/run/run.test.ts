import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { git, makeRepo } from '../support/git-repo.js'

/** `glrun run` through the real binary on real repositories. */
const bin = new URL('../../bin/glrun.js', import.meta.url).pathname
const scenarios = new URL('../fixtures/scenarios/', import.meta.url).pathname
const cleanups: (() => void)[] = []
afterAll(() => cleanups.forEach((c) => c()))

function repo(files: Record<string, string>): string {
  const r = makeRepo({ files, origin: 'https://gitlab.example.com/acme/app.git' })
  cleanups.push(r.cleanup)
  return r.dir
}

function run(dir: string, ...args: string[]): { code: number | null; out: string; err: string; ms: number } {
  const t = Date.now()
  const r = spawnSync(process.execPath, [bin, 'run', '--cwd', dir, '--concurrency', '2', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 })
  return { code: r.status, out: r.stdout, err: r.stderr, ms: Date.now() - t }
}

describe('glrun run', () => {
  it('s3: every job runs in order, echoes expanded, test jobs side by side, exit 0', () => {
    const yml = readFileSync(join(scenarios, 's3-gitlab-ci.yml'), 'utf8').replace('sleep 20', 'sleep 2')
    const dir = repo({ '.gitlab-ci.yml': yml })
    const r = run(dir)
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/^build-job +│ Hello, ada!$/m)
    expect(r.out).toMatch(/^deploy-prod +│ This job deploys something from the main branch\.$/m)
    // test-job1 finishes while test-job2 is still sleeping: they ran side by side.
    const lines = r.out.split('\n')
    const job1Done = lines.findIndex((l) => /^test-job1 +│ Job succeeded/.test(l))
    const job2Done = lines.findIndex((l) => /^test-job2 +│ Job succeeded/.test(l))
    const job2Started = lines.findIndex((l) => /^test-job2 +│ Running with glrun/.test(l))
    expect(job2Started).toBeLessThan(job1Done)
    expect(job1Done).toBeLessThan(job2Done)
    expect(lines.findIndex((l) => /^deploy-prod +│ Running/.test(l))).toBeGreaterThan(job2Done)
    expect(r.out).toMatch(/pipeline passed/)
    // GitLab's bytes in the saved trace; .glrun/ stays out of git's way.
    const trace = readFileSync(join(dir, '.glrun/jobs/build-job/trace.log'), 'utf8')
    expect(trace).toMatch(/section_start:\d+:step_script\r\x1b\[0K\x1b\[0K\x1b\[36;1mExecuting "step_script" stage of the job script\x1b\[0;m\x1b\[0;m\n\x1b\[32;1m\$ echo "Hello, \$GITLAB_USER_LOGIN!"\x1b\[0;m\nHello, ada!\n/)
    expect(trace.endsWith('\x1b[32;1mJob succeeded\x1b[0;m\n')).toBe(true)
    expect(git(dir, 'status', '--porcelain')).toBe('')
  })

  it('s4 runs green', () => {
    const dir = repo({ '.gitlab-ci.yml': readFileSync(join(scenarios, 's4-gitlab-ci.yml'), 'utf8') })
    const r = run(dir)
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/^build-job +│ Hello, ada!$/m)
  })

  it('a failing job fails the pipeline (exit 1), runs its after_script, skips what depends on it; masked values never show', () => {
    const dir = repo({
      '.gitlab-ci.yml': [
        'stages: [build, test]',
        'build:', '  stage: build', '  script:', '    - echo "token is $SECRET"', '    - echo "$NOT_SECRET"', '    - exit 3',
        '  after_script:', "    - 'echo \"after: $CI_JOB_STATUS $SECRET\"'",
        'later:', '  stage: test', '  script: [echo never]',
        'allowed:', '  stage: build', '  allow_failure: {exit_codes: [42]}', '  script: [exit 42]',
      ].join('\n'),
    })
    const r = run(dir, '--masked-variable', 'SECRET=s3cr3t-value-123', '--variable', 'NOT_SECRET=visible')
    expect(r.code).toBe(1)
    expect(r.out).toMatch(/^build +│ token is \[MASKED\]$/m)
    expect(r.out).toMatch(/^build +│ visible$/m)
    expect(r.out).toMatch(/^build +│ after: failed \[MASKED\]$/m)
    expect(r.out).toMatch(/^build +│ ERROR: Job failed: exit status 3$/m)
    expect(r.out).toMatch(/^later +│ skipped: a job it depends on failed$/m)
    expect(r.out).toMatch(/allowed +build +failed \(allowed\)/)
    expect(r.out + r.err + readFileSync(join(dir, '.glrun/jobs/build/trace.log'), 'utf8')).not.toMatch(/s3cr3t/)
  })

  it('a job over its timeout is killed with its processes and reported like GitLab', () => {
    const dir = repo({ '.gitlab-ci.yml': 'slow:\n  timeout: 2s\n  script: ["sleep 37 & sleep 37"]\n' })
    const r = run(dir)
    expect(r.code).toBe(1)
    expect(r.out).toMatch(/ERROR: Job failed: execution took longer than 2s seconds/)
    expect(r.ms).toBeLessThan(20_000)
    expect(spawnSync('pgrep', ['-f', '^sleep 37$']).status).not.toBe(0)
  })

  it('RUNNER_SCRIPT_TIMEOUT ends the script early and after_script still runs; the job timeout alone skips it (GitLab)', () => {
    const dir = repo({ '.gitlab-ci.yml': [
      'scripted:', '  variables: { RUNNER_SCRIPT_TIMEOUT: 2s, RUNNER_AFTER_SCRIPT_TIMEOUT: 1s }', '  script: [sleep 38]',
      '  after_script: [\'echo "after: $CI_JOB_STATUS"\', sleep 39]',
      'whole:', '  timeout: 2s', '  script: [sleep 38]', '  after_script: [echo never-after]',
    ].join('\n') })
    const r = run(dir, '--concurrency', '2')
    expect(r.code).toBe(1)
    expect(r.out).toMatch(/^scripted +│ WARNING: step_script could not run to completion because the timeout was exceeded\./m)
    expect(r.out).toMatch(/^scripted +│ after: failed$/m)
    expect(r.out).toMatch(/^scripted +│ WARNING: after_script could not run to completion because the timeout was exceeded\./m)
    expect(r.out).toMatch(/^scripted +│ ERROR: Job failed: execution took longer than 2s seconds$/m)
    expect(r.out).not.toMatch(/never-after/)
    expect(r.ms).toBeLessThan(20_000)
  })

  it('named jobs, --needs, manual jobs', () => {
    const dir = repo({ '.gitlab-ci.yml': 'a:\n  stage: build\n  script: [echo A]\nb:\n  needs: [a]\n  script: [echo B]\nm:\n  when: manual\n  script: [echo M]\n' })
    expect(run(dir).out).toMatch(/^m +│ skipped: manual job/m)
    const only = run(dir, 'b')
    expect(only.out).not.toMatch(/^a +│/m)
    expect(run(dir, 'b', '--needs').out).toMatch(/^a +│ A$/m)
    expect(run(dir, '--manual').out).toMatch(/^m +│ M$/m)
    expect(existsSync(join(dir, '.glrun/jobs/m/trace.log'))).toBe(true)
  })
})

describe('glrun run: sources', () => {
  it('GIT_STRATEGY clone fetches the pipeline commit from the local repository, like GitLab prints it', () => {
    const dir = repo({ '.gitlab-ci.yml': 'variables:\n  GIT_STRATEGY: clone\njob:\n  script:\n    - git log -1 --format=%s\n    - test ! -e untracked.txt\n' })
    writeFileSync(join(dir, 'untracked.txt'), 'not committed')
    const r = run(dir)
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/^job +│ Fetching changes with git depth set to 20\.\.\.$/m)
    expect(r.out).toMatch(/^job +│ Created fresh repository\.$/m)
    expect(r.out).toMatch(/^job +│ Checking out [0-9a-f]{8} as detached HEAD \(ref is main\)\.\.\.$/m)
    expect(r.out).toMatch(/^job +│ Add pipeline$/m)
  })

  it('by default a job sees the working tree as it is, and cannot change it', () => {
    const dir = repo({ '.gitlab-ci.yml': 'job:\n  script:\n    - cat draft.txt\n    - echo changed > draft.txt\n' })
    writeFileSync(join(dir, 'draft.txt'), 'uncommitted work\n')
    const r = run(dir)
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/^job +│ uncommitted work$/m)
    expect(readFileSync(join(dir, 'draft.txt'), 'utf8')).toBe('uncommitted work\n')
  })
})
