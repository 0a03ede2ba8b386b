import { spawnSync } from 'node:child_process'
import { hostname } from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { coreApi, kubeConfigFor } from '../../src/executors/kubernetes/client.js'
import { KubernetesExecutor } from '../../src/executors/kubernetes/kubernetes-executor.js'
import { kubernetesOptions } from '../../src/executors/kubernetes/options.js'
import { LABEL_HOST, LABEL_MANAGED, LABEL_PID, hostLabel } from '../../src/executors/kubernetes/pod-spec.js'
import { localStores } from '../../src/job/artifacts/stores.js'
import { runJob } from '../../src/job/run-job.js'
import type { JobPayload } from '../../src/payload/types.js'
import { Masker } from '../../src/trace/masker.js'
import { MemorySink } from '../../src/trace/sinks/memory-sink.js'
import { TraceWriter } from '../../src/trace/trace-writer.js'
import { diagnose } from '../../src/diagnose/engine.js'
import { parseTrace } from '../../src/diagnose/trace.js'
import { payload } from '../conformance/executor-conformance.js'
import { removeTempDirs, tempDir } from '../docker/helpers.js'
import { docker, dockerSkip, requireEngine } from '../support/docker-env.js'
import { type K8sEnv, startK8sEnv } from '../support/k8s-env.js'

/** Services, volumes and the sweep of a killed glrun's pods, through the API double on the engine. */
const skip = dockerSkip(import.meta.url)
let env: K8sEnv

beforeAll(async () => {
  requireEngine()
  env = await startK8sEnv()
}, 60_000)

afterAll(async () => {
  await env?.close()
  removeTempDirs()
}, 60_000)

async function run(job: JobPayload, extra: Record<string, unknown> = {}, featureFlags?: Record<string, boolean>): Promise<{ status: string; trace: string }> {
  const sink = new MemorySink()
  const trace = new TraceWriter({ masker: new Masker([]), sinks: [sink] })
  const o = await runJob({ job, executor: env.executor(extra, undefined, featureFlags), trace, buildsDir: tempDir('builds'), ...localStores(tempDir('store')), signal: new AbortController().signal })
  await trace.close()
  return { status: o.status, trace: sink.text() }
}

describe.skipIf(skip)('kubernetes executor: what the pod carries', () => {
  it('a service is reached by its alias on localhost (the pod\'s host aliases), config services too', async () => {
    const job = payload(['wget -qO- http://web:8080/index.html', 'wget -qO- http://busybox:8081/index.html'])
    job.services = [{ name: 'busybox:latest', alias: 'web', command: ['sh', '-c', 'mkdir -p /w && echo from-the-service > /w/index.html && exec httpd -f -p 8080 -h /w'] }]
    job.variables.push({ key: 'SERVICE_MARK', value: 'x', public: true })
    // busybox httpd as a container's main process ignores SIGTERM (PID 1 without a handler): a short grace.
    const r = await run(job, { cleanup_grace_period_seconds: 1, services: [{ name: 'busybox:latest', command: ['sh', '-c', 'mkdir -p /w && echo from-the-config-service > /w/index.html && exec httpd -f -p 8081 -h /w'] }] })
    expect(r.trace).toMatch(/^from-the-service$/m)
    expect(r.trace).toMatch(/^from-the-config-service$/m)
    expect(r.status, r.trace).toBe('success')
    const pod = env.double.requests.filter((q) => q.method === 'POST' && /\/pods$/.test(q.path)).at(-1)!.body as { spec: { containers: { name: string }[]; hostAliases: { ip: string; hostnames: string[] }[] } }
    expect(pod.spec.containers.map((c) => c.name)).toEqual(['build', 'helper', 'svc-0', 'web'])
    expect(pod.spec.hostAliases[0]).toEqual({ ip: '127.0.0.1', hostnames: ['busybox', 'web'] })
    expect(await env.settled()).toEqual({ pods: 0, containers: 0 })
  }, 120_000)

  it('volumes: a config map, a secret and an emptyDir are mounted where config.toml says', async () => {
    const api = coreApi(kubeConfigFor(env.options()).kc)
    await api.createNamespacedConfigMap({ namespace: env.namespace, body: { metadata: { name: 'build-settings' }, data: { 'settings.json': '{"level":3}' } } })
    await api.createNamespacedSecret({ namespace: env.namespace, body: { metadata: { name: 'extra-ca' }, data: { 'ca.crt': Buffer.from('-----BEGIN CERTIFICATE-----\n').toString('base64') } } })
    const r = await run(payload(['cat /etc/build/settings.json', 'echo', 'head -1 /etc/ssl/extra/ca.crt', 'echo scratch > /scratch/x && cat /scratch/x']), {
      volumes: {
        config_map: [{ name: 'build-settings', mount_path: '/etc/build', read_only: true }],
        secret: [{ name: 'extra-ca', mount_path: '/etc/ssl/extra', read_only: true }],
        empty_dir: [{ name: 'scratch', mount_path: '/scratch' }],
      },
    })
    expect(r.status, r.trace).toBe('success')
    expect(r.trace).toMatch(/\{"level":3\}/)
    expect(r.trace).toMatch(/^-----BEGIN CERTIFICATE-----$/m)
    expect(r.trace).toMatch(/^scratch$/m)
  }, 120_000)

  it('a pod left by a glrun that was killed is deleted before the next job (in any namespace, as overwrites put them); one of a live glrun is not', async () => {
    const api = coreApi(kubeConfigFor(env.options()).kc)
    const dead = spawnSync('true').pid! // a pid that no longer runs
    const pod = (name: string, pid: number, namespace = env.namespace): Parameters<typeof api.createNamespacedPod>[0] => ({ namespace, body: {
      metadata: { name, labels: { [LABEL_MANAGED]: 'true', [LABEL_HOST]: hostLabel(hostname()), [LABEL_PID]: String(pid) } },
      spec: { restartPolicy: 'Never', containers: [{ name: 'build', image: 'busybox:latest', command: ['sleep', '300'] }] },
    } })
    await api.createNamespacedPod(pod('left-by-a-killed-glrun', dead))
    await api.createNamespacedSecret({ namespace: env.namespace, body: { metadata: { name: 'pull-secret-of-a-killed-glrun', labels: { [LABEL_MANAGED]: 'true', [LABEL_HOST]: hostLabel(hostname()), [LABEL_PID]: String(dead) } }, data: {} } })
    await api.createNamespacedPod(pod('of-a-running-glrun', process.pid))
    await api.createNamespacedPod(pod('left-in-an-overwritten-namespace', dead, 'default'))
    const r = await run(payload(['true']))
    expect(r.status).toBe('success')
    const names = (): string[] => env.double.objects('pods', env.namespace).map((p: { metadata: { name: string } }) => p.metadata.name)
    for (let i = 0; i < 50 && names().includes('left-by-a-killed-glrun'); i++) await new Promise((res) => setTimeout(res, 200))
    expect(names()).not.toContain('left-by-a-killed-glrun')
    expect(names()).toContain('of-a-running-glrun')
    for (let i = 0; i < 50 && env.double.objects('pods', 'default').length; i++) await new Promise((res) => setTimeout(res, 200))
    expect(env.double.objects('pods', 'default').map((p: { metadata: { name: string } }) => p.metadata.name)).not.toContain('left-in-an-overwritten-namespace')
    expect(env.double.objects('secrets', env.namespace).map((x: { metadata: { name: string } }) => x.metadata.name)).not.toContain('pull-secret-of-a-killed-glrun')
    await api.deleteNamespacedPod({ name: 'of-a-running-glrun', namespace: env.namespace, gracePeriodSeconds: 0 })
    expect(await env.settled()).toEqual({ pods: 0, containers: 0 })
  }, 120_000)

  it('a pod no node takes: the scheduler\'s reason in the waiting lines, poll_timeout in gitlab-runner\'s words, diagnosed as unschedulable', async () => {
    const r = await run(payload(['true']), { node_selector: { 'node-pool': 'gpu' }, poll_interval: 1, poll_timeout: 3 })
    expect(r.status).toBe('failed')
    expect(r.trace).toMatch(/\tUnschedulable: "0\/1 nodes are available: 1 node\(s\) didn't match Pod's node affinity\/selector/)
    expect(r.trace).toMatch(/prepare environment: waiting for pod running: timed out waiting for pod to start \(last phase: Pending\)/)
    expect(r.trace).toMatch(/WARNING: Event retrieved from the cluster: 0\/1 nodes are available/)
    const d = diagnose({ trace: parseTrace(r.trace), executor: 'kubernetes' })
    expect(d.diagnoses[0]?.category).toBe('pod_pending_unschedulable')
    expect(await env.settled()).toEqual({ pods: 0, containers: 0 })
  }, 60_000)

  it('per-job overwrites: KUBERNETES_NAMESPACE_OVERWRITE, labels and memory limit as far as config.toml allows; past it the job fails before any pod', async () => {
    const allow = { namespace_overwrite_allowed: '^(ci|default)$', pod_labels_overwrite_allowed: '^team=', memory_limit_overwrite_max_allowed: '256Mi' }
    const job = payload(['echo overwritten'])
    job.variables.push({ key: 'KUBERNETES_NAMESPACE_OVERWRITE', value: 'default', public: true }, { key: 'KUBERNETES_POD_LABELS_1', value: 'team=ci', public: true }, { key: 'KUBERNETES_MEMORY_LIMIT', value: '200Mi', public: true })
    const r = await run(job, allow)
    expect(r.status, r.trace).toBe('success')
    expect(r.trace).toContain('"Namespace" overwritten with "default"\n"PodLabels" "team" overwritten with "ci"\n"MemoryLimit" overwritten with "200Mi"\nUsing Kubernetes namespace: default\n')
    const post = env.double.requests.filter((q) => q.method === 'POST' && /\/pods$/.test(q.path)).at(-1)!
    expect(post.path).toBe('/api/v1/namespaces/default/pods')
    const pod = post.body as { metadata: { labels: Record<string, string> }; spec: { containers: { name: string; resources?: { limits?: Record<string, string> } }[] } }
    expect(pod.metadata.labels['team']).toBe('ci')
    expect(pod.spec.containers.find((c) => c.name === 'build')?.resources?.limits).toEqual({ memory: '200Mi' })
    expect(await env.settled()).toEqual({ pods: 0, containers: 0 })

    const posts = env.double.requests.filter((q) => q.method === 'POST' && /\/pods$/.test(q.path)).length
    const greedy = payload(['echo never'])
    greedy.variables.push({ key: 'KUBERNETES_MEMORY_LIMIT', value: '1Gi', public: true })
    const refused = await run(greedy, allow)
    expect(refused.status).toBe('failed')
    expect(refused.trace).toMatch(/couldn't prepare overwrites: invalid build limits specified: the resource "MemoryLimit" requested "1Gi" is higher than limit allowed "256Mi"/)
    expect(refused.trace).not.toMatch(/^never$/m)
    expect(env.double.requests.filter((q) => q.method === 'POST' && /\/pods$/.test(q.path)).length).toBe(posts)
  }, 120_000)

  it('container_lifecycle, security contexts and affinity reach the pod the node runs: postStart ran before the script, the build container runs as the configured user', async () => {
    const r = await run(payload(['cat /tmp/post-start-mark', 'id -u']), {
      container_lifecycle: { post_start: { exec: { command: ['sh', '-c', 'echo started-by-hook > /tmp/post-start-mark'] } } },
      build_container_security_context: { run_as_user: 1234 },
      affinity: { node_affinity: { required_during_scheduling_ignored_during_execution: { node_selector_terms: [{ match_expressions: [{ key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }] }] } } },
    })
    expect(r.status, r.trace).toBe('success')
    expect(r.trace).toMatch(/^started-by-hook$/m)
    expect(r.trace).toMatch(/^1234$/m)
    const pod = env.double.requests.filter((q) => q.method === 'POST' && /\/pods$/.test(q.path)).at(-1)!.body as { spec: { affinity?: unknown; containers: { name: string; lifecycle?: unknown }[] } }
    expect(pod.spec.affinity).toEqual({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }] }] } } })
    expect(pod.spec.containers.find((c) => c.name === 'helper')?.lifecycle).toBeDefined()
    expect(await env.settled()).toEqual({ pods: 0, containers: 0 })
  }, 120_000)

  it('pod_spec patches with FF_USE_ADVANCED_POD_SPEC_CONFIGURATION: the patched pod runs (a variable and a volume added to build), with gitlab-runner\'s warning', async () => {
    const patch = 'containers:\n  - name: build\n    env:\n      - name: FROM_PATCH\n        value: patched-env\n    volumeMounts:\n      - name: scratch\n        mountPath: /scratch\nvolumes:\n  - name: scratch\n    emptyDir: {}\n'
    const r = await run(payload(['echo "$FROM_PATCH"', 'touch /scratch/ok && echo scratch-writable']), { pod_spec: [{ name: 'env and scratch', patch }] }, { FF_USE_ADVANCED_POD_SPEC_CONFIGURATION: true })
    expect(r.status, r.trace).toBe('success')
    expect(r.trace).toMatch(/^patched-env$/m)
    expect(r.trace).toMatch(/^scratch-writable$/m)
    expect(r.trace).toContain('WARNING: Advanced Pod Spec configuration enabled, merging the provided PodSpec to the generated one.')
    // Without the flag the patch is not applied, as in gitlab-runner.
    const off = await run(payload(['echo "[$FROM_PATCH]"']), { pod_spec: [{ name: 'env and scratch', patch }] })
    expect(off.trace).toMatch(/^\[\]$/m)
    expect(await env.settled()).toEqual({ pods: 0, containers: 0 })
  }, 120_000)

  it('namespace_per_job: the job runs in its own namespace ci-job-<id>(-<session> locally), made before the pod and deleted after', async () => {
    const api = coreApi(kubeConfigFor(env.options()).kc)
    const dead = spawnSync('true').pid!
    await api.createNamespace({ body: { metadata: { name: 'ci-job-17', labels: { [LABEL_MANAGED]: 'true', [LABEL_HOST]: hostLabel(hostname()), [LABEL_PID]: String(dead) } } } })
    const job = payload(['echo "in $(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace 2>/dev/null || echo its-namespace)"'])
    job.id = 4242
    const r = await run(job, { namespace_per_job: true })
    // The namespace of a job whose glrun was killed is swept before this one.
    expect(env.double.requests.some((q) => q.method === 'DELETE' && q.path === '/api/v1/namespaces/ci-job-17')).toBe(true)
    expect(r.status, r.trace).toBe('success')
    // A local run (no runner token): the session follows the job id, which restarts at 1 in every local pipeline.
    const ns = /Using Kubernetes namespace: (ci-job-4242-[0-9a-f]{8})\n/.exec(r.trace)?.[1]
    expect(ns, r.trace).toBeDefined()
    const posts = env.double.requests.filter((q) => q.method === 'POST')
    expect(posts.some((q) => q.path === '/api/v1/namespaces' && (q.body as { metadata: { name: string } }).metadata.name === ns)).toBe(true)
    expect(posts.some((q) => q.path === `/api/v1/namespaces/${ns}/pods`)).toBe(true)
    expect(env.double.requests.some((q) => q.method === 'DELETE' && q.path === `/api/v1/namespaces/${ns}`)).toBe(true)
    expect(await env.settled()).toEqual({ pods: 0, containers: 0 })
  }, 120_000)

  it('FF_KUBERNETES_HONOR_ENTRYPOINT: the image\'s ENTRYPOINT runs before the job\'s shell; its output and what it exports reach the job', async () => {
    // An image whose entrypoint prints a line, exports a variable and execs its arguments (made here: no registry).
    const made = docker('run', '-d', 'busybox:latest', 'sh', '-c', 'printf \'#!/bin/sh\\necho entrypoint-was-here\\nexport FROM_ENTRYPOINT=yes\\nexec "$@"\\n\' > /ep.sh && chmod +x /ep.sh').trim()
    docker('wait', made)
    docker('commit', '--change', 'ENTRYPOINT ["/ep.sh"]', '--change', 'CMD []', made, 'glrun-test/entrypoint:latest')
    docker('rm', '-f', made)
    try {
      const job = payload(['echo "exported: ${FROM_ENTRYPOINT:-no}"'])
      job.image = { name: 'glrun-test/entrypoint:latest' }
      const r = await run(job, {}, { FF_KUBERNETES_HONOR_ENTRYPOINT: true })
      expect(r.status, r.trace).toBe('success')
      expect(r.trace).toMatch(/^entrypoint-was-here$/m)
      expect(r.trace).toMatch(/^exported: yes$/m)
      expect(r.trace.indexOf('entrypoint-was-here')).toBeLessThan(r.trace.indexOf('exported: yes'))
      // Without the flag the runner's shell replaces the entrypoint, as gitlab-runner's default.
      const off = await run({ ...job, id: job.id + 1 })
      expect(off.trace).toMatch(/^exported: no$/m)
      expect(off.trace).not.toMatch(/^entrypoint-was-here$/m)
    } finally {
      docker('rmi', '-f', 'glrun-test/entrypoint:latest')
    }
    expect(await env.settled()).toEqual({ pods: 0, containers: 0 })
  }, 120_000)

  it('image: kubernetes: user runs the build container as that uid:gid; root is refused unless allowed_users lists it', async () => {
    const job = payload(['echo "ids $(id -u):$(id -g)"'])
    job.image = { name: 'busybox:latest', executor_opts: { kubernetes: { user: '1234:2345' } } }
    const r = await run(job)
    expect(r.status, r.trace).toBe('success')
    expect(r.trace).toMatch(/^ids 1234:2345$/m)
    const root = payload(['echo "ids $(id -u)"'])
    root.image = { name: 'busybox:latest', executor_opts: { kubernetes: { user: '0' } } }
    const refused = await run(root, { allowed_users: ['1000'] })
    expect(refused.trace).toContain('Error parsing \'uid\' from image options for container "build", using the configured security context: validating UID: user "0" is not in the allowed list: [1000]')
    expect(await env.settled()).toEqual({ pods: 0, containers: 0 })
  }, 120_000)

  it('memory_limit: a script past it is OOM-killed (137) and diagnosed as such', async () => {
    const r = await run(payload(['head -c 300m /dev/zero | tail > /dev/null']), { memory_limit: '48Mi' })
    expect(r.status).toBe('failed')
    // The kernel picks the victim: usually the script's biggest process (the stage ends with 137);
    // under load sometimes the container's main process too, and the container ends OOMKilled.
    expect(r.trace).toMatch(/ERROR: Job failed: exit code 137|ERROR: Job failed \(system failure\): Error in container build: exit code: 137, reason: 'OOMKilled'/)
    const d = diagnose({ trace: parseTrace(r.trace), executor: 'kubernetes' })
    expect(d.diagnoses.slice(0, 2).map((x) => x.category)).toContain('oom_killed')
  }, 60_000)

  it('the pod deleted under a running job (an eviction, a kubectl delete): the job fails with the pod\'s fate, no hang', async () => {
    const api = coreApi(kubeConfigFor(env.options()).kc)
    const job = payload(['echo running', 'sleep 60'])
    const sink = new MemorySink()
    const trace = new TraceWriter({ masker: new Masker([]), sinks: [sink] })
    const started = Date.now()
    const deleting = (async () => {
      while (!/^running$/m.test(sink.text()) && Date.now() - started < 30_000) await new Promise((res) => setTimeout(res, 100))
      const pod = env.double.objects('pods', env.namespace).find((p: { metadata: { labels?: Record<string, string> } }) => p.metadata.labels?.[LABEL_PID] === String(process.pid))
      await api.deleteNamespacedPod({ name: pod.metadata.name, namespace: env.namespace, gracePeriodSeconds: 0 })
    })()
    const o = await runJob({ job, executor: env.executor(), trace, buildsDir: tempDir('builds'), ...localStores(tempDir('store')), signal: new AbortController().signal })
    await deleting
    await trace.close()
    expect(o).toMatchObject({ status: 'failed', reason: 'runner_system_failure' })
    expect(sink.text()).toMatch(/Job failed \(system failure\): (?:pods ".*" not found: the job's pod was deleted|pod ".*" is being deleted|Error in container build: exit code: 137)/)
    expect(Date.now() - started).toBeLessThan(30_000)
  }, 60_000)

  it('an attach session that breaks mid-stage (a network blip): the stage goes on, its output and exit code come from the log file, nothing twice', async () => {
    // The step_script's attach (the only one: GIT_STRATEGY none) is dropped after 1.5 s.
    env.double.inject({ path: /\/attach$/, times: 1, dropAfterMs: 1500 })
    const r = await run(payload(['for i in 1 2 3 4 5 6; do echo "line $i"; sleep 0.5; done', 'exit 3']))
    expect(r.status).toBe('failed')
    expect(r.trace).toMatch(/^line 6\n.*\$ exit 3.*\n\x1b\[0;33mWARNING: the attach session to the build container broke \(.*\): the stage's output after that was read from \/logs-\d+-\d+\/output\.log/m)
    expect(r.trace.split('\n').filter((l) => /^line \d$/.test(l))).toEqual(['line 1', 'line 2', 'line 3', 'line 4', 'line 5', 'line 6'])
    expect(r.trace).toMatch(/ERROR: Job failed: exit code 3/)
    expect(await env.settled()).toEqual({ pods: 0, containers: 0 })
  }, 60_000)

  it('without host in config.toml the kubeconfig ($KUBECONFIG) names the cluster, its CA and token', async () => {
    const saved = process.env['KUBECONFIG']
    process.env['KUBECONFIG'] = env.double.kubeconfig('admin-token', env.namespace)
    try {
      const raw = { namespace: env.namespace, image: 'busybox:latest', helper_image: 'glrun-test/tools:latest', pull_policy: ['if-not-present'] }
      const executor = new KubernetesExecutor(kubernetesOptions({ raw, pullPolicy: ['if-not-present'], hostAliases: [], pollInterval: 1, pollTimeout: 60, imagePullSecrets: [] }))
      expect(await executor.probe()).toEqual({ ok: true })
      const sink = new MemorySink()
      const trace = new TraceWriter({ masker: new Masker([]), sinks: [sink] })
      const o = await runJob({ job: payload(['echo via-kubeconfig']), executor, trace, buildsDir: tempDir('builds'), ...localStores(tempDir('store')), signal: new AbortController().signal })
      await trace.close()
      expect(o.status, sink.text()).toBe('success')
      expect(sink.text()).toMatch(/^via-kubeconfig$/m)
    } finally {
      if (saved === undefined) delete process.env['KUBECONFIG']
      else process.env['KUBECONFIG'] = saved
    }
  }, 60_000)
})
