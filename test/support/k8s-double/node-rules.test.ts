import { describe, expect, it } from 'vitest'
import { nonRootRefusal } from './container-config.js'
import { expand, resolveEnv } from './container-env.js'
import { goDuration, pullCredentials, pullPolicyOf } from './pod-images.js'
import { type NodeSpec, unschedulable } from './pod-scheduler.js'
import { type PodRun, podStatus } from './pod-status.js'
import { streamTarget } from './pod-streams.js'
import { parseQuantity, podRequests } from './quantity.js'

/** The rules of the double's node that need no engine: scheduling, quantities, pull policy, credentials, status. */

const node: NodeSpec = {
  name: 'glrun-node-1',
  labels: { 'kubernetes.io/hostname': 'glrun-node-1', 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' },
  allocatable: { cpu: 2, memory: 8 * 2 ** 30 },
  taints: [],
}
const idle = { cpu: 0, memory: 0 }
const noClaims = (): boolean => false
const NOT_HELPFUL = 'preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.'

describe('the scheduler of the double', () => {
  it('a taint not tolerated comes first, then the node selector / affinity, then resources', () => {
    const tainted = { ...node, taints: [{ key: 'dedicated', value: 'ci', effect: 'NoSchedule' }] }
    const spec = { nodeSelector: { disk: 'ssd' }, containers: [{ resources: { requests: { cpu: '3' } } }] }
    expect(unschedulable(spec, tainted, idle, noClaims)).toBe(`0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: ci}. ${NOT_HELPFUL}`)
    const tolerated = { ...spec, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'ci', effect: 'NoSchedule' }] }
    expect(unschedulable(tolerated, tainted, idle, noClaims)).toBe(`0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. ${NOT_HELPFUL}`)
    expect(unschedulable({ ...tolerated, nodeSelector: { 'kubernetes.io/os': 'linux' } }, tainted, idle, noClaims)).toBe(`0/1 nodes are available: 1 Insufficient cpu. ${NOT_HELPFUL}`)
    // Exists without a key tolerates every taint; PreferNoSchedule never blocks.
    expect(unschedulable({ tolerations: [{ operator: 'Exists' }] }, tainted, idle, noClaims)).toBeUndefined()
    expect(unschedulable({}, { ...node, taints: [{ key: 'x', effect: 'PreferNoSchedule' }] }, idle, noClaims)).toBeUndefined()
  })

  it('required node affinity: terms ORed, expressions ANDed', () => {
    const term = (key: string, operator: string, values?: string[]) => ({ matchExpressions: [{ key, operator, ...(values ? { values } : {}) }] })
    const affinity = (...terms: object[]) => ({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } })
    expect(unschedulable(affinity(term('kubernetes.io/arch', 'In', ['arm64'])), node, idle, noClaims)).toMatch(/didn't match Pod's node affinity\/selector/)
    expect(unschedulable(affinity(term('kubernetes.io/arch', 'In', ['arm64']), term('kubernetes.io/os', 'Exists')), node, idle, noClaims)).toBeUndefined()
    expect(unschedulable(affinity(term('gpu', 'DoesNotExist')), node, idle, noClaims)).toBeUndefined()
  })

  it('requests count against what other pods use; both resources listed; init containers count at their largest', () => {
    const spec = { containers: [{ resources: { requests: { cpu: '500m', memory: '1Gi' } } }] }
    expect(unschedulable(spec, node, { cpu: 1.5, memory: 7 * 2 ** 30 }, noClaims)).toBeUndefined()
    expect(unschedulable(spec, node, { cpu: 1.6, memory: 7.5 * 2 ** 30 }, noClaims))
      .toBe('0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.')
    // A limit alone is the request.
    expect(podRequests({ containers: [{ resources: { limits: { cpu: '1', memory: '32Mi' } } }], initContainers: [{ resources: { requests: { cpu: '1500m' } } }] })).toEqual({ cpu: 1.5, memory: 32 * 2 ** 20 })
  })

  it('a claim that does not exist stops scheduling', () => {
    expect(unschedulable({ volumes: [{ persistentVolumeClaim: { claimName: 'cache' } }] }, node, idle, noClaims)).toBe(`0/1 nodes are available: persistentvolumeclaim "cache" not found. ${NOT_HELPFUL}`)
    expect(unschedulable({ volumes: [{ persistentVolumeClaim: { claimName: 'cache' } }] }, node, idle, () => true)).toBeUndefined()
  })
})

describe('quantities, pull policy, credentials, durations', () => {
  it('parses Kubernetes quantities', () => {
    expect([parseQuantity('500m'), parseQuantity('2'), parseQuantity('32Mi'), parseQuantity('1G'), parseQuantity('1e3'), parseQuantity('1.5Gi'), parseQuantity('lots')])
      .toEqual([0.5, 2, 32 * 2 ** 20, 1e9, 1000, 1.5 * 2 ** 30, undefined])
  })

  it('defaults imagePullPolicy as the API server does', () => {
    expect(['busybox', 'busybox:latest', 'busybox:1.36', 'registry.example.com:5000/a/b', `busybox@sha256:${'a'.repeat(64)}`].map((image) => pullPolicyOf({ image })))
      .toEqual(['Always', 'Always', 'IfNotPresent', 'Always', 'IfNotPresent'])
    expect(pullPolicyOf({ image: 'busybox', imagePullPolicy: 'Never' })).toBe('Never')
  })

  it('reads registry credentials from dockerconfigjson and dockercfg secrets', () => {
    const b64 = (x: string): string => Buffer.from(x).toString('base64')
    const json = { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64(JSON.stringify({ auths: { 'registry.example.com': { auth: b64('ada:pa:ss') } } })) } }
    const cfg = { type: 'kubernetes.io/dockercfg', data: { '.dockercfg': b64(JSON.stringify({ 'https://index.docker.io/v1/': { username: 'bob', password: 'pw' } })) } }
    expect(pullCredentials([json, cfg, { type: 'Opaque', data: {} }])).toEqual([
      { registry: 'registry.example.com', username: 'ada', password: 'pa:ss', source: 'imagePullSecrets' },
      { registry: 'https://index.docker.io/v1/', username: 'bob', password: 'pw', source: 'imagePullSecrets' },
    ])
  })

  it('formats pull durations as Go prints a time.Duration truncated to milliseconds', () => {
    expect([goDuration(523.9), goDuration(1234), goDuration(2000), goDuration(61_500), goDuration(3_723_000)]).toEqual(['523ms', '1.234s', '2s', '1m1.5s', '1h2m3s'])
  })
})

describe('pod status', () => {
  const run = (over: Partial<PodRun>): PodRun => ({
    namespace: 'ci', name: 'p', uid: 'u', scheduled: true, sandboxReady: true, qosClass: 'BestEffort', transitions: new Map(),
    initContainers: [], containers: [], ...over,
  })
  const running = { running: { startedAt: '2026-12-01T00:00:00Z' } }
  const ended = (exitCode: number) => ({ terminated: { exitCode, reason: exitCode ? 'Error' : 'Completed', startedAt: 'a', finishedAt: 'b' } })

  it('Running and Ready with every container running; ContainersNotReady names the others', () => {
    const c = (name: string, state: object) => ({ name, init: false, image: 'busybox', imageID: '', state }) as PodRun['containers'][number]
    const ok = podStatus(run({ containers: [c('build', running), c('helper', running)] }))
    expect(ok.phase).toBe('Running')
    expect((ok.conditions as any[]).map((x) => `${x.type}=${x.status}`)).toEqual(['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True'])
    const half = podStatus(run({ containers: [c('build', running), c('helper', { waiting: { reason: 'ImagePullBackOff' } })] }))
    expect(half.phase).toBe('Pending')
    expect((half.conditions as any[]).find((x) => x.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [helper]' })
    expect(podStatus(run({ containers: [c('build', ended(0)), c('helper', ended(0))] })).phase).toBe('Succeeded')
    const failed = podStatus(run({ containers: [c('build', ended(1)), c('helper', ended(0))] }))
    expect(failed.phase).toBe('Failed')
    expect((failed.conditions as any[]).find((x) => x.type === 'Ready')).toMatchObject({ reason: 'ContainersNotReady', message: 'containers with unready status: [build helper]' })
  })
})

describe('container environment', () => {
  const vars = new Map([['A', 'x'], ['B', '$(A)']])
  it('expands $(VAR) like Kubernetes: defined names, $$ as $, the rest kept', () => {
    expect(expand('$(A)-$(B)-$(C)-$$(A)-$$-$x-$(-$', vars)).toBe('x-$(A)-$(C)-$(A)-$-$x-$(-$')
  })

  it('env refers to what is defined before it; envFrom first with its prefix; missing objects and keys as the kubelet says', () => {
    const b64 = (x: string): string => Buffer.from(x).toString('base64')
    const objects: Record<string, Record<string, unknown>> = { 'secrets/s': { data: { k: b64('secret-value') } }, 'configmaps/m': { data: { one: '1' } } }
    const ctx = { namespace: 'ci', read: (kind: string, name: string) => objects[`${kind}/${name}`], field: (p: string) => (p === 'metadata.name' ? 'pod-1' : undefined) }
    const r = resolveEnv({
      envFrom: [{ prefix: 'CM_', configMapRef: { name: 'm' } }],
      env: [{ name: 'LATER', value: '$(FIRST)' }, { name: 'FIRST', value: 'a' }, { name: 'S', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }, { name: 'ME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }, { name: 'BOTH', value: '$(FIRST)$(CM_one)' }],
      command: ['echo', '$(S)'], args: ['$(ME)', '$(NOPE)'],
    }, ctx)
    expect(r).toEqual({ env: [['CM_one', '1'], ['LATER', '$(FIRST)'], ['FIRST', 'a'], ['S', 'secret-value'], ['ME', 'pod-1'], ['BOTH', 'a1']], command: ['echo', 'secret-value'], args: ['pod-1', '$(NOPE)'] })
    expect(resolveEnv({ env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'gone', key: 'k' } } }] }, ctx)).toEqual({ error: 'secret "gone" not found' })
    expect(resolveEnv({ env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'nope' } } }] }, ctx)).toEqual({ error: "couldn't find key nope in Secret ci/s" })
    expect(resolveEnv({ env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'm', key: 'nope', optional: true } } }] }, ctx)).toEqual({ env: [] })
  })
})

describe('stream refusals', () => {
  it('answers as the kubelet for an unknown pod, an unknown container and a container that does not run', () => {
    const req = (container: string) => ({ namespace: 'ci', pod: 'p', container, tty: false })
    const c = (name: string, state: object, id?: string) => ({ name, init: false, image: 'busybox', imageID: '', state, ...(id ? { id } : {}) }) as PodRun['containers'][number]
    const run = { initContainers: [], containers: [c('build', { running: { startedAt: 'x' } }, 'abc'), c('helper', { waiting: { reason: 'ContainerCreating' } }), c('svc', { terminated: { exitCode: 0, reason: 'Completed', startedAt: 'a', finishedAt: 'b' } }, 'def')] } as unknown as PodRun
    expect(streamTarget(undefined, req('build'))).toEqual({ kind: 'error', reason: 'NotFound', message: 'pods "p" not found' })
    expect(streamTarget(run, req('nope'))).toEqual({ kind: 'error', reason: 'BadRequest', message: 'container nope is not valid for pod p' })
    expect(streamTarget(run, req('helper'))).toEqual({ kind: 'error', reason: 'InternalError', message: 'container not found ("helper")' })
    expect(streamTarget(run, req('svc'))).toEqual({ kind: 'error', reason: 'InternalError', message: 'container not found ("svc")' })
    expect(streamTarget(run, req('build'))).toEqual({ id: 'abc' })
  })
})

describe('runAsNonRoot', () => {
  it('refuses root and names it cannot check, as the kubelet words it', () => {
    const c = (securityContext?: object) => ({ name: 'build', image: 'x', ...(securityContext ? { securityContext } : {}) })
    const pod = 'p_ci(u1)'
    expect(nonRootRefusal(c(), { runAsNonRoot: true }, '', pod)).toBe('container has runAsNonRoot and image will run as root (pod: "p_ci(u1)", container: build)')
    expect(nonRootRefusal(c(), { runAsNonRoot: true }, 'nobody', pod)).toBe('container has runAsNonRoot and image has non-numeric user (nobody), cannot verify user is non-root (pod: "p_ci(u1)", container: build)')
    expect(nonRootRefusal(c({ runAsUser: 0 }), { runAsNonRoot: true }, '1000', pod)).toBe('container\'s runAsUser breaks non-root policy (pod: "p_ci(u1)", container: build)')
    expect(nonRootRefusal(c({ runAsUser: 1000 }), { runAsNonRoot: true }, '', pod)).toBeUndefined()
    expect(nonRootRefusal(c(), { runAsNonRoot: true }, '1000:1000', pod)).toBeUndefined()
    expect(nonRootRefusal(c({ runAsNonRoot: false }), { runAsNonRoot: true }, '', pod)).toBeUndefined()
  })
})
