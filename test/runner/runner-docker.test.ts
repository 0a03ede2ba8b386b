import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { zipToTar } from '../../src/job/artifacts/zip.js'
import { readTar } from '../../src/job/files/tar-entries.js'
import type { JobPayload } from '../../src/payload/types.js'
import { compileYaml } from '../support/compile-yaml.js'
import { TEST_DOCKER_HOST, docker, dockerSkip, glrunLeftovers, requireEngine } from '../support/docker-env.js'
import { makeBareRepo, makeCertificates, startGitServerContainer } from '../support/git-https.js'
import { makeRepo } from '../support/git-repo.js'
import { glrunAsync as glrun } from '../support/glrun-async.js'
import { type GitLabDouble, startGitLabDouble } from '../support/gitlab-double/server.js'

/** Skipped, and saying why, without an engine outside CI (see test/support/docker-env.ts). */
const skip = dockerSkip(import.meta.url)

/**
 * Runner mode on the Docker executor: the four jobs of s3-gitlab-ci.yml taken from the GitLab
 * double by `glrun runner` with executor = "docker" on the test engine, each cloning its sources
 * (the pipeline's own repository) in the helper container from the payload's repo_url: a git
 * server (http-backend behind HTTPS, a throw-away CA) in a container on a network the test
 * creates, named by extra_hosts, trusted through tls-ca-file.
 */
const scenarios = new URL('../fixtures/scenarios/', import.meta.url).pathname
const root = mkdtempSync(join(tmpdir(), 'glrun-runner-docker-'))
const HOST = 'gitlab.runner-docker.test'
const net = `glrun-test-runner-docker-${process.pid}`
let gl: GitLabDouble
let ip = ''
let certs: { ca: string; cert: string; key: string }
beforeAll(async () => {
  requireEngine()
  gl = await startGitLabDouble({ longPollMs: 200, traceUpdateInterval: 1, finalisingPuts: 1, finalisingInterval: 1 })
  certs = makeCertificates(join(root, 'certs'), [HOST])
  docker('network', 'create', '--label', 'glrun-test=1', net)
  ip = await startGitServerContainer(`${net}-git`, net, root)
}, 60_000)
afterAll(async () => {
  await gl?.close()
  try { docker('rm', '-f', `${net}-git`) } catch { /* already gone */ }
  try { docker('network', 'rm', net) } catch { /* already gone */ }
  rmSync(root, { recursive: true, force: true })
})

/** The step_script section's bytes, without its start and end markers (their timestamps differ). */
function stepScript(trace: string): string {
  return /section_start:\d+:step_script\r\x1b\[0K([\s\S]*?)section_end:\d+:step_script/.exec(trace)?.[1] ?? ''
}

describe.skipIf(skip)('glrun runner, executor = "docker"', () => {
  it('s3-gitlab-ci.yml: four jobs from GitLab run on busybox:latest, traces in sections, final states success, nothing left on the engine', async () => {
    const yaml = readFileSync(join(scenarios, 's3-gitlab-ci.yml'), 'utf8').replace('sleep 20', 'sleep 1')
    const sha = makeBareRepo(join(root, 'git'), 's3', { '.gitlab-ci.yml': yaml, 'README.md': 'sources of the s3 pipeline\n' })
    const ids = new Map<string, number>()
    let id = 990_000 + Math.floor(Math.random() * 9_000)
    for (const j of (await compileYaml(yaml, { variables: { GITLAB_USER_LOGIN: 'ada' } })).jobs) {
      const payload: JobPayload = { ...j.payload, id: id++ }
      gl.state.enqueue(payload, { gitInfo: { repo_url: `https://${HOST}/root/s3.git`, sha } })
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
  tls-ca-file = "${certs.ca}"
  [runners.docker]
    host = "${TEST_DOCKER_HOST}"
    image = "alpine:latest"
    helper_image = "glrun-test/tools:latest"
    network_mode = "${net}"
    extra_hosts = ["${HOST}:${ip}"]
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
      // The clone ran in the helper container, from the payload's repo_url, at the payload's sha.
      expect(trace, name).toMatch(new RegExp(`Fetching changes with git depth set to \\d+|Created fresh repository`))
      expect(trace, name).toMatch(new RegExp(`Checking out ${sha.slice(0, 8)} as`))
      expect(trace, name).toMatch(/Job succeeded/)
    }
    expect(gl.state.traceOf(ids.get('build-job')!).toString()).toMatch(/^Hello, ada!$/m)
    expect(gl.state.traceOf(ids.get('deploy-prod')!).toString()).toMatch(/^This job deploys something from the main branch\.$/m)
    // The same jobs run locally on the Docker executor: GitLab's step_script is the local one, byte for byte.
    const local = makeRepo({ files: { '.gitlab-ci.yml': yaml } })
    const lr = await glrun(['run', '--cwd', local.dir, '--executor', 'docker', '-v', 'GITLAB_USER_LOGIN=ada'], { env: { DOCKER_HOST: TEST_DOCKER_HOST }, timeoutMs: 150_000 })
    expect(lr.code, lr.out + lr.err).toBe(0)
    for (const [name, jobId] of ids) {
      const step = stepScript(gl.state.traceOf(jobId).toString('utf8'))
      expect(step.length, name).toBeGreaterThan(0)
      expect(step, name).toBe(stepScript(readFileSync(join(local.dir, '.glrun', 'jobs', name, 'trace.log'), 'utf8')))
    }
    local.cleanup()
    const request = gl.recorder.all.find((q) => q.route === 'jobs-request')!
    expect(request.params).toMatchObject({ info: { executor: 'docker' } })
    expect(glrunLeftovers(r.pid)).toEqual([])
  }, 180_000)

  it('untracked: the helper container lists what the job\'s clone tracks; the archive holds the rest', async () => {
    const yaml = 'make:\n  image: busybox:latest\n  script: [echo new > new.txt, echo more >> README.md]\n  artifacts: { untracked: true }\n'
    const sha = makeBareRepo(join(root, 'git'), 'untracked', { '.gitlab-ci.yml': yaml, 'README.md': 'tracked\n' })
    const [j] = (await compileYaml(yaml)).jobs
    const payload: JobPayload = { ...j!.payload, id: 980_000 + Math.floor(Math.random() * 9_000) }
    gl.state.enqueue(payload, { gitInfo: { repo_url: `https://${HOST}/root/untracked.git`, sha } })
    const config = join(root, 'untracked.toml')
    writeFileSync(config, `concurrent = 1\ncheck_interval = 0\n[[runners]]\n  name = "docker-untracked"\n  url = "${gl.url}"\n  token = "${gl.state.addRunner().token}"\n  executor = "docker"\n  tls-ca-file = "${certs.ca}"\n  [runners.docker]\n    host = "${TEST_DOCKER_HOST}"\n    helper_image = "glrun-test/tools:latest"\n    network_mode = "${net}"\n    extra_hosts = ["${HOST}:${ip}"]\n    pull_policy = ["if-not-present"]\n`)
    const r = await glrun(['runner', '--config', config, '--max-builds', '1', '--work-dir', join(root, 'work-untracked')], { timeoutMs: 120_000 })
    expect(r.code, r.err).toBe(0)
    const job = gl.state.jobs.get(payload.id)!
    expect(job.final?.state, gl.state.traceOf(payload.id).toString('utf8')).toBe('success')
    const names: string[] = []
    await readTar(await zipToTar(job.artifacts.find((a) => a.type === 'archive')!.path), async (e, content) => {
      if (e.kind === 'file') names.push(e.name)
      content.resume()
    })
    expect(names).toEqual(['new.txt'])
    expect(glrunLeftovers(r.pid)).toEqual([])
  }, 120_000)
})

