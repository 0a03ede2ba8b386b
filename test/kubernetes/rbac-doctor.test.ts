import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dockerSkip, requireEngine } from '../support/docker-env.js'
import { makeRepo } from '../support/git-repo.js'
import { glrunAsync } from '../support/glrun-async.js'
import { ALL } from '../support/k8s-double/rbac.js'
import { type K8sEnv, startK8sEnv } from '../support/k8s-env.js'

/**
 * RBAC as the field meets it: the runner's service account lacks `create` on pods/attach (what a
 * WebSocket attach needs since Kubernetes 1.35, on top of `get`; the attach strategy is
 * gitlab-runner's default), or on pods/exec with the legacy exec strategy. `glrun doctor` finds
 * it before any job runs; a job that runs anyway fails with a clear error naming the account, the
 * verb and the resource. Doctor also checks the namespace, the pods' service account and pull
 * secrets.
 */
const skip = dockerSkip(import.meta.url)
let env: K8sEnv
const cleanups: (() => void)[] = []
const BASE_RULES = [
  { apiGroups: [''], resources: ['pods'], verbs: ['create', 'get', 'delete', 'list', 'watch'] },
  { apiGroups: [''], resources: ['events'], verbs: ['list'] },
  { apiGroups: [''], resources: ['secrets'], verbs: ['create', 'delete', 'get'] },
]
/** Exec allowed, attach only `get`: the attach strategy cannot run a stage. */
const RUNNER_RULES = [...BASE_RULES, { apiGroups: [''], resources: ['pods/exec'], verbs: ['get', 'create'] }, { apiGroups: [''], resources: ['pods/attach'], verbs: ['get'] }]
/** Exec only `get`: the exec strategy cannot run a stage. */
const EXEC_RULES = [...BASE_RULES, { apiGroups: [''], resources: ['pods/exec'], verbs: ['get'] }]
const LEGACY = '[runners.feature_flags]\n  FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY = true\n'

beforeAll(async () => {
  requireEngine()
  env = await startK8sEnv({ double: { websocketNeedsCreate: true, accounts: { 'admin-token': { serviceAccount: 'kube-system:admin', rules: ALL }, 'runner-token': { serviceAccount: 'ci:runner', rules: RUNNER_RULES }, 'exec-token': { serviceAccount: 'ci:exec-runner', rules: EXEC_RULES } } } })
}, 60_000)

afterAll(async () => {
  cleanups.forEach((c) => c())
  await env?.close()
}, 60_000)

function config(dir: string, token: string, extra = '', flags = ''): string {
  const raw = env.raw({}, token)
  const path = join(dir, 'config.toml')
  writeFileSync(path, `[[runners]]\n  name = "k8s"\n  executor = "kubernetes"\n${flags}  [runners.kubernetes]\n    host = "${raw['host']}"\n    ca_file = "${raw['ca_file']}"\n    bearer_token = "${token}"\n    namespace = "${raw['namespace']}"\n    image = "busybox:latest"\n    helper_image = "glrun-test/tools:latest"\n    pull_policy = ["if-not-present"]\n    poll_interval = 1\n${extra}`)
  return path
}

function repo(): string {
  const r = makeRepo({ files: { '.gitlab-ci.yml': 'build:\n  script: [echo hi]\n' } })
  cleanups.push(r.cleanup)
  return r.dir
}

describe.skipIf(skip)('kubernetes RBAC and glrun doctor', () => {
  it('namespace_per_job: doctor says the runner may not create or delete namespaces (a Role cannot give it)', async () => {
    const dir = repo()
    const r = await glrunAsync(['doctor', '--config', config(dir, 'runner-token', '    namespace_per_job = true\n'), '--cwd', dir])
    expect(r.out).toMatch(/namespace_per_job is on but the runner may not create namespaces/)
    expect(r.out).toMatch(/namespace_per_job is on but the runner may not delete namespaces/)
    expect(r.out).toMatch(/resources: \["namespaces"\]/)
  }, 60_000)

  it('doctor finds the missing pods/attach create before a job runs, as a Role rule', async () => {
    const dir = repo()
    const r = await glrunAsync(['doctor', '--config', config(dir, 'runner-token'), '--cwd', dir])
    expect(r.out).toMatch(/the runner may not: create pods\/attach \(to run the job's scripts in the pod \(attach strategy\)\)/)
    expect(r.out).toMatch(/resources: \["pods\/attach"\]\n\s*verbs: \["create", "get"\]/)
    expect(r.out).not.toMatch(/pods\/exec/)
    expect(r.code).not.toBe(0)
  }, 60_000)

  it('a job run anyway fails with the apiserver\'s words, the service account, verb and resource, and leaves no pod', async () => {
    const dir = repo()
    const r = await glrunAsync(['run', '--cwd', dir, '--config', config(dir, 'runner-token')])
    expect(r.code).toBe(1)
    expect(r.out).toMatch(/Using attach strategy to execute scripts\.\.\./)
    expect(r.out).toMatch(/User "system:serviceaccount:ci:runner" cannot create resource "pods\/attach" in API group "" in the namespace "ci"/)
    expect(r.out).toMatch(/the service account runner \(namespace ci\) may not create pods\/attach in the namespace ci/)
    expect(await env.settled()).toEqual({ pods: 0, containers: 0 })
  }, 90_000)

  it('the legacy exec strategy (FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY): doctor and the job name pods/exec instead', async () => {
    const dir = repo()
    const d = await glrunAsync(['doctor', '--config', config(dir, 'exec-token', '', LEGACY), '--cwd', dir])
    expect(d.out).toMatch(/the runner may not: create pods\/exec \(to run the job's scripts in the pod\)/)
    expect(d.out).not.toMatch(/pods\/attach/)
    const r = await glrunAsync(['run', '--cwd', dir, '--config', config(dir, 'exec-token', '', LEGACY)])
    expect(r.code).toBe(1)
    expect(r.out).not.toMatch(/Using attach strategy/)
    expect(r.out).toMatch(/User "system:serviceaccount:ci:exec-runner" cannot create resource "pods\/exec" in API group "" in the namespace "ci"/)
    expect(await env.settled()).toEqual({ pods: 0, containers: 0 })
  }, 90_000)

  it('with every permission doctor says so, and names a missing namespace, service account and pull secret', async () => {
    const dir = repo()
    const ok = await glrunAsync(['doctor', '--config', config(dir, 'admin-token'), '--cwd', dir])
    expect(ok.out).toMatch(/the runner may create, watch, attach to, exec into and delete job pods/)
    const bad = await glrunAsync(['doctor', '--config', config(dir, 'admin-token', '    service_account = "ci-jobs"\n    image_pull_secrets = ["regcred"]\n'), '--cwd', dir])
    expect(bad.out).toMatch(/service_account ci-jobs does not exist in ci/)
    expect(bad.out).toMatch(/image_pull_secrets names regcred, which does not exist in ci/)
    const raw = env.raw()
    const nsPath = join(dir, 'ns.toml')
    writeFileSync(nsPath, `[[runners]]\n  name = "k8s"\n  executor = "kubernetes"\n  [runners.kubernetes]\n    host = "${raw['host']}"\n    ca_file = "${raw['ca_file']}"\n    bearer_token = "admin-token"\n    namespace = "not-there"\n`)
    const ns = await glrunAsync(['doctor', '--config', nsPath, '--cwd', dir])
    expect(ns.out).toMatch(/the namespace not-there does not exist/)
  }, 60_000)
})
