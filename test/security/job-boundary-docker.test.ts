import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { git, makeRepo } from '../support/git-repo.js'
import { TEST_DOCKER_HOST, dockerSkip, glrunLeftovers, requireEngine } from '../support/docker-env.js'

/**
 * Attacks on the host through the job boundary, on the real engine: a job (or a committed file)
 * plants a link, and glrun must never follow it on this machine. Each of these wrote or read a
 * host file before the job files went through the Engine's archive API.
 */
/** Skipped, and saying why, without an engine outside CI (see test/support/docker-env.ts). */
const skip = dockerSkip(import.meta.url)
const bin = new URL('../../bin/glrun.js', import.meta.url).pathname
const cleanups: (() => void)[] = []
beforeAll(() => requireEngine())
afterAll(() => cleanups.forEach((c) => c()))

function tmp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix))
  cleanups.push(() => rmSync(d, { recursive: true, force: true }))
  return d
}

function repo(files: Record<string, string>, links: Record<string, string> = {}): string {
  const r = makeRepo({ files, origin: 'https://gitlab.example.com/acme/app.git' })
  cleanups.push(r.cleanup)
  for (const [path, target] of Object.entries(links)) symlinkSync(target, join(r.dir, path))
  if (Object.keys(links).length) {
    git(r.dir, 'add', '-A')
    git(r.dir, 'commit', '-q', '-m', 'links')
  }
  return r.dir
}

function run(dir: string, ...args: string[]): { code: number | null; out: string; err: string; pid: number } {
  const r = spawnSync(process.execPath, [bin, 'run', '--cwd', dir, '--concurrency', '2', '--executor', 'docker', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', DOCKER_HOST: TEST_DOCKER_HOST }, timeout: 120_000 })
  return { code: r.status, out: r.stdout, err: r.stderr, pid: r.pid ?? 0 }
}

describe.skipIf(skip)('the job boundary (docker executor)', () => {
  it('host write: an artifact that holds a link, then an artifact written through it, never lands on the host', () => {
    const victim = tmp('glrun-victim-')
    const dir = repo({
      '.gitlab-ci.yml': `image: busybox:latest
a1:
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
  script: [ls -la out/ out/link/ || true]
`,
    })
    const r = run(dir)
    expect(existsSync(join(victim, 'pwned.txt'))).toBe(false)
    expect(r.out).toMatch(/^a1 +│ Job succeeded/m)
    expect(glrunLeftovers(r.pid)).toEqual([])
  })

  it('host write: a committed link in the repository is not a way out either', () => {
    const victim = tmp('glrun-victim-')
    const dir = repo({
      '.gitlab-ci.yml': `image: busybox:latest
make:
  stage: build
  script: [rm out/link, mkdir -p out/link, echo x > out/link/pwned.txt]
  artifacts: { paths: [out/] }
use:
  stage: test
  script: [ls -la out/]
`,
      'out/.keep': '',
    }, { 'out/link': victim })
    const r = run(dir)
    expect(r.out).toMatch(/^make +│ Job succeeded/m)
    expect(existsSync(join(victim, 'pwned.txt'))).toBe(false)
  })

  it('host read: a dotenv report that is a link to a host file is not read', () => {
    const secretDir = tmp('glrun-secret-')
    const secret = join(secretDir, 'host.env')
    writeFileSync(secret, 'STOLEN=host-secret-value-4711\n')
    const dir = repo({
      '.gitlab-ci.yml': `image: busybox:latest
steal:
  stage: build
  script: [ln -s ${secret} steal.env]
  artifacts: { reports: { dotenv: steal.env } }
show:
  stage: test
  script: [echo "stolen=$STOLEN"]
`,
    })
    const r = run(dir)
    expect(r.out).not.toMatch(/host-secret-value-4711/)
    expect(r.out).toMatch(/^show +│ stolen=$/m)
    expect(r.out).toMatch(/dotenv report steal\.env is a symbolic link/)
  })

  it('no host command: core.fsmonitor in the job\'s .git/config does not run when untracked files are collected', () => {
    const marker = join(tmp('glrun-fsmonitor-'), 'ran')
    const dir = repo({
      '.gitlab-ci.yml': `image: busybox:latest
job:
  script:
    - printf '[core]\\n\\tfsmonitor = "touch ${marker}"\\n' >> .git/config
    - echo new > new-file.txt
  artifacts: { untracked: true }
  cache: { key: k, untracked: true }
`,
    })
    const r = run(dir)
    expect(r.code).toBe(0)
    expect(existsSync(marker)).toBe(false)
    expect(r.out).toMatch(/found 1 matching artifact files/)
    expect(readFileSync(join(dir, '.glrun/jobs/job/trace.log'), 'utf8')).toMatch(/Created cache/)
  })
})
