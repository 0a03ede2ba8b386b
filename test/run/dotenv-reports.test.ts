import { spawnSync } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import { makeRepo } from '../support/git-repo.js'

/** artifacts:reports:dotenv with several files: GitLab reads every one (later keys win). */
const bin = new URL('../../bin/glrun.js', import.meta.url).pathname
const cleanups: (() => void)[] = []
afterAll(() => cleanups.forEach((c) => c()))

describe('glrun run: dotenv reports', () => {
  it('every file of reports:dotenv reaches the jobs that need it', () => {
    const r0 = makeRepo({ files: { '.gitlab-ci.yml': `make:
  stage: build
  script: [echo "FIRST=one" > a.env, printf "SECOND=two\\nSHARED=from-b\\n" > b.env, echo "SHARED=from-a" >> a.env]
  artifacts: { reports: { dotenv: [a.env, b.env] } }
use:
  stage: test
  script: [echo "got $FIRST $SECOND $SHARED"]
` } })
    cleanups.push(r0.cleanup)
    const r = spawnSync(process.execPath, [bin, 'run', '--cwd', r0.dir], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 })
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^make +│ Saved 4 dotenv variables from a\.env, b\.env$/m)
    expect(r.stdout).toMatch(/^use +│ got one two from-b$/m)
  })
})
