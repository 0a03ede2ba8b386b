import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type Dockerode from 'dockerode'
import { connectEngine } from '../../src/executors/docker/engine.js'
import { KubernetesExecutor } from '../../src/executors/kubernetes/kubernetes-executor.js'
import { type KubernetesOptions, kubernetesOptions } from '../../src/executors/kubernetes/options.js'
import { TEST_DOCKER_HOST, docker } from './docker-env.js'
import { DockerKubelet, type DockerKubeletOptions } from './k8s-double/docker-kubelet.js'
import { type K8sDouble, type K8sDoubleOptions, startK8sDouble } from './k8s-double/server.js'

/**
 * A "cluster" for the kubernetes executor's tests: the API double (HTTPS, tokens, RBAC, real
 * schema) with its node on the test Docker engine, pods on a Docker network of their own.
 * `executor()` makes a KubernetesExecutor configured as config.toml would ([runners.kubernetes]
 * host, ca_file, bearer_token, namespace), so the code under test goes through the real client.
 */
export interface K8sEnv {
  double: K8sDouble
  kubelet: DockerKubelet
  engine: Dockerode
  /** The Docker network the pods are on (tests start servers there to be reached by address). */
  network: string
  namespace: string
  /** [runners.kubernetes] as TOML keys (host, ca_file, bearer_token, namespace, images, poll_interval). */
  raw(extra?: Record<string, unknown>, token?: string): Record<string, unknown>
  options(extra?: Record<string, unknown>, token?: string): KubernetesOptions
  /** `featureFlags`: [runners.feature_flags], e.g. the legacy exec strategy. */
  executor(extra?: Record<string, unknown>, token?: string, featureFlags?: Record<string, boolean>): KubernetesExecutor
  /** Waits until the double has no pod and the engine no container of a pod left. */
  settled(timeoutMs?: number): Promise<{ pods: number; containers: number }>
  close(): Promise<void>
}

export const ADMIN_TOKEN = 'admin-token'

export async function startK8sEnv(o: { namespace?: string; kubelet?: Partial<DockerKubeletOptions>; double?: Partial<K8sDoubleOptions> } = {}): Promise<K8sEnv> {
  const namespace = o.namespace ?? 'ci'
  const dir = mkdtempSync(join(tmpdir(), 'glrun-k8s-env-'))
  const network = `glrun-k8s-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
  const label = `glrun.k8s-env=${network}`
  docker('network', 'create', '--label', label, network)
  const engine = await connectEngine({ host: TEST_DOCKER_HOST })
  const kubelet = new DockerKubelet({ docker: engine, network, pullBackoffMs: 300, label, ...o.kubelet })
  const double = await startK8sDouble(join(dir, 'double'), { kubelet, namespaces: ['default', namespace], ...o.double })
  const raw = (extra: Record<string, unknown> = {}, token = ADMIN_TOKEN): Record<string, unknown> => ({
    host: double.url, ca_file: double.caPath, bearer_token: token, namespace,
    image: 'busybox:latest', helper_image: 'glrun-test/tools:latest', pull_policy: ['if-not-present'], poll_interval: 1, poll_timeout: 60,
    ...extra,
  })
  const options = (extra?: Record<string, unknown>, token?: string, featureFlags?: Record<string, boolean>): KubernetesOptions => {
    const r = raw(extra, token)
    return kubernetesOptions({ raw: r, pullPolicy: (r['pull_policy'] as never) ?? [], hostAliases: (r['host_aliases'] as never) ?? [], pollInterval: 1, pollTimeout: 60, imagePullSecrets: [] }, featureFlags)
  }
  const containersLeft = (): number => docker('ps', '-aq', '--filter', `label=${label}`).trim().split('\n').filter(Boolean).length
  return {
    double, kubelet, engine, network, namespace, raw, options,
    executor: (extra, token, featureFlags) => new KubernetesExecutor(options(extra, token, featureFlags)),
    async settled(timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs
      for (;;) {
        const pods = double.objects('pods').length
        const containers = containersLeft()
        if ((pods === 0 && containers === 0) || Date.now() > until) return { pods, containers }
        await new Promise((r) => setTimeout(r, 200))
      }
    },
    async close() {
      await double.close().catch(() => undefined)
      await kubelet.close().catch(() => undefined)
      try { docker('network', 'rm', network) } catch { /* already gone */ }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
