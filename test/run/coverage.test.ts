import { spawnSync } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import { makeRepo } from '../support/git-repo.js'

/** `coverage:` in a local run: taken from the job's log as GitLab takes it, shown in the summary and in --json. */
const bin = new URL('../../bin/glrun.js', import.meta.url).pathname
const cleanups: (() => void)[] = []
afterAll(() => cleanups.forEach((c) => c()))

describe('glrun run: coverage', () => {
  const yml = `unit:
  script: [echo "TOTAL 12.5% (old)", echo "Total coverage 85.50% of lines"]
  coverage: '/(?i)total coverage (\\d+\\.\\d+)%/'
failing:
  script: [echo "total coverage 40.00%", exit 3]
  coverage: '/total coverage (\\d+\\.\\d+)%/'
  allow_failure: true
plain:
  script: [echo "Total coverage 99.00%"]
`
  it('the summary has a coverage column with each job\'s figure, failed jobs included', () => {
    const r0 = makeRepo({ files: { '.gitlab-ci.yml': yml } })
    cleanups.push(r0.cleanup)
    const r = spawnSync(process.execPath, [bin, 'run', '--cwd', r0.dir], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 })
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^job +stage +status +duration +coverage/m)
    expect(r.stdout).toMatch(/^unit +test +success +\S+ +85\.50%/m)
    expect(r.stdout).toMatch(/^failing +test +failed \(allowed\) +\S+ +40\.00%/m)
    expect(r.stdout).toMatch(/^plain +test +success +[0-9.]+s *$/m)
  })

  it('--json: the job-finished event carries the coverage', () => {
    const r0 = makeRepo({ files: { '.gitlab-ci.yml': yml } })
    cleanups.push(r0.cleanup)
    const r = spawnSync(process.execPath, [bin, 'run', '--cwd', r0.dir, '--json'], { encoding: 'utf8', timeout: 60_000 })
    const finished = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; job: string; outcome?: { coverage?: string } }).filter((e) => e.type === 'job-finished')
    expect(finished.find((e) => e.job === 'unit')?.outcome?.coverage).toBe('85.50')
    expect(finished.find((e) => e.job === 'plain')?.outcome?.coverage).toBeUndefined()
  })
})
