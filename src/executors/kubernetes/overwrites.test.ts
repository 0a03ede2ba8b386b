import { KubeConfig } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'
import { ExecutorFailure } from '../failure.js'
import { withBearerToken } from './client.js'
import { kubernetesOptions } from './options.js'
import { applyOverwrites, compareQuantities } from './overwrites.js'

const opts = (raw: Record<string, unknown>) => kubernetesOptions({ raw: { namespace: 'ci', ...raw }, pullPolicy: [], hostAliases: [], pollInterval: 3, pollTimeout: 180, imagePullSecrets: [] })
const job = (vars: Record<string, string>) => ({ variables: Object.entries(vars).map(([key, value]) => ({ key, value, public: true })) })
const refusal = (f: () => unknown): string => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(ExecutorFailure)
    expect((e as ExecutorFailure).failureReason).toBe('runner_configuration_error')
    return (e as Error).message
  }
  throw new Error('no refusal')
}

describe('kubernetes overwrites (gitlab-runner overwrites.go)', () => {
  it('namespace and service account: used when the *_overwrite_allowed regex matches, with gitlab-runner\'s lines', () => {
    const o = applyOverwrites(opts({ namespace_overwrite_allowed: 'ci-.*', service_account_overwrite_allowed: '^deployer$' }), job({ KUBERNETES_NAMESPACE_OVERWRITE: 'ci-$CI_COMMIT_REF_SLUG', CI_COMMIT_REF_SLUG: 'main', KUBERNETES_SERVICE_ACCOUNT_OVERWRITE: 'deployer' }))
    expect(o.opts.namespace).toBe('ci-main')
    expect(o.opts.serviceAccount).toBe('deployer')
    expect(o.lines).toEqual(['"Namespace" overwritten with "ci-main"', '"ServiceAccount" overwritten with "deployer"'])
  })

  it('the regex is searched, not anchored (Go MatchString): "ci-.*" allows "my-ci-x"; a value it does not match fails the job', () => {
    expect(applyOverwrites(opts({ namespace_overwrite_allowed: 'ci-.*' }), job({ KUBERNETES_NAMESPACE_OVERWRITE: 'my-ci-x' })).opts.namespace).toBe('my-ci-x')
    expect(refusal(() => applyOverwrites(opts({ namespace_overwrite_allowed: '^ci-.*' }), job({ KUBERNETES_NAMESPACE_OVERWRITE: 'prod' }))))
      .toBe('couldn\'t prepare overwrites: provided value "prod" does not match "^ci-.*"')
  })

  it('a regular expression in config.toml that does not compile is config.toml\'s mistake, and the hint says so', () => {
    try {
      applyOverwrites(opts({ namespace_overwrite_allowed: 'ci-(' }), job({ KUBERNETES_NAMESPACE_OVERWRITE: 'ci-x' }))
      throw new Error('no refusal')
    } catch (e) {
      expect((e as Error).message).toMatch(/^couldn't prepare overwrites: error parsing regexp "ci-\("/)
      expect((e as ExecutorFailure).hint).toContain('Fix the regular expression of the *_overwrite_allowed key')
    }
  })

  it('without *_overwrite_allowed the variable is ignored (gitlab-runner: "disabling override")', () => {
    const o = applyOverwrites(opts({}), job({ KUBERNETES_NAMESPACE_OVERWRITE: 'prod', KUBERNETES_POD_LABELS_1: 'a=b', KUBERNETES_MEMORY_LIMIT: '64Gi', KUBERNETES_BEARER_TOKEN: 't' }))
    expect(o.opts.namespace).toBe('ci')
    expect(o.opts.podLabels).toEqual({})
    expect(o.opts.build).toEqual({})
    expect(o.bearerToken).toBeUndefined()
    expect(o.lines).toEqual([])
  })

  it('labels, annotations, node selector and tolerations: every variable of the prefix, each checked against the regex', () => {
    const o = applyOverwrites(opts({ pod_labels: { team: 'a', keep: 'x' }, pod_labels_overwrite_allowed: '.*', pod_annotations_overwrite_allowed: '^example\\.com/', node_selector_overwrite_allowed: '.*', node_tolerations_overwrite_allowed: '.*' }),
      job({ KUBERNETES_POD_LABELS_1: 'team=b', KUBERNETES_POD_LABELS_2: 'x=y=z', KUBERNETES_POD_ANNOTATIONS_1: 'example.com/owner=me', KUBERNETES_NODE_SELECTOR_ARCH: 'kubernetes.io/arch=arm64', KUBERNETES_NODE_TOLERATIONS_1: 'dedicated=ci:NoSchedule', KUBERNETES_NODE_TOLERATIONS_2: 'gpu' }))
    expect(o.opts.podLabels).toEqual({ team: 'b', keep: 'x', x: 'y=z' })
    expect(o.opts.podAnnotations).toEqual({ 'example.com/owner': 'me' })
    expect(o.opts.nodeSelector).toEqual({ 'kubernetes.io/arch': 'arm64' })
    expect(o.opts.nodeTolerations).toEqual({ 'dedicated=ci': 'NoSchedule', gpu: '' })
    expect(o.lines).toContain('"PodLabels" "team" overwritten with "b"')
    expect(refusal(() => applyOverwrites(opts({ pod_annotations_overwrite_allowed: '^example\\.com/' }), job({ KUBERNETES_POD_ANNOTATIONS_1: 'other.io/x=1' }))))
      .toBe('couldn\'t prepare overwrites: provided value "other.io/x=1" does not match "^example\\\\.com/"')
    expect(refusal(() => applyOverwrites(opts({ pod_labels_overwrite_allowed: '.*' }), job({ KUBERNETES_POD_LABELS_1: 'novalue' }))))
      .toBe('couldn\'t prepare overwrites: provided value "novalue" does not match "k=v"')
  })

  it('resources: up to the *_overwrite_max_allowed quantity for build, helper and service; above it the job fails', () => {
    const o = applyOverwrites(opts({ memory_limit: '1Gi', memory_limit_overwrite_max_allowed: '4Gi', cpu_request_overwrite_max_allowed: '2', helper_memory_request_overwrite_max_allowed: '512Mi', service_cpu_limit_overwrite_max_allowed: '500m' }),
      job({ KUBERNETES_MEMORY_LIMIT: '4096Mi', KUBERNETES_CPU_REQUEST: '1500m', KUBERNETES_HELPER_MEMORY_REQUEST: '256Mi', KUBERNETES_SERVICE_CPU_LIMIT: '0.5', KUBERNETES_HELPER_CPU_LIMIT: '8' }))
    expect(o.opts.build).toEqual({ memoryLimit: '4096Mi', cpuRequest: '1500m' })
    expect(o.opts.helper).toEqual({ memoryRequest: '256Mi' })
    expect(o.opts.service).toEqual({ cpuLimit: '0.5' })
    expect(o.lines).toEqual(['"CPURequest" overwritten with "1500m"', '"MemoryLimit" overwritten with "4096Mi"', '"ServiceCPULimit" overwritten with "0.5"', '"HelperMemoryRequest" overwritten with "256Mi"'])
    expect(refusal(() => applyOverwrites(opts({ memory_limit_overwrite_max_allowed: '4Gi' }), job({ KUBERNETES_MEMORY_LIMIT: '5G' }))))
      .toBe('couldn\'t prepare overwrites: invalid build limits specified: the resource "MemoryLimit" requested "5G" is higher than limit allowed "4Gi"')
    expect(refusal(() => applyOverwrites(opts({ helper_cpu_request_overwrite_max_allowed: '1' }), job({ KUBERNETES_HELPER_CPU_REQUEST: 'lots' }))))
      .toMatch(/^couldn't prepare overwrites: invalid helper requests specified: parsing resource limit: "quantities must match/)
  })

  it('a service\'s own KUBERNETES_SERVICE_* variables set that service alone, bounded by the service maxima', () => {
    const o = opts({ service_memory_limit: '256Mi', service_memory_limit_overwrite_max_allowed: '1Gi' })
    const j = { ...job({ KUBERNETES_SERVICE_MEMORY_LIMIT: '512Mi' }), services: [{ name: 'postgres:16' }, { name: 'redis:7', variables: [{ key: 'KUBERNETES_SERVICE_MEMORY_LIMIT', value: '768Mi', public: true }] }] }
    const r = applyOverwrites(o, j)
    expect(r.opts.service.memoryLimit).toBe('512Mi')
    expect(r.opts.jobServiceResources).toEqual({ 1: { memoryLimit: '768Mi' } })
    expect(refusal(() => applyOverwrites(o, { ...j, services: [{ name: 'redis:7', variables: [{ key: 'KUBERNETES_SERVICE_MEMORY_LIMIT', value: '2Gi', public: true }] }] })))
      .toBe('couldn\'t prepare explicit service overwrites: invalid service limits specified: the resource "ServiceMemoryLimit" requested "2Gi" is higher than limit allowed "1Gi"')
  })

  it('namespace_per_job: ci-job-<id>, with the local session when one is given (local job ids restart at 1)', () => {
    expect(applyOverwrites(opts({ namespace_per_job: true }), { ...job({}), id: 77 }).opts.namespace).toBe('ci-job-77')
    expect(applyOverwrites(opts({ namespace_per_job: true }), { ...job({}), id: 1 }, 'a1b2c3d4').opts.namespace).toBe('ci-job-1-a1b2c3d4')
  })

  it('the bearer token only with bearer_token_overwrite_allowed, never shown', () => {
    const o = applyOverwrites(opts({ bearer_token_overwrite_allowed: true }), job({ KUBERNETES_BEARER_TOKEN: 'secret-token' }))
    expect(o.bearerToken).toBe('secret-token')
    expect(o.lines).toEqual(['"BearerToken" overwritten with "XXXXXXXX..."'])
    const kc = new KubeConfig()
    kc.loadFromOptions({ clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: false }], users: [{ name: 'u', token: 'runner-token' }], contexts: [{ name: 'x', cluster: 'c', user: 'u', namespace: 'ci' }], currentContext: 'x' })
    const own = withBearerToken(kc, 'secret-token')
    expect(own.getCurrentUser()?.token).toBe('secret-token')
    expect(own.getCurrentCluster()?.server).toBe('https://127.0.0.1:1')
    expect(kc.getCurrentUser()?.token).toBe('runner-token')
  })

  it('quantities compare as Kubernetes does', () => {
    expect(compareQuantities('1Gi', '1073741824')).toBe(0)
    expect(compareQuantities('1500m', '1.5')).toBe(0)
    expect(compareQuantities('1e3', '1k')).toBe(0)
    expect(compareQuantities('2k', '2Ki')).toBe(-1)
    // Exactly, not in floating point: 700m is 0.7, not more.
    expect(compareQuantities('700m', '0.7')).toBe(0)
    expect(compareQuantities('0.30000000000000004', '300m')).toBe(1)
    expect(() => compareQuantities(' 512Mi', '1Gi')).toThrow(/quantities must match/)
    // A job variable cannot make glrun compute a number with millions of digits.
    const t0 = Date.now()
    expect(refusal(() => applyOverwrites(opts({ cpu_limit_overwrite_max_allowed: '2' }), job({ KUBERNETES_CPU_LIMIT: '1e50000000' })))).toMatch(/quantity is too great/)
    expect(refusal(() => applyOverwrites(opts({ cpu_limit_overwrite_max_allowed: '2' }), job({ KUBERNETES_CPU_LIMIT: '1e9999999999' })))).toMatch(/quantity is too great/)
    expect(Date.now() - t0).toBeLessThan(1000)
    expect(applyOverwrites(opts({ cpu_limit_overwrite_max_allowed: '0.7' }), job({ KUBERNETES_CPU_LIMIT: '700m' })).opts.build).toEqual({ cpuLimit: '700m' })
  })
})
