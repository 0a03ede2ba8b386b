import { type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { docker, glrunLeftovers, dockerSkip, requireEngine } from '../support/docker-env.js'
import { makeBareRepo, makeCertificates, startGitServerContainer, startHostGitServer } from '../support/git-https.js'
import { cloneJob, removeTempDirs, runDockerJob, tempDir } from './helpers.js'

/** Skipped, and saying why, without an engine outside CI (see test/support/docker-env.ts). */
const skip = dockerSkip(import.meta.url)

/**
 * S1 and S4 of the field scenarios, for real: a GitLab stand-in (git http-backend behind HTTPS
 * with a self-signed CA) in a container of its own, on a network the test creates, under a name
 * only extra_hosts maps. The clone runs in the job's helper container with the job's network.
 */
const HOST = 'gitlab.mylab.test'
const net = `glrun-test-s1-${process.pid}`
let ip = ''
let sha = ''
let ca = ''
let root = ''
let certs: { ca: string; cert: string; key: string }
let hostServer: ChildProcess | undefined
let hostPort = 0

beforeAll(async () => {
  requireEngine()
  root = tempDir('gitsrv')
  certs = makeCertificates(join(root, 'certs'), [HOST, 'localhost', '127.0.0.1'])
  ca = readFileSync(certs.ca, 'utf8')
  sha = makeBareRepo(join(root, 'git'), 'mycicd', { 'README.md': 'hello from the test GitLab\n' })
  docker('network', 'create', '--label', 'glrun-test=1', net)
  ip = await startGitServerContainer(`${net}-git`, net, root)
  hostPort = await freePort()
  hostServer = await startHostGitServer('127.0.0.1', hostPort, join(root, 'git'), certs)
}, 60_000)

afterAll(() => {
  hostServer?.kill()
  try { docker('rm', '-f', `${net}-git`) } catch { /* already gone */ }
  try { docker('network', 'rm', net) } catch { /* already gone */ }
  removeTempDirs()
})

const url = `https://${HOST}/root/mycicd.git`

describe.skipIf(skip)('S1: the job environment must resolve the GitLab host', () => {
  it('without extra_hosts the clone fails with git\'s "Could not resolve host"', async () => {
    const { outcome, trace } = await runDockerJob(cloneJob(url, sha, ['cat README.md']), { networkMode: net }, { caPem: ca })
    expect(outcome).toMatchObject({ status: 'failed', reason: 'script_failure' })
    expect(trace).toMatch(new RegExp(`fatal: unable to access '${url}/': Could not resolve host: ${HOST.replace(/\./g, '\\.')}`))
    expect(trace).toMatch(/ERROR: Job failed: exit code 128/)
  }, 60_000)

  it('with extra_hosts in config.toml the clone succeeds', async () => {
    const { outcome, trace } = await runDockerJob(cloneJob(url, sha, ['cat README.md']), { networkMode: net, extraHosts: [`${HOST}:${ip}`] }, { caPem: ca })
    expect(trace).toMatch(/Created fresh repository\./)
    expect(trace).toMatch(new RegExp(`Checking out ${sha.slice(0, 8)}`))
    expect(trace).toMatch(/hello from the test GitLab/)
    expect(outcome.status).toBe('success')
  }, 60_000)
})

describe.skipIf(skip)('S4: a self-signed GitLab', () => {
  it('without tls-ca-file the clone fails with a certificate error', async () => {
    const { outcome, trace } = await runDockerJob(cloneJob(url, sha, ['true']), { networkMode: net, extraHosts: [`${HOST}:${ip}`] })
    expect(outcome.status).toBe('failed')
    expect(trace).toMatch(/server certificate verification failed|SSL certificate problem/)
  }, 60_000)

  it('with tls-ca-file the CA reaches the job: CI_SERVER_TLS_CA_FILE and git trust it', async () => {
    const { outcome, trace } = await runDockerJob(cloneJob(url, sha, ['head -1 "$CI_SERVER_TLS_CA_FILE"']), { networkMode: net, extraHosts: [`${HOST}:${ip}`] }, { caPem: ca })
    expect(trace).toMatch(/-----BEGIN CERTIFICATE-----/)
    expect(outcome.status).toBe('success')
  }, 60_000)

  it('the operators\' hook-script fix works: pre_get_sources_script adds the host to /etc/hosts', async () => {
    const { outcome } = await runDockerJob(cloneJob(url, sha, ['true']), { networkMode: net }, { caPem: ca, preGetSourcesScript: `echo "${ip} ${HOST}" >> /etc/hosts` })
    expect(outcome.status).toBe('success')
  }, 60_000)

  it('with network_mode = "host" the job reaches a server bound to loopback', async () => {
    const local = `https://localhost:${hostPort}/root/mycicd.git`
    const { outcome, trace } = await runDockerJob(cloneJob(local, sha, ['cat README.md']), { networkMode: 'host' }, { caPem: ca })
    expect(trace).toMatch(/hello from the test GitLab/)
    expect(outcome.status).toBe('success')
    // Without host networking, loopback is the container's own: nothing listens there.
    const isolated = await runDockerJob(cloneJob(local, sha, ['true']), {}, { caPem: ca })
    expect(isolated.trace).toMatch(/Failed to connect to localhost port \d+|Couldn't connect to server/)
  }, 60_000)

  it('leaves no container, network or volume behind', () => {
    expect(glrunLeftovers()).toEqual([])
  })
})

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}
