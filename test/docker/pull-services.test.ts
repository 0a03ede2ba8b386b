import { type ChildProcess, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DockerExecutor } from '../../src/executors/docker/docker-executor.js'
import { payload } from '../conformance/executor-conformance.js'
import { TEST_DOCKER_HOST, docker, glrunLeftovers, dockerSkip, requireEngine } from '../support/docker-env.js'
import { removeTempDirs, runDockerJob, tempDir } from './helpers.js'

/** Skipped, and saying why, without an engine outside CI (see test/support/docker-env.ts). */
const skip = dockerSkip(import.meta.url)

/** S3 (image pulls) against a registry the test runs (Debian's docker-registry), and services. */
let registry: ChildProcess | undefined
let port = 0

beforeAll(async () => {
  requireEngine()
  port = await freePort()
  const dir = tempDir('registry')
  writeFileSync(join(dir, 'config.yml'), `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: 127.0.0.1:${port}\n`)
  registry = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' })
  for (let i = 0; i < 100; i++) {
    if (await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.ok, () => false)) break
    await new Promise((r) => setTimeout(r, 100))
  }
  // Push an image to it and forget the local copy, so only a pull can bring it back.
  docker('tag', 'busybox:latest', `127.0.0.1:${port}/glrun/pulled:1`)
  docker('push', `127.0.0.1:${port}/glrun/pulled:1`)
  docker('rmi', `127.0.0.1:${port}/glrun/pulled:1`)
}, 60_000)

afterAll(() => {
  registry?.kill()
  // The pulled tag is this run's only image; the engine keeps busybox for the next test.
  try {
    docker('rmi', `127.0.0.1:${port}/glrun/pulled:1`)
  } catch {
    // not pulled (the test failed before): nothing to remove
  }
  removeTempDirs()
})

describe.skipIf(skip)('S3: image pulls', () => {
  it('pull_policy always pulls an image that is not present from the local registry', async () => {
    const job = payload(['echo pulled and ran'])
    job.image = { name: `127.0.0.1:${port}/glrun/pulled:1` }
    const { outcome, trace } = await runDockerJob(job, { pullPolicy: ['always'] })
    expect(trace).toContain(`Pulling docker image 127.0.0.1:${port}/glrun/pulled:1 ...`)
    expect(trace).toMatch(/pulled and ran/)
    expect(outcome.status).toBe('success')
  }, 60_000)

  it('a registry with no route (a loopback port with nothing listening) fails fast with image_pull_failure', async () => {
    const dead = await freePort()
    const job = payload(['true'])
    job.image = { name: `localhost:${dead}/glrun/missing:1` }
    const started = Date.now()
    const { outcome, trace } = await runDockerJob(job, { pullPolicy: ['always'] })
    expect(Date.now() - started).toBeLessThan(15_000)
    expect(outcome).toMatchObject({ status: 'failed', reason: 'image_pull_failure' })
    expect(trace).toMatch(/WARNING: Failed to pull image with policy "always": .*connection refused/)
    expect(trace).toMatch(/Nothing listens at the registry's address/)
    expect(trace).toMatch(/ERROR: Job failed: failed to pull image "localhost:\d+\/glrun\/missing:1" with specified policies \[always\]/)
  }, 60_000)

  it('an image the registry does not have is told apart from no route', async () => {
    const job = payload(['true'])
    job.image = { name: `127.0.0.1:${port}/glrun/nothing-here:1` }
    const { outcome, trace } = await runDockerJob(job, { pullPolicy: ['always'] })
    expect(outcome).toMatchObject({ status: 'failed', reason: 'image_pull_failure' })
    expect(trace).toMatch(/has no image|not found|manifest unknown/)
  }, 60_000)

  it('if-not-present with the image present runs without pulling', async () => {
    const job = payload(['echo local'])
    job.image = { name: 'busybox:latest' }
    const { outcome, trace } = await runDockerJob(job, { pullPolicy: ['if-not-present'] })
    expect(trace).toContain('Using locally found image version due to "if-not-present" pull policy')
    expect(trace).not.toContain('Pulling docker image')
    expect(outcome.status).toBe('success')
  }, 60_000)

  it('a job pull_policy that the runner does not allow is a configuration error', async () => {
    const job = payload(['true'])
    job.image = { name: 'busybox:latest', pull_policy: ['always'] }
    const { outcome, trace } = await runDockerJob(job, { pullPolicy: ['if-not-present'], allowedPullPolicies: ['if-not-present'] })
    expect(outcome).toMatchObject({ status: 'failed', reason: 'runner_configuration_error' })
    expect(trace).toContain('pull_policy ([always]) defined in GitLab pipeline config is not one of the allowed_pull_policies ([if-not-present])')
  }, 60_000)
})

describe.skipIf(skip)('services', () => {
  it('a service is reachable from the job by its alias, after glrun waited for its port', async () => {
    const job = payload(['wget -qO- http://web:8080/hello'])
    job.services = [{
      name: 'glrun-test/tools:latest', alias: 'web', ports: [{ number: 8080 }],
      command: ['node', '-e', "setTimeout(() => require('http').createServer((q, s) => s.end('pong ' + q.url)).listen(8080), 500)"],
    }]
    const { outcome, trace } = await runDockerJob(job, {})
    expect(trace).toContain('Starting service glrun-test/tools:latest ...')
    expect(trace).toMatch(/Waiting for services to be up and running/)
    expect(trace).toMatch(/pong \/hello/)
    expect(outcome.status).toBe('success')
  }, 60_000)

  it('a service that never listens gives gitlab-runner\'s warning with its log, and the job goes on', async () => {
    const job = payload(['echo job ran'])
    job.services = [{ name: 'busybox:latest', alias: 'quiet', ports: [{ number: 9999 }], command: ['sh', '-c', 'echo service says hi; sleep 30'] }]
    const { outcome, trace } = await runDockerJob(job, { waitForServicesTimeout: 2 })
    expect(trace).toMatch(/\*\*\* WARNING:.* Service busybox:latest probably didn't start properly\./)
    expect(trace).toMatch(/service says hi/)
    expect(trace).toMatch(/job ran/)
    expect(outcome.status).toBe('success')
  }, 60_000)

  it('leaves no container, network or volume behind', () => {
    expect(glrunLeftovers()).toEqual([])
  })

  it('leftovers of a killed glrun are found by label and removed by the next run', async () => {
    docker('network', 'create', '--label', 'com.glrun.managed=true', '--label', 'com.glrun.pid=999999999', '--label', `com.glrun.host=${(await import('node:os')).hostname()}`, `glrun-leftover-${process.pid}`)
    docker('create', '--label', 'com.glrun.managed=true', '--label', 'com.glrun.pid=999999999', '--label', `com.glrun.host=${(await import('node:os')).hostname()}`, 'busybox:latest', 'true')
    expect(glrunLeftovers(999999999).length).toBe(2)
    await new DockerExecutor({ host: TEST_DOCKER_HOST }).engine()
    expect(glrunLeftovers(999999999)).toEqual([])
  }, 60_000)
})

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port
      s.close(() => resolve(p))
    })
  })
}
