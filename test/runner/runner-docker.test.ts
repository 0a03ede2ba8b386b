import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobPayload } from '../../src/payload/types.js'
import { compileYaml } from '../support/compile-yaml.js'
import { TEST_DOCKER_HOST, dockerSkip, glrunLeftovers, requireEngine } from '../support/docker-env.js'
import { glrunAsync as glrun } from '../support/glrun-async.js'
import { type GitLabDouble, startGitLabDouble } from '../support/gitlab-double/server.js'

/** Skipped, and saying why, without an engine outside CI (see test/support/docker-env.ts). */
const skip = dockerSkip(import.meta.url)

/**
 * Runner mode on the Docker executor: the four jobs of s3-gitlab-ci.yml taken from the GitLab
 * double by `glrun runner` with executor = "docker" on the test engine. GIT_STRATEGY none in the
 * payload's variables: a clone or fetch runs in the helper image, which the test engine does not
 * have (and nothing may be pulled); these jobs do not read their sources.
 */
const scenarios = new URL('../fixtures/scenarios/', import.meta.url).pathname
const root = mkdtempSync(join(tmpdir(), 'glrun-runner-docker-'))
let gl: GitLabDouble
beforeAll(async () => {
  requireEngine()
  gl = await startGitLabDouble({ longPollMs: 200, traceUpdateInterval: 1, finalisingPuts: 1, finalisingInterval: 1 })
})
afterAll(async () => {
  await gl?.close()
  rmSync(root, { recursive: true, force: true })
})

describe.skipIf(skip)('glrun runner, executor = "docker"', () => {
  it('s3-gitlab-ci.yml: four jobs from GitLab run on busybox:latest, traces in sections, final states success, nothing left on the engine', async () => {
    const yaml = `variables: { GIT_STRATEGY: none }\n${readFileSync(join(scenarios, 's3-gitlab-ci.yml'), 'utf8').replace('sleep 20', 'sleep 1')}`
    const ids = new Map<string, number>()
    let id = 990_000 + Math.floor(Math.random() * 9_000)
    for (const j of (await compileYaml(yaml, { variables: { GITLAB_USER_LOGIN: 'ada' } })).jobs) {
      const payload: JobPayload = { ...j.payload, id: id++ }
      gl.state.enqueue(payload)
      ids.set(j.name, payload.id)
    }
    expect([...ids.keys()]).toEqual(['build-job', 'test-job1', 'test-job2', 'deploy-prod'])
    const config = join(root, 'config.toml')
    writeFileSync(config, `concurrent = 2
check_interval = 0

[[runners]]
  name = "docker-runner"
  url = "${gl.url}"
  token = "${gl.state.addRunner().token}"
  executor = "docker"
  [runners.docker]
    host = "${TEST_DOCKER_HOST}"
    image = "alpine:latest"
    pull_policy = ["if-not-present"]
`)
    const r = await glrun(['runner', '--config', config, '--max-builds', '4', '--work-dir', join(root, 'work')], { timeoutMs: 150_000 })
    expect(r.code, r.err).toBe(0)
    for (const [name, jobId] of ids) {
      const trace = gl.state.traceOf(jobId).toString('utf8')
      expect(gl.state.jobs.get(jobId)!.final, `${name}\n${trace}`).toMatchObject({ state: 'success', checksumMatches: true, bytesizeMatches: true })
      const sections = [...trace.matchAll(/section_start:\d+:([a-z_]+)/g)].map((m) => m[1])
      expect(sections.slice(0, 4), name).toEqual(['prepare_executor', 'prepare_script', 'get_sources', 'step_script'])
      expect(new Set(sections).size, name).toBe([...trace.matchAll(/section_end:\d+:[a-z_]+/g)].length)
      // The job's image (default:image of the pipeline), not the runner's default.
      expect(trace, name).toMatch(/Using Docker executor with image busybox:latest \.\.\./)
      expect(trace, name).toMatch(/Skipping Git repository setup/)
      expect(trace, name).toMatch(/Job succeeded/)
    }
    expect(gl.state.traceOf(ids.get('build-job')!).toString()).toMatch(/^Hello, ada!$/m)
    expect(gl.state.traceOf(ids.get('deploy-prod')!).toString()).toMatch(/^This job deploys something from the main branch\.$/m)
    const request = gl.recorder.all.find((q) => q.route === 'jobs-request')!
    expect(request.params).toMatchObject({ info: { executor: 'docker' } })
    expect(glrunLeftovers(r.pid)).toEqual([])
  }, 180_000)
})
