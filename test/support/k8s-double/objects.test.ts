import { mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { NodeReporter, PodObject } from './kubelet.js'
import { type K8sDouble, startK8sDouble } from './server.js'
import { ShKubelet } from './sh-kubelet.js'
import { apiError, core, pod, until } from './test-setup.js'

/** The shell kubelet, keeping the reporter the server handed it (to drive status/events/read directly). */
class ReportingKubelet extends ShKubelet {
  reporter?: NodeReporter
  override run(p: PodObject, reporter: NodeReporter): void {
    this.reporter = reporter
    super.run(p, reporter)
  }
}

let dir: string
let kubelet: ReportingKubelet
let k8s: K8sDouble

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'k8s-double-objects-'))
  kubelet = new ReportingKubelet()
  k8s = await startK8sDouble(dir, { kubelet, gitVersion: 'v1.35.0' })
})
afterAll(async () => { await k8s.close(); await kubelet.close(); rmSync(dir, { recursive: true, force: true }) })

function raw(method: string, path: string, body: string, contentType: string): Promise<{ code: number; json: any }> {
  return new Promise((resolve, reject) => {
    const r = request(`${k8s.url}${path}`, { method, ca: k8s.caPem, headers: { Authorization: 'Bearer admin-token', 'Content-Type': contentType } }, (res) => {
      let text = ''
      res.on('data', (c) => { text += c })
      res.on('end', () => resolve({ code: res.statusCode!, json: JSON.parse(text) }))
    })
    r.on('error', reject)
    r.end(body)
  })
}

describe('k8s double: object lifecycle', () => {
  it('writes a kubeconfig that client-node loads (CA data, token, namespace) and reports gitVersion', async () => {
    const kc = new KubeConfig()
    kc.loadFromFile(k8s.kubeconfig('admin-token', 'jobs'))
    expect(kc.getContextObject(kc.getCurrentContext())?.namespace).toBe('jobs')
    const api = kc.makeApiClient(CoreV1Api)
    expect((await api.readNamespace({ name: 'default' })).status?.phase).toBe('Active')
    const { VersionApi } = await import('@kubernetes/client-node')
    expect((await kc.makeApiClient(VersionApi).getCode()).gitVersion).toBe('v1.35.0')
  })

  it('creates a namespace with its default service account, and deleting it empties it before it goes', async () => {
    const api = core(k8s)
    const ns = await api.createNamespace({ body: { metadata: { name: 'job-42' } } })
    expect(ns.status?.phase).toBe('Active')
    expect((await api.readNamespacedServiceAccount({ namespace: 'job-42', name: 'default' })).metadata?.name).toBe('default')
    await api.createNamespacedPod({ namespace: 'job-42', body: pod('p') })
    await api.createNamespacedSecret({ namespace: 'job-42', body: { metadata: { name: 's' } } })
    await until(() => k8s.objects('pods', 'job-42').find((p) => p.status.phase === 'Running'))
    const deleting = await api.deleteNamespace({ name: 'job-42' })
    // client-node types this answer as a Status; the apiserver sends the Namespace.
    expect((deleting as unknown as { status: { phase: string } }).status.phase).toBe('Terminating')
    const late = await apiError(api.createNamespacedSecret({ namespace: 'job-42', body: { metadata: { name: 'late' } } }))
    expect([late.code, late.status.message]).toEqual([403, 'secrets "late" is forbidden: unable to create new content in namespace job-42 because it is being terminated'])
    await until(() => !k8s.objects('namespaces').some((n) => n.metadata.name === 'job-42'))
    expect(k8s.objects('pods', 'job-42')).toEqual([])
    expect(k8s.objects('secrets', 'job-42')).toEqual([])
    const dup = await apiError(api.createNamespace({ body: { metadata: { name: 'default' } } }))
    expect(dup.status.message).toBe('namespaces "default" already exists')
  })

  it('PUT checks the resourceVersion (409 Conflict) and PATCH merges by Content-Type', async () => {
    const api = core(k8s)
    const cm = await api.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'cfg' }, data: { a: '1' } } })
    const updated = await api.replaceNamespacedConfigMap({ namespace: 'default', name: 'cfg', body: { ...cm, data: { a: '2' } } })
    expect(Number(updated.metadata!.resourceVersion)).toBeGreaterThan(Number(cm.metadata!.resourceVersion))
    const stale = await apiError(api.replaceNamespacedConfigMap({ namespace: 'default', name: 'cfg', body: { ...cm, data: { a: '3' } } }))
    expect([stale.code, stale.status.reason, stale.status.message]).toEqual([409, 'Conflict', 'Operation cannot be fulfilled on configmaps "cfg": the object has been modified; please apply your changes to the latest version and try again'])
    const merged = await api.patchNamespacedConfigMap({ namespace: 'default', name: 'cfg', body: { data: { b: 'x', a: null } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))
    expect(merged.data).toEqual({ b: 'x' })
    const jp = await raw('PATCH', '/api/v1/namespaces/default/configmaps/cfg', JSON.stringify([{ op: 'test', path: '/data/b', value: 'x' }, { op: 'add', path: '/data/c', value: 'y' }]), 'application/json-patch+json')
    expect([jp.code, jp.json.data]).toEqual([200, { b: 'x', c: 'y' }])
    await api.createNamespacedPod({ namespace: 'default', body: pod('patched', { containers: [{ name: 'build', image: 'busybox:1', stdin: true }, { name: 'helper', image: 'helper:1' }] }) })
    const smp = await raw('PATCH', '/api/v1/namespaces/default/pods/patched', JSON.stringify({ spec: { containers: [{ name: 'helper', image: 'helper:2' }] } }), 'application/strategic-merge-patch+json')
    expect(smp.json.spec.containers.map((c: any) => `${c.name}=${c.image}`)).toEqual(['build=busybox:1', 'helper=helper:2'])
    const forbiddenChange = await raw('PATCH', '/api/v1/namespaces/default/pods/patched', JSON.stringify({ spec: { restartPolicy: 'Always' } }), 'application/merge-patch+json')
    expect([forbiddenChange.code, forbiddenChange.json.message]).toEqual([422, expect.stringMatching(/^Pod "patched" is invalid: spec: Forbidden: pod updates may not change fields other than/)])
    const unknownType = await raw('PATCH', '/api/v1/namespaces/default/pods/patched', '{}', 'application/json')
    expect(unknownType.code).toBe(415)
  })

  it('takes YAML bodies and serves pods/status, pods/log and persistentvolumeclaims', async () => {
    const yaml = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: from-yaml\nspec:\n  containers:\n  - name: build\n    image: busybox\n    stdin: true\n'
    expect((await raw('POST', '/api/v1/namespaces/default/pods', yaml, 'application/yaml')).code).toBe(201)
    const api = core(k8s)
    await until(() => k8s.objects('pods', 'default').find((p) => p.metadata.name === 'from-yaml' && p.status.phase === 'Running'))
    const status = await api.readNamespacedPodStatus({ namespace: 'default', name: 'from-yaml' })
    expect(status.status?.containerStatuses?.[0]?.state?.running).toBeDefined()
    const missingPvc = await apiError(api.readNamespacedPersistentVolumeClaim({ namespace: 'default', name: 'cache' }))
    expect(missingPvc.status.message).toBe('persistentvolumeclaims "cache" not found')
    await api.createNamespacedPersistentVolumeClaim({ namespace: 'default', body: { metadata: { name: 'cache' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } })
    expect((await api.readNamespacedPersistentVolumeClaim({ namespace: 'default', name: 'cache' })).spec?.resources?.requests?.storage).toBe('1Gi')
    const noContainer = await apiError(api.readNamespacedPodLog({ namespace: 'default', name: 'patched', container: 'nope' }))
    expect([noContainer.code, noContainer.status.message]).toEqual([400, 'container nope is not valid for pod patched'])
    const choose = await apiError(api.readNamespacedPodLog({ namespace: 'default', name: 'patched' }))
    expect(choose.status.message).toBe('a container name must be specified for pod patched, choose one of: [build helper]')
  })

  it('the NodeReporter: status updates, repeated Events counted, reads of stored secrets', async () => {
    const api = core(k8s)
    await api.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'registry' }, type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': '{"auths":{}}' } } })
    await api.createNamespacedPod({ namespace: 'default', body: pod('pulling') })
    const r = kubelet.reporter!
    expect(r.read('secrets', 'default', 'registry')).toMatchObject({ type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from('{"auths":{}}').toString('base64') } })
    expect(r.read('configmaps', 'default', 'nope')).toBeUndefined()
    const backOff = { type: 'Normal' as const, reason: 'BackOff', message: 'Back-off pulling image "busybox:nope"', fieldPath: 'spec.containers{build}' }
    r.event('default', 'pulling', backOff)
    r.event('default', 'pulling', backOff)
    const events = (await api.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=pulling,reason=BackOff' })).items
    expect(events).toHaveLength(1)
    expect(events[0]!.count).toBe(2)
    const waiting = { phase: 'Pending', containerStatuses: [{ name: 'build', image: 'busybox:nope', imageID: '', ready: false, restartCount: 0, started: false, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "busybox:nope"' } }, lastState: {} }] }
    await new Promise((res) => setTimeout(res, 200))
    r.setStatus('default', 'pulling', waiting)
    expect((await api.readNamespacedPod({ namespace: 'default', name: 'pulling' })).status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('ImagePullBackOff')
  })
})
