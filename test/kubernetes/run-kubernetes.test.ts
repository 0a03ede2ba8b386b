import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dockerSkip, requireEngine } from '../support/docker-env.js'
import { makeRepo } from '../support/git-repo.js'
import { glrunAsync } from '../support/glrun-async.js'
import { type K8sEnv, startK8sEnv } from '../support/k8s-env.js'

/**
 * `glrun run` with a config.toml whose runner is `executor = "kubernetes"`, through the real
 * binary: the cluster is the API double (HTTPS, tokens, RBAC, the real schema) with its pods on
 * the test Docker engine.
 */
const skip = dockerSkip(import.meta.url)
const bin = new URL('../../bin/glrun.js', import.meta.url).pathname
const scenarios = new URL('../fixtures/scenarios/', import.meta.url).pathname
let env: K8sEnv
const cleanups: (() => void)[] = []

beforeAll(async () => {
  requireEngine()
  env = await startK8sEnv()
}, 60_000)

afterAll(async () => {
  cleanups.forEach((c) => c())
  await env?.close()
}, 60_000)

function toml(v: unknown): string {
  return Array.isArray(v) ? `[${v.map(toml).join(', ')}]` : typeof v === 'string' ? JSON.stringify(v) : String(v)
}

/** A config.toml with one kubernetes runner pointed at the double. */
function config(dir: string, extra: Record<string, unknown> = {}, token?: string): string {
  const raw = env.raw(extra, token)
  const lines = Object.entries(raw).filter(([, v]) => typeof v !== 'object' || Array.isArray(v)).map(([k, v]) => `    ${k} = ${toml(v)}`)
  const path = join(dir, 'config.toml')
  writeFileSync(path, `concurrent = 4\n[[runners]]\n  name = "k8s-test"\n  executor = "kubernetes"\n  [runners.kubernetes]\n${lines.join('\n')}\n`)
  return path
}

describe.skipIf(skip)('glrun run on the kubernetes executor', () => {
  it('S5: s3-gitlab-ci.yml runs green, test jobs side by side; nothing left in the cluster or on the engine', async () => {
    const yml = readFileSync(join(scenarios, 's3-gitlab-ci.yml'), 'utf8').replace('sleep 20', 'sleep 3')
    const repo = makeRepo({ files: { '.gitlab-ci.yml': yml }, origin: 'https://gitlab.example.com/acme/app.git' })
    cleanups.push(repo.cleanup)
    const r = await glrunAsync(['run', '--cwd', repo.dir, '--concurrency', '2', '--config', config(repo.dir)])
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/^build-job +│ Using Kubernetes executor with image busybox:latest \.\.\.$/m)
    expect(r.out).toMatch(/^build-job +│ Hello, ada!$/m)
    expect(r.out).toMatch(/^deploy-prod +│ This job deploys something from the main branch\.$/m)
    const lines = r.out.split('\n')
    const job1Done = lines.findIndex((l) => /^test-job1 +│ Job succeeded/.test(l))
    const job2Done = lines.findIndex((l) => /^test-job2 +│ Job succeeded/.test(l))
    const job2Started = lines.findIndex((l) => /^test-job2 +│ Running with glrun/.test(l))
    expect(job2Started).toBeLessThan(job1Done)
    expect(job1Done).toBeLessThan(job2Done)
    expect(r.out).toMatch(/pipeline passed/)
    // Every pod went through the API with the real schema, and none is left.
    expect(env.double.requests.filter((q) => q.method === 'POST' && /\/pods$/.test(q.path)).length).toBe(4)
    // gitlab-runner's default attach strategy: each script stage through pods/attach.
    expect(r.out).toMatch(/^build-job +│ Using attach strategy to execute scripts\.\.\.$/m)
    expect(env.double.requests.filter((q) => /\/pods\/[^/]+\/attach$/.test(q.path)).length).toBeGreaterThanOrEqual(4)
    expect(await env.settled()).toEqual({ pods: 0, containers: 0 })
    expect(env.double.objects('secrets', env.namespace)).toEqual([])
  }, 180_000)

  it('S3: an image from a registry nobody answers for fails within one poll interval, in gitlab-runner\'s words, and the diagnosis names the registry with the events', async () => {
    const repo = makeRepo({ files: { '.gitlab-ci.yml': 'build:\n  image: 127.0.0.1:9/team/app:1\n  script: [echo never]\n' } })
    cleanups.push(repo.cleanup)
    const started = Date.now()
    const r = await glrunAsync(['run', '--cwd', repo.dir, '--config', config(repo.dir, { poll_interval: 3, poll_timeout: 180 })])
    const took = Date.now() - started
    expect(r.code).toBe(1)
    expect(r.out).toMatch(/ERROR: Job failed: prepare environment: waiting for pod running: pulling image "127\.0\.0\.1:9\/team\/app:1" for container build: image pull failed: (?:Back-off pulling image|.*connection refused)/)
    expect(r.out).toMatch(/WARNING: Event retrieved from the cluster: Failed to pull image "127\.0\.0\.1:9\/team\/app:1"/)
    // Not poll_timeout (180 s): the first look that sees ErrImagePull ends the wait.
    expect(took).toBeLessThan(20_000)
    expect(r.out).toMatch(/The registry at 127\.0\.0\.1:9 refused the pull of 127\.0\.0\.1:9\/team\/app:1 +\[egress_blocked_firewall/)
    expect(r.out).toMatch(/Event retrieved from the cluster: Failed to pull image/)
    expect(await env.settled()).toEqual({ pods: 0, containers: 0 })
  }, 120_000)

  it('timeouts: RUNNER_SCRIPT_TIMEOUT kills the script and after_script runs; past the job\'s timeout the pod is deleted too', async () => {
    const repo = makeRepo({ files: { '.gitlab-ci.yml': [
      'scripted:', '  variables: { RUNNER_SCRIPT_TIMEOUT: 4s }', '  script: [echo started, sleep 120]', '  after_script: [\'echo "after_script saw $CI_JOB_STATUS"\']',
      'whole:', '  timeout: 6s', '  script: [sleep 121]', '  after_script: [echo never-after]',
    ].join('\n') } })
    cleanups.push(repo.cleanup)
    const r = await glrunAsync(['run', '--cwd', repo.dir, '--concurrency', '2', '--config', config(repo.dir)])
    expect(r.code).toBe(1)
    expect(r.out).toMatch(/^scripted +│ after_script saw failed$/m)
    expect(r.out).toMatch(/^scripted +│ ERROR: Job failed: execution took longer than 4s seconds$/m)
    expect(r.out).toMatch(/^whole +│ ERROR: Job failed: execution took longer than 6s seconds$/m)
    expect(r.out).not.toMatch(/never-after/)
    expect(await env.settled()).toEqual({ pods: 0, containers: 0 })
  }, 120_000)

  it('Ctrl-C: the running job is canceled, after_script runs, glrun exits 130 and deletes the pod', async () => {
    const repo = makeRepo({ files: { '.gitlab-ci.yml': 'long:\n  script: [echo started, sleep 300]\n  after_script: [echo "after_script saw $CI_JOB_STATUS"]\n' } })
    cleanups.push(repo.cleanup)
    const child = spawn(process.execPath, [bin, 'run', '--cwd', repo.dir, '--config', config(repo.dir)], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let sent = false
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      // Once: a second Ctrl-C means "kill now" (the next run sweeps what that leaves).
      if (!sent && /│ started$/m.test(out)) {
        sent = true
        child.kill('SIGINT')
      }
    })
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(code).toBe(130)
    expect(out).toMatch(/after_script saw canceled/)
    expect(await env.settled()).toEqual({ pods: 0, containers: 0 })
  }, 120_000)
})
