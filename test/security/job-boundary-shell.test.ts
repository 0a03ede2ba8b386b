import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { makeRepo } from '../support/git-repo.js'

/**
 * The shell executor runs jobs as this machine's user, so it is no sandbox; still, glrun itself
 * must never follow what a job planted: no git run by glrun in a job's directory, no artifact
 * written through a link.
 */
const bin = new URL('../../bin/glrun.js', import.meta.url).pathname
const cleanups: (() => void)[] = []
afterAll(() => cleanups.forEach((c) => c()))

function tmp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix))
  cleanups.push(() => rmSync(d, { recursive: true, force: true }))
  return d
}

function run(files: Record<string, string>): { code: number | null; out: string; dir: string } {
  const r0 = makeRepo({ files, origin: 'https://gitlab.example.com/acme/app.git' })
  cleanups.push(r0.cleanup)
  const r = spawnSync(process.execPath, [bin, 'run', '--cwd', r0.dir, '--concurrency', '2'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 })
  return { code: r.status, out: r.stdout, dir: r0.dir }
}

describe('the job boundary (shell executor)', () => {
  it('glrun runs no git in a job directory: core.fsmonitor planted by the job never runs', () => {
    const marker = join(tmp('glrun-fsmonitor-'), 'ran')
    const r = run({
      '.gitlab-ci.yml': `job:
  script:
    - printf '[core]\\n\\tfsmonitor = "touch ${marker}"\\n' >> .git/config
    - echo new > new-file.txt
  artifacts: { untracked: true }
`,
    })
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/found 1 matching artifact files/)
    expect(existsSync(marker)).toBe(false)
  })

  it('an artifact is never extracted through a link an earlier artifact made', () => {
    const victim = tmp('glrun-victim-')
    const r = run({
      '.gitlab-ci.yml': `a1:
  stage: build
  script: [mkdir -p out, ln -s ${victim} out/link]
  artifacts: { paths: [out/] }
a2:
  stage: build
  needs: []
  script: [mkdir -p out/link, echo x > out/link/pwned.txt]
  artifacts: { paths: [out/] }
c:
  stage: test
  needs: [a1, a2]
  script: [echo checked]
`,
    })
    expect(r.out).toMatch(/^c +│ checked/m)
    expect(existsSync(join(victim, 'pwned.txt'))).toBe(false)
    // Said in the job's log, not dropped silently.
    expect(r.out).toMatch(/^c +│ WARNING: artifacts of a2: entry not extracted: out\/link\/pwned\.txt: .*symbolic link/m)
  })
})
