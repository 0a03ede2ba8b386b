import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DockerExecutor } from '../../src/executors/docker/docker-executor.js'
import { probeDns } from '../../src/probe/index.js'
import { payload } from '../conformance/executor-conformance.js'
import { TEST_DOCKER_HOST, glrunLeftovers, dockerSkip, requireEngine } from '../support/docker-env.js'
import { makeRepo } from '../support/git-repo.js'
import { removeTempDirs, tempDir } from './helpers.js'

/** Skipped, and saying why, without an engine outside CI (see test/support/docker-env.ts). */
const skip = dockerSkip(import.meta.url)

/**
 * "The runner host resolves X; the job container does not": this machine's own name is in its
 * /etc/hosts and nowhere else, so a job container (whose DNS is pointed at its own loopback, so
 * no query leaves the test) cannot resolve it unless extra_hosts maps it.
 */
const bin = new URL('../../bin/glrun.js', import.meta.url).pathname
const name = hostname()
const cleanups: (() => void)[] = []
beforeAll(async () => {
  requireEngine()
  const runner = await probeDns(name)
  if (!runner.ok) throw new Error(`this test needs the machine's name (${name}) in /etc/hosts: ${runner.summary}`)
})
afterAll(() => {
  cleanups.forEach((c) => c())
  removeTempDirs()
})

function job(image: string): ReturnType<typeof payload> {
  const j = payload(['true'])
  j.image = { name: image }
  return j
}

describe.skipIf(skip)('name resolution from a job container', () => {
  it('a name only the runner host resolves: the runner resolves it, the job container does not', async () => {
    const ex = new DockerExecutor({ host: TEST_DOCKER_HOST, dns: ['127.0.0.1'] })
    const runner = await probeDns(name)
    expect(runner).toMatchObject({ ok: true, from: 'runner', detail: { addresses: expect.arrayContaining(['127.0.0.1']) } })
    const inJob = await ex.resolveFromJob(name, job('glrun-test/tools:latest'))
    expect(inJob).toMatchObject({ kind: 'dns', target: name, from: 'job', ok: false, detail: { nameservers: ['127.0.0.1'], error: 'ENOTFOUND' } })
    expect(inJob.summary).toMatch(/cannot resolve/)
  }, 60_000)

  it('with extra_hosts the job container resolves it to the mapped address', async () => {
    const ex = new DockerExecutor({ host: TEST_DOCKER_HOST, dns: ['127.0.0.1'], extraHosts: [`${name}:10.99.0.7`] })
    const inJob = await ex.resolveFromJob(name, job('busybox:latest'))
    expect(inJob).toMatchObject({ ok: true, from: 'job', detail: { addresses: ['10.99.0.7'], via: 'hosts' } })
  }, 60_000)

  it('an image that is not on the engine: inconclusive, says why, no pull', async () => {
    const ex = new DockerExecutor({ host: TEST_DOCKER_HOST })
    const inJob = await ex.resolveFromJob(name, job('glrun-test/not-here:1'))
    expect(inJob).toMatchObject({ ok: false, detail: { inconclusive: true } })
    expect(inJob.summary).toMatch(/not on the engine/)
  })

  it('glrun run: the failed job\'s diagnosis carries both lookups', () => {
    const cfg = join(tempDir('cfg'), 'config.toml')
    writeFileSync(cfg, `[[runners]]\n  name = "d"\n  executor = "docker"\n  [runners.docker]\n    image = "glrun-test/tools:latest"\n    pull_policy = "if-not-present"\n    dns = ["127.0.0.1"]\n`)
    const r0 = makeRepo({ files: { '.gitlab-ci.yml': `fetch:\n  variables: { GIT_STRATEGY: none }\n  script:\n    - git ls-remote https://${name}:8443/g/lib.git\n` }, origin: 'https://gitlab.example.com/acme/app.git' })
    cleanups.push(r0.cleanup)
    const r = spawnSync(process.execPath, [bin, 'run', '--cwd', r0.dir, '--config', cfg], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', DOCKER_HOST: TEST_DOCKER_HOST }, timeout: 120_000 })
    expect(r.status).toBe(1)
    expect(r.stdout).toMatch(new RegExp(`fetch +│ .*Could not resolve host: ${name}`))
    expect(r.stdout).toMatch(new RegExp(`fetch +│ +ok +dns +from runner +the runner host resolves ${name} to 127\\.0\\.0\\.1`))
    expect(r.stdout).toMatch(new RegExp(`fetch +│ +FAIL +dns +from the job +a job container \\(glrun-test/tools:latest\\) cannot resolve ${name}`))
    const json = JSON.parse(readFileSync(join(r0.dir, '.glrun/jobs/fetch/diagnosis.json'), 'utf8'))
    expect(json.diagnoses[0].category).toBe('dns_resolution_failure')
    expect(glrunLeftovers(r.pid ?? 0)).toEqual([])
  }, 120_000)
})
