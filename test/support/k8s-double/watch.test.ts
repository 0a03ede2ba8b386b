import { CoreV1Api, type V1Pod, Watch, makeInformer } from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { core, kubeConfig, pod, startTestDouble, until } from './test-setup.js'

type Double = Awaited<ReturnType<typeof startTestDouble>>
let d: Double

beforeAll(async () => { d = await startTestDouble({ namespaces: ['ci', 'other'], bookmarkMs: 100 }) })
afterAll(async () => { await d.stop() })

interface Seen { type: string; obj: any }

/** A client-node watch collecting events; `done` resolves with the error client-node reports at the end (null for a clean end). */
async function watch(path: string, query: Record<string, string | number | boolean | undefined>): Promise<{ seen: Seen[]; done: Promise<unknown>; abort(): void }> {
  const seen: Seen[] = []
  let finish!: (e: unknown) => void
  const done = new Promise<unknown>((r) => { finish = r })
  const controller = await new Watch(kubeConfig(d.k8s, 'admin-token')).watch(path, query, (type, obj) => seen.push({ type, obj }), (e) => finish(e))
  return { seen, done, abort: () => controller.abort() }
}

describe('k8s double: watches', () => {
  it('streams a pod\'s life: ADDED, the kubelet\'s MODIFIED statuses, deletionTimestamp, DELETED', async () => {
    const w = await watch('/api/v1/namespaces/ci/pods', { labelSelector: 'job=1', timeoutSeconds: 30 })
    await core(d.k8s).createNamespacedPod({ namespace: 'ci', body: pod('life') })
    await until(() => w.seen.find((e) => e.obj.status?.phase === 'Running'))
    await core(d.k8s).deleteNamespacedPod({ namespace: 'ci', name: 'life', gracePeriodSeconds: 3 })
    await until(() => w.seen.find((e) => e.type === 'DELETED'))
    w.abort()
    const steps = w.seen.map((e) => `${e.type} ${e.obj.status?.phase}${e.obj.metadata.deletionTimestamp ? ' deleting' : ''}`)
    expect(steps).toEqual(['ADDED Pending', 'MODIFIED Pending', 'MODIFIED Running', 'MODIFIED Running deleting', 'DELETED Running deleting'])
    const rvs = w.seen.map((e) => Number(e.obj.metadata.resourceVersion))
    expect([...rvs].sort((a, b) => a - b)).toEqual(rvs)
    expect(new Set(rvs).size).toBe(rvs.length)
  })

  it('starts with ADDED for existing objects, replays from a resourceVersion, and filters by field selector', async () => {
    const api = core(d.k8s)
    await api.createNamespacedConfigMap({ namespace: 'other', body: { metadata: { name: 'a' }, data: { k: '1' } } })
    const list = await api.listNamespacedConfigMap({ namespace: 'other' })
    await api.createNamespacedConfigMap({ namespace: 'other', body: { metadata: { name: 'b' }, data: { k: '2' } } })
    const fresh = await watch('/api/v1/namespaces/other/configmaps', { timeoutSeconds: 1 })
    await fresh.done
    expect(fresh.seen.map((e) => `${e.type} ${e.obj.metadata.name}`)).toEqual(['ADDED a', 'ADDED b'])
    const replay = await watch('/api/v1/namespaces/other/configmaps', { resourceVersion: list.metadata!.resourceVersion, timeoutSeconds: 1 })
    await replay.done
    expect(replay.seen.map((e) => `${e.type} ${e.obj.metadata.name}`)).toEqual(['ADDED b'])

    const running = await watch('/api/v1/namespaces/ci/pods', { fieldSelector: 'status.phase=Running,metadata.name=sel', timeoutSeconds: 10 })
    await api.createNamespacedPod({ namespace: 'ci', body: pod('sel') })
    await until(() => running.seen.length > 0)
    running.abort()
    expect(running.seen[0]!.type).toBe('ADDED')
    expect(running.seen[0]!.obj.status.phase).toBe('Running')
  })

  it('feeds a client-node informer (list, then watch from the list\'s resourceVersion)', async () => {
    const kc = kubeConfig(d.k8s, 'admin-token')
    const api = kc.makeApiClient(CoreV1Api)
    await api.createNamespacedPod({ namespace: 'ci', body: { ...pod('inf-before'), metadata: { name: 'inf-before', labels: { inf: 'yes' } } } })
    const informer = makeInformer(kc, '/api/v1/namespaces/ci/pods', () => api.listNamespacedPod({ namespace: 'ci', labelSelector: 'inf=yes' }), 'inf=yes')
    const seen: string[] = []
    informer.on('add', (p: V1Pod) => seen.push(`add ${p.metadata!.name}`))
    informer.on('delete', (p: V1Pod) => seen.push(`delete ${p.metadata!.name}`))
    await informer.start()
    await api.createNamespacedPod({ namespace: 'ci', body: { ...pod('inf-after'), metadata: { name: 'inf-after', labels: { inf: 'yes' } } } })
    await until(() => seen.includes('add inf-after'))
    await api.deleteNamespacedPod({ namespace: 'ci', name: 'inf-before', gracePeriodSeconds: 0 })
    await until(() => seen.includes('delete inf-before'))
    await informer.stop()
    expect(seen).toEqual(['add inf-before', 'add inf-after', 'delete inf-before'])
    expect(informer.list('ci').map((p) => p.metadata!.name)).toEqual(['inf-after'])
  })

  it('ends the stream after timeoutSeconds', async () => {
    const started = Date.now()
    const w = await watch('/api/v1/namespaces/ci/pods', { timeoutSeconds: 1 })
    expect(await w.done).toBeNull()
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('sends ERROR 410 Expired for a compacted resourceVersion, and BOOKMARKs when allowed', async () => {
    const api = core(d.k8s)
    const old = (await api.listNamespacedSecret({ namespace: 'ci' })).metadata!.resourceVersion!
    await api.createNamespacedSecret({ namespace: 'ci', body: { metadata: { name: 's1' } } })
    d.k8s.compact()
    const w = await watch('/api/v1/namespaces/ci/secrets', { resourceVersion: old, timeoutSeconds: 5 })
    expect(await w.done).toBeNull()
    expect(w.seen).toHaveLength(1)
    expect(w.seen[0]!.type).toBe('ERROR')
    expect(w.seen[0]!.obj).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: expect.stringMatching(new RegExp(`^too old resource version: ${old} \\(\\d+\\)$`)), reason: 'Expired', code: 410 })
    const b = await watch('/api/v1/namespaces/ci/secrets', { allowWatchBookmarks: true, timeoutSeconds: 1 })
    await b.done
    const bookmark = b.seen.find((e) => e.type === 'BOOKMARK')!
    expect(bookmark.obj).toEqual({ kind: 'Secret', apiVersion: 'v1', metadata: { resourceVersion: expect.stringMatching(/^\d+$/), creationTimestamp: null } })
  })

  it('watches the kubelet\'s Events by involved object', async () => {
    const w = await watch('/api/v1/namespaces/ci/events', { fieldSelector: 'involvedObject.name=ev-pod', timeoutSeconds: 10 })
    await core(d.k8s).createNamespacedPod({ namespace: 'ci', body: pod('ev-pod') })
    await until(() => w.seen.find((e) => e.obj.reason === 'Started'))
    w.abort()
    expect(w.seen.map((e) => e.obj.reason)).toEqual(['Scheduled', 'Pulled', 'Created', 'Started'])
    expect(w.seen.every((e) => e.type === 'ADDED' && e.obj.involvedObject.name === 'ev-pod')).toBe(true)
    expect(w.seen[0]!.obj.source).toEqual({ component: 'default-scheduler' })
  })
})
