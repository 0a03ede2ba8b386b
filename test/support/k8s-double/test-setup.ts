import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node'
import { type K8sDouble, type K8sDoubleOptions, startK8sDouble } from './server.js'
import { ShKubelet } from './sh-kubelet.js'

/** The double on a fresh directory with the shell kubelet, for the double's own tests. */
export async function startTestDouble(opts: Omit<K8sDoubleOptions, 'kubelet'> = {}, kubeletStartMs = 30): Promise<{ k8s: K8sDouble; kubelet: ShKubelet; dir: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-double-test-'))
  const kubelet = new ShKubelet(kubeletStartMs)
  const k8s = await startK8sDouble(dir, { ...opts, kubelet })
  return {
    k8s, kubelet, dir,
    async stop() { await k8s.close(); await kubelet.close(); rmSync(dir, { recursive: true, force: true }) },
  }
}

/** A client-node KubeConfig as §2.2 of the reference makes one: CA data + bearer token. */
export function kubeConfig(k8s: K8sDouble, token: string, namespace = 'default'): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [{ name: 'double', server: k8s.url, caData: Buffer.from(k8s.caPem).toString('base64'), skipTLSVerify: false }],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'double', cluster: 'double', user: 'u', namespace }],
    currentContext: 'double',
  })
  return kc
}

export function core(k8s: K8sDouble, token = 'admin-token'): CoreV1Api {
  return kubeConfig(k8s, token).makeApiClient(CoreV1Api)
}

/** The ApiException's code and parsed Status body of a failing call. */
export async function apiError(p: Promise<unknown>): Promise<{ code: number; status: any; headers: Record<string, string> }> {
  try {
    await p
  } catch (e) {
    const x = e as { code?: number; body?: unknown; headers?: Record<string, string> }
    if (typeof x.code !== 'number') throw e
    return { code: x.code, status: typeof x.body === 'string' ? JSON.parse(x.body) : x.body, headers: x.headers ?? {} }
  }
  throw new Error('expected the call to fail')
}

export async function until<T>(f: () => T | undefined | false, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = f()
    if (v) return v
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}

export const pod = (name: string, extra: Record<string, any> = {}): any => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'glrun', job: '1' } },
  spec: { restartPolicy: 'Never', containers: [{ name: 'build', image: 'busybox:1.36', stdin: true }], ...extra },
})
