import { request } from 'node:https'
import { AuthorizationV1Api } from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiError, core, kubeConfig, pod, startTestDouble, until } from './test-setup.js'

type Double = Awaited<ReturnType<typeof startTestDouble>>
let d: Double

beforeAll(async () => {
  d = await startTestDouble({
    namespaces: ['default', 'ci'],
    serviceAccounts: ['ci:runner'],
    accounts: {
      'admin-token': { serviceAccount: 'kube-system:admin', rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] },
      'runner-token': { serviceAccount: 'ci:runner', rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] },
    },
  })
})
afterAll(async () => { await d.stop() })

/** A raw HTTPS request trusting the double's CA (for what the generated client cannot send). */
function raw(method: string, path: string, body: string | null, headers: Record<string, string>): Promise<{ code: number; headers: Record<string, any>; text: string }> {
  return new Promise((resolve, reject) => {
    const r = request(`${d.k8s.url}${path}`, { method, ca: d.k8s.caPem, headers: { Authorization: 'Bearer admin-token', ...headers } }, (res) => {
      let text = ''
      res.on('data', (c) => { text += c })
      res.on('end', () => resolve({ code: res.statusCode!, headers: res.headers, text }))
    })
    r.on('error', reject)
    r.end(body ?? undefined)
  })
}

describe('k8s double: REST over HTTPS through @kubernetes/client-node', () => {
  it('creates, reads, lists and deletes pods with server-set metadata and defaults', async () => {
    const api = core(d.k8s)
    const created = await api.createNamespacedPod({ namespace: 'ci', body: pod('job-1') })
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/)
    expect(Number(created.metadata?.resourceVersion)).toBeGreaterThan(0)
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date)
    expect(created.spec?.serviceAccountName).toBe('default')
    expect(created.spec?.containers[0]?.imagePullPolicy).toBe('IfNotPresent')
    expect(created.status?.phase).toBe('Pending')
    const read = await api.readNamespacedPod({ namespace: 'ci', name: 'job-1' })
    expect(read.metadata?.uid).toBe(created.metadata?.uid)
    await until(() => d.k8s.objects('pods', 'ci').find((p) => p.metadata.name === 'job-1' && p.status.phase === 'Running'))
    const list = await api.listNamespacedPod({ namespace: 'ci', labelSelector: 'app=glrun,job', fieldSelector: 'status.phase=Running' })
    expect(list.items.map((p) => p.metadata?.name)).toEqual(['job-1'])
    expect((await api.listNamespacedPod({ namespace: 'ci', labelSelector: 'app!=glrun' })).items).toEqual([])
    expect((await api.listNamespacedPod({ namespace: 'ci', fieldSelector: 'metadata.name=other' })).items).toEqual([])
    const generated = await api.createNamespacedPod({ namespace: 'ci', body: { ...pod(''), metadata: { generateName: 'runner-abc-' } } })
    expect(generated.metadata?.name).toMatch(/^runner-abc-[bcdfghjklmnpqrstvwxz2456789]{5}$/)
    const deleting = await api.deleteNamespacedPod({ namespace: 'ci', name: 'job-1', gracePeriodSeconds: 5 })
    expect(deleting.metadata?.deletionTimestamp).toBeInstanceOf(Date)
    await until(() => !d.k8s.objects('pods', 'ci').some((p) => p.metadata.name === 'job-1'))
    const gone = await apiError(api.readNamespacedPod({ namespace: 'ci', name: 'job-1' }))
    expect(gone.code).toBe(404)
    expect(gone.status).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'pods "job-1" not found', reason: 'NotFound', details: { name: 'job-1', kind: 'pods' }, code: 404 })
  })

  it('answers 409, 404 for a missing namespace, and 403 for a missing service account with the apiserver texts', async () => {
    const api = core(d.k8s)
    await api.createNamespacedSecret({ namespace: 'ci', body: { metadata: { name: 'creds' }, stringData: { token: 'x' } } })
    const dup = await apiError(api.createNamespacedSecret({ namespace: 'ci', body: { metadata: { name: 'creds' } } }))
    expect([dup.code, dup.status.reason, dup.status.message]).toEqual([409, 'AlreadyExists', 'secrets "creds" already exists'])
    expect(d.k8s.objects('secrets', 'ci')[0].data).toEqual({ token: Buffer.from('x').toString('base64') })
    const noNs = await apiError(api.createNamespacedPod({ namespace: 'nope', body: pod('p') }))
    expect([noNs.code, noNs.status.message]).toEqual([404, 'namespaces "nope" not found'])
    const noSa = await apiError(api.createNamespacedPod({ namespace: 'ci', body: pod('p', { serviceAccountName: 'builder' }) }))
    expect([noSa.code, noSa.status.reason, noSa.status.message]).toEqual([403, 'Forbidden', 'pods "p" is forbidden: error looking up service account ci/builder: serviceaccount "builder" not found'])
    const withSa = await api.createNamespacedPod({ namespace: 'ci', body: pod('p-sa', { serviceAccountName: 'runner' }) })
    expect(withSa.spec?.serviceAccountName).toBe('runner')
  })

  it('validates bodies: 422 Invalid with causes, 400 decoding errors, 415 for a foreign Content-Type', async () => {
    const api = core(d.k8s)
    const bad = await apiError(api.createNamespacedPod({
      namespace: 'ci',
      body: pod('bad', {
        containers: [
          { name: 'Build_1', image: 'busybox', volumeMounts: [{ name: 'repo', mountPath: '/builds' }], env: [{ name: '1BAD', value: 'x' }], resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } },
          { name: 'helper', image: '' },
        ],
        hostAliases: [{ ip: '10.0.0', hostnames: ['db'] }],
        restartPolicy: 'Sometimes',
        dnsPolicy: 'None',
        tolerations: [{ key: 'k', operator: 'Exists', value: 'v', effect: 'NoSchedule' }],
      }),
    }))
    expect(bad.code).toBe(422)
    expect(bad.status.reason).toBe('Invalid')
    const fields = bad.status.details.causes.map((c: any) => `${c.reason} ${c.field}`)
    expect(fields).toEqual(expect.arrayContaining([
      'FieldValueInvalid spec.containers[0].name', 'FieldValueNotFound spec.containers[0].volumeMounts[0].name', 'FieldValueInvalid spec.containers[0].env[0].name',
      'FieldValueInvalid spec.containers[0].resources.requests[cpu]', 'FieldValueRequired spec.containers[1].image', 'FieldValueInvalid spec.hostAliases[0].ip',
      'FieldValueNotSupported spec.restartPolicy', 'FieldValueRequired spec.dnsConfig', 'FieldValueInvalid spec.tolerations[0].operator',
    ]))
    expect(bad.status.message).toMatch(/^Pod "bad" is invalid: \[/)
    expect(bad.status.message).toContain(`spec.containers[0].name: Invalid value: "Build_1": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`)
    expect(bad.status.message).toContain('spec.containers[0].resources.requests[cpu]: Invalid value: "2": must be less than or equal to cpu limit of 1')
    const one = await apiError(api.createNamespacedPod({ namespace: 'ci', body: pod('dup', { containers: [{ name: 'a', image: 'x' }, { name: 'a', image: 'y' }] }) }))
    expect(one.status.message).toBe('Pod "dup" is invalid: spec.containers[1].name: Duplicate value: "a"')
    const typed = await raw('POST', '/api/v1/namespaces/ci/pods', JSON.stringify(pod('typed', { containers: [{ name: 'a', image: 'x', stdin: 'yes' }] })), { 'Content-Type': 'application/json' })
    expect(typed.code).toBe(400)
    expect(JSON.parse(typed.text).message).toBe('Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field Container.spec.containers.stdin of type bool')
    const quantity = await raw('POST', '/api/v1/namespaces/ci/pods', JSON.stringify(pod('q', { containers: [{ name: 'a', image: 'x', resources: { limits: { memory: '2Gx' } } }] })), { 'Content-Type': 'application/json' })
    expect([quantity.code, JSON.parse(quantity.text).message]).toEqual([400, "Pod in version \"v1\" cannot be handled as a Pod: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"])
    const form = await raw('POST', '/api/v1/namespaces/ci/pods', 'name=x', { 'Content-Type': 'application/x-www-form-urlencoded' })
    expect(form.code).toBe(415)
    expect(JSON.parse(form.text)).toMatchObject({ reason: 'UnsupportedMediaType', code: 415 })
    expect(d.k8s.objects('pods', 'ci').map((p) => p.metadata.name)).not.toContain('bad')
  })

  it('accepts a gitlab-runner-shaped pod as sent (no warning, only defaults added) and checks labels', async () => {
    const runnerPod = {
      apiVersion: 'v1', kind: 'Pod',
      metadata: {
        name: 'runner-abcdefgh-project-42-concurrent-0-x1y2z3w4',
        labels: { pod: 'runner-abcdefgh-project-42-concurrent-0', 'project.runner.gitlab.com/id': '42', 'job.runner.gitlab.com/pod': 'runner-abcdefgh-project-42-concurrent-0', 'manager.runner.gitlab.com/name': 'my-runner' },
        annotations: { 'job.runner.gitlab.com/id': '1001', 'job.runner.gitlab.com/url': 'https://gitlab.example.com/g/p/-/jobs/1001', 'job.runner.gitlab.com/timeout': '1h0m0s' },
      },
      spec: {
        restartPolicy: 'Never', activeDeadlineSeconds: 3601, terminationGracePeriodSeconds: 0,
        initContainers: [{ name: 'init-permissions', image: 'registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v19.4.0', command: ['sh', '-c', 'touch /logs-42-1001/output.log && (chmod 777 /logs-42-1001/output.log || exit 0)'], volumeMounts: [{ name: 'logs', mountPath: '/logs-42-1001' }] }],
        containers: [
          { name: 'build', image: 'alpine:3.20', stdin: true, command: ['sh', '-c', 'if [ -x /usr/local/bin/bash ]; then exec /usr/local/bin/bash; fi'], env: [{ name: 'CI_JOB_ID', value: '1001' }, { name: 'FF_USE_POD_ACTIVE_DEADLINE_SECONDS', value: 'true' }],
            resources: { requests: { cpu: '500m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } },
            volumeMounts: [{ name: 'repo', mountPath: '/builds' }, { name: 'scripts', mountPath: '/scripts-42-1001' }, { name: 'logs', mountPath: '/logs-42-1001' }] },
          { name: 'helper', image: 'registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v19.4.0', stdin: true, volumeMounts: [{ name: 'repo', mountPath: '/builds' }] },
          { name: 'svc-0', image: 'postgres:16', stdin: true, ports: [{ containerPort: 5432 }] },
        ],
        volumes: [{ name: 'repo', emptyDir: {} }, { name: 'scripts', emptyDir: {} }, { name: 'logs', emptyDir: {} }],
        hostAliases: [{ ip: '127.0.0.1', hostnames: ['postgres', 'registry.example.com-group-svc'] }],
        imagePullSecrets: [{ name: 'runner-abcdefgh-project-42-concurrent-0-dockercfg' }],
        tolerations: [{ key: 'dedicated', value: 'ci', operator: 'Equal', effect: 'NoSchedule' }, { key: 'gpu', operator: 'Exists', effect: 'NoExecute' }],
        nodeSelector: { 'kubernetes.io/arch': 'amd64' }, dnsPolicy: 'ClusterFirst', securityContext: { runAsUser: 1000, fsGroup: 1000 },
      },
    }
    const r = await raw('POST', '/api/v1/namespaces/ci/pods?fieldValidation=Strict', JSON.stringify(runnerPod), { 'Content-Type': 'application/json' })
    expect(r.code).toBe(201)
    expect(r.headers.warning).toBeUndefined()
    const stored = JSON.parse(r.text)
    expect(stored.spec.containers.map((c: any) => c.name)).toEqual(['build', 'helper', 'svc-0'])
    expect(stored.spec.hostAliases).toEqual(runnerPod.spec.hostAliases)
    expect(stored.spec.tolerations.slice(0, 2)).toEqual(runnerPod.spec.tolerations)
    expect(stored.metadata.labels).toEqual(runnerPod.metadata.labels)
    expect(stored.status.qosClass).toBe('Burstable')
    const badLabels = await apiError(core(d.k8s).createNamespacedPod({ namespace: 'ci', body: { ...pod('labels'), metadata: { name: 'labels', labels: { 'bad key': 'v', ok: 'x'.repeat(64) } } } }))
    expect(badLabels.code).toBe(422)
    expect(badLabels.status.message).toContain(`metadata.labels: Invalid value: "bad key": name part must consist of alphanumeric characters`)
    expect(badLabels.status.message).toContain(`metadata.labels: Invalid value: "${'x'.repeat(64)}": must be no more than 63 characters`)
  })

  // client-node's ObjectSerializer drops fields its models do not know, so these go raw.
  it('unknown fields: dropped with a Warning header by default, 400 strict decoding error with fieldValidation=Strict', async () => {
    const body = pod('unknown-1')
    body.spec.containers[0].bogusField = 1
    body.spec.extra = true
    const warned = await raw('POST', '/api/v1/namespaces/ci/pods', JSON.stringify(body), { 'Content-Type': 'application/json' })
    expect(warned.code).toBe(201)
    expect(warned.headers.warning).toBe('299 - "unknown field \\"spec.containers[0].bogusField\\"", 299 - "unknown field \\"spec.extra\\""')
    expect(d.k8s.objects('pods', 'ci').find((p) => p.metadata.name === 'unknown-1').spec.extra).toBeUndefined()
    const strict = await raw('POST', '/api/v1/namespaces/ci/pods?fieldValidation=Strict', JSON.stringify({ ...body, metadata: { name: 'unknown-2' } }), { 'Content-Type': 'application/json' })
    expect(strict.code).toBe(400)
    expect(JSON.parse(strict.text).message).toBe('Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers[0].bogusField", unknown field "spec.extra"')
  })

  it('RBAC: 401 for an unknown token, 403 with the apiserver message forms, SSAR from the same table', async () => {
    expect((await apiError(core(d.k8s, 'wrong-token').listNamespacedPod({ namespace: 'ci' }))).code).toBe(401)
    const anon = await raw('GET', '/api/v1/namespaces/ci/pods', null, { Authorization: 'Bearer wrong-token' })
    expect(JSON.parse(anon.text)).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 })
    const runner = core(d.k8s, 'runner-token')
    expect((await runner.listNamespacedPod({ namespace: 'ci' })).items.length).toBeGreaterThan(0)
    const create = await apiError(runner.createNamespacedPod({ namespace: 'ci', body: pod('x') }))
    expect(create.code).toBe(403)
    expect(create.status).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'pods is forbidden: User "system:serviceaccount:ci:runner" cannot create resource "pods" in API group "" in the namespace "ci"',
      reason: 'Forbidden', details: { kind: 'pods' }, code: 403,
    })
    const del = await apiError(runner.deleteNamespacedPod({ namespace: 'ci', name: 'p-sa' }))
    expect(del.status.message).toBe('pods "p-sa" is forbidden: User "system:serviceaccount:ci:runner" cannot delete resource "pods" in API group "" in the namespace "ci"')
    const sa = await apiError(runner.readNamespacedServiceAccount({ namespace: 'ci', name: 'default' }))
    expect(sa.status.message).toBe('serviceaccounts "default" is forbidden: User "system:serviceaccount:ci:runner" cannot get resource "serviceaccounts" in API group "" in the namespace "ci"')
    const ns = await apiError(runner.createNamespace({ body: { metadata: { name: 'x' } } }))
    expect(ns.status.message).toBe('namespaces is forbidden: User "system:serviceaccount:ci:runner" cannot create resource "namespaces" in API group "" at the cluster scope')
    const authz = kubeConfig(d.k8s, 'runner-token').makeApiClient(AuthorizationV1Api)
    const review = (verb: string, resource: string, subresource?: string) => authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { namespace: 'ci', verb, resource, subresource } } } })
    expect((await review('get', 'pods')).status?.allowed).toBe(true)
    expect((await review('create', 'pods')).status?.allowed).toBe(false)
    expect((await review('get', 'pods', 'exec')).status?.allowed).toBe(false)
  })

  it('garbage-collects secrets and config maps owned by a deleted pod', async () => {
    const api = core(d.k8s)
    const owner = await api.createNamespacedPod({ namespace: 'ci', body: pod('owner') })
    const ref = [{ apiVersion: 'v1', kind: 'Pod', name: 'owner', uid: owner.metadata!.uid!, controller: true }]
    await api.createNamespacedSecret({ namespace: 'ci', body: { metadata: { name: 'owned-secret', ownerReferences: ref }, data: { a: 'YQ==' } } })
    await api.createNamespacedConfigMap({ namespace: 'ci', body: { metadata: { name: 'owned-cm', ownerReferences: ref }, data: { a: 'b' } } })
    await api.createNamespacedConfigMap({ namespace: 'ci', body: { metadata: { name: 'free-cm' }, data: { a: 'b' } } })
    await api.deleteNamespacedPod({ namespace: 'ci', name: 'owner', gracePeriodSeconds: 0 })
    await until(() => !d.k8s.objects('configmaps', 'ci').some((c) => c.metadata.name === 'owned-cm') && !d.k8s.objects('secrets', 'ci').some((c) => c.metadata.name === 'owned-secret'))
    expect(d.k8s.objects('configmaps', 'ci').map((c) => c.metadata.name)).toEqual(['free-cm'])
  })

  it('lists the kubelet\'s Events with the runner\'s field selector', async () => {
    const api = core(d.k8s)
    await until(() => d.k8s.objects('events', 'ci').some((e) => e.reason === 'Started' && e.involvedObject.name === 'p-sa'))
    const events = await api.listNamespacedEvent({ namespace: 'ci', fieldSelector: 'involvedObject.name=p-sa,type=Normal' })
    const started = events.items.find((e) => e.reason === 'Started')!
    expect(started.involvedObject).toMatchObject({ kind: 'Pod', name: 'p-sa', namespace: 'ci', fieldPath: 'spec.containers{build}' })
    expect(started.involvedObject.uid).toBe(d.k8s.objects('pods', 'ci').find((p) => p.metadata.name === 'p-sa').metadata.uid)
    expect(started).toMatchObject({ type: 'Normal', message: 'Started container build', source: { component: 'kubelet' }, count: 1 })
    expect(started.firstTimestamp).toBeInstanceOf(Date)
    expect((await api.listNamespacedEvent({ namespace: 'ci', fieldSelector: 'involvedObject.name=p-sa,type=Warning' })).items).toEqual([])
    const badField = await apiError(api.listNamespacedEvent({ namespace: 'ci', fieldSelector: 'spec.nope=1' }))
    expect([badField.code, badField.status.message]).toEqual([400, 'field label not supported: spec.nope'])
  })

  it('serves /version and discovery, records requests with the token redacted, and injects faults', async () => {
    const v = await raw('GET', '/version', null, {})
    expect(JSON.parse(v.text)).toMatchObject({ major: '1', minor: '33', gitVersion: 'v1.33.2' })
    expect(JSON.parse((await raw('GET', '/api/v1', null, {})).text).resources.map((r: any) => r.name)).toEqual(expect.arrayContaining(['pods', 'pods/exec', 'secrets', 'events']))
    const rec = d.k8s.requests.find((r) => r.path === '/api/v1')!
    expect([rec.headers.authorization, rec.status, rec.serviceAccount]).toEqual(['Bearer <redacted>', 200, 'kube-system:admin'])
    d.k8s.inject({ method: 'GET', path: /\/pods\/p-sa$/, status: 429, retryAfter: 2 })
    const limited = await apiError(core(d.k8s).readNamespacedPod({ namespace: 'ci', name: 'p-sa' }))
    expect([limited.code, limited.status.reason, limited.status.details.retryAfterSeconds, limited.headers['retry-after']]).toEqual([429, 'TooManyRequests', 2, '2'])
    expect((await core(d.k8s).readNamespacedPod({ namespace: 'ci', name: 'p-sa' })).metadata?.name).toBe('p-sa')
    d.k8s.inject({ path: /\/pods\/p-sa$/, delayMs: 400 })
    const slowStart = Date.now()
    expect((await core(d.k8s).readNamespacedPod({ namespace: 'ci', name: 'p-sa' })).metadata?.name).toBe('p-sa')
    expect(Date.now() - slowStart).toBeGreaterThanOrEqual(380)
    d.k8s.inject({ path: /\/pods\/p-sa$/, reset: true })
    await expect(core(d.k8s).readNamespacedPod({ namespace: 'ci', name: 'p-sa' })).rejects.toThrow(/ECONNRESET|socket hang up/)
  })
})

