import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeRepo } from '../support/git-repo.js'
import { TEST_DOCKER_HOST, glrunLeftovers, dockerSkip, requireEngine } from '../support/docker-env.js'
import { tempDir, removeTempDirs } from './helpers.js'

/** Skipped, and saying why, without an engine outside CI (see test/support/docker-env.ts). */
const skip = dockerSkip(import.meta.url)

/** `glrun run --executor docker` through the real binary. */
const bin = new URL('../../bin/glrun.js', import.meta.url).pathname
const scenarios = new URL('../fixtures/scenarios/', import.meta.url).pathname
const cleanups: (() => void)[] = []
beforeAll(() => requireEngine())
afterAll(() => {
  cleanups.forEach((c) => c())
  removeTempDirs()
})

function run(dir: string, ...args: string[]): { code: number | null; out: string; err: string; pid: number } {
  const r = spawnSync(process.execPath, [bin, 'run', '--cwd', dir, '--concurrency', '2', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', DOCKER_HOST: TEST_DOCKER_HOST }, timeout: 120_000 })
  return { code: r.status, out: r.stdout, err: r.stderr, pid: r.pid ?? 0 }
}

describe.skipIf(skip)('glrun run --executor docker', () => {
  it('S5: s3-gitlab-ci.yml runs green on busybox:latest, test jobs side by side, nothing left behind', () => {
    const yml = readFileSync(join(scenarios, 's3-gitlab-ci.yml'), 'utf8').replace('sleep 20', 'sleep 3')
    const r0 = makeRepo({ files: { '.gitlab-ci.yml': yml }, origin: 'https://gitlab.example.com/acme/app.git' })
    cleanups.push(r0.cleanup)
    const r = run(r0.dir, '--executor', 'docker')
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/^build-job +│ Using Docker executor with image busybox:latest \.\.\.$/m)
    expect(r.out).toMatch(/^build-job +│ Hello, ada!$/m)
    expect(r.out).toMatch(/^deploy-prod +│ This job deploys something from the main branch\.$/m)
    const lines = r.out.split('\n')
    const job1Done = lines.findIndex((l) => /^test-job1 +│ Job succeeded/.test(l))
    const job2Done = lines.findIndex((l) => /^test-job2 +│ Job succeeded/.test(l))
    const job2Started = lines.findIndex((l) => /^test-job2 +│ Running with glrun/.test(l))
    expect(job2Started).toBeLessThan(job1Done)
    expect(job1Done).toBeLessThan(job2Done)
    expect(r.out).toMatch(/pipeline passed/)
    expect(glrunLeftovers(r.pid)).toEqual([])
  }, 120_000)

  it('20 one-line jobs at once all finish: no exit is missed on a busy engine', () => {
    // A wait sent alongside start could reach the engine after a short script had exited and
    // then hang forever; 20 jobs at once made it happen about one run in three.
    const jobs = Array.from({ length: 20 }, (_, i) => `job-${i + 1}:\n  script: [echo hi]`).join('\n')
    const r0 = makeRepo({ files: { '.gitlab-ci.yml': `image: busybox:latest\n${jobs}\n` } })
    cleanups.push(r0.cleanup)
    for (let round = 0; round < 2; round++) {
      const r = run(r0.dir, '--executor', 'docker', '--concurrency', '20')
      expect(r.code).toBe(0)
      expect(r.out.match(/│ Job succeeded$/gm)).toHaveLength(20)
      expect(glrunLeftovers(r.pid)).toEqual([])
    }
  }, 150_000)

  it('with --config: environment, pre_build_script and artifacts/caches moved out of the container', () => {
    const cfg = join(tempDir('cfg'), 'config.toml')
    writeFileSync(cfg, `[[runners]]
  name = "local-docker"
  executor = "docker"
  environment = ["FROM_CONFIG=config-value"]
  pre_build_script = "echo pre-build hook ran"
  [runners.docker]
    image = "busybox:latest"
    pull_policy = ["if-not-present"]
`)
    const r0 = makeRepo({ files: { '.gitlab-ci.yml': `
build:
  script:
    - echo "env=$FROM_CONFIG dir=$CI_PROJECT_DIR builds=$CI_BUILDS_DIR"
    - mkdir -p out && echo built > out/result.txt
    - echo cached > cache.txt
  cache: { key: k, paths: [cache.txt] }
  artifacts: { paths: [out/] }
use:
  needs: [build]
  script:
    - cat out/result.txt
    - cat cache.txt
  cache: { key: k, paths: [cache.txt], policy: pull }
` }, origin: 'https://gitlab.example.com/acme/app.git' })
    cleanups.push(r0.cleanup)
    const r = run(r0.dir, '--config', cfg)
    expect(r.err).toBe('')
    expect(r.out).toMatch(/^build +│ pre-build hook ran$/m)
    expect(r.out).toMatch(/^build +│ env=config-value dir=\/builds\/acme\/app builds=\/builds$/m)
    expect(r.out).toMatch(/^use +│ built$/m)
    expect(r.out).toMatch(/^use +│ cached$/m)
    expect(r.code).toBe(0)
    expect(existsSync(join(r0.dir, '.glrun'))).toBe(true)
  }, 120_000)

  it('a config error stops the run before any job, with file:line and a hint', () => {
    const cfg = join(tempDir('cfg'), 'config.toml')
    writeFileSync(cfg, '[[runners]]\n  executor = "docker"\n  [runners.docker]\n    pull_policy = "sometimes"\n')
    const r0 = makeRepo({ files: { '.gitlab-ci.yml': 'a:\n  script: [true]\n' } })
    cleanups.push(r0.cleanup)
    const r = run(r0.dir, '--config', cfg)
    expect(r.code).toBe(2)
    expect(r.err).toContain('error[GLRUN_CONFIG_VALUE]: unsupported pull_policy config: "sometimes"')
    expect(r.err).toContain(`${cfg}:4:5`)
    expect(r.err).toContain('4 |     pull_policy = "sometimes"')
    expect(r.out).toBe('')
  }, 60_000)
})
