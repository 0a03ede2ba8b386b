import { PassThrough } from 'node:stream'
import type { V1Pod } from '@kubernetes/client-node'
import type { ProbeResult } from '../../diagnose/types.js'
import type { JobPayload } from '../../payload/types.js'
import { RESOLVE_SCRIPT, interpretResolve } from '../docker/resolve-probe.js'
import { execInPod } from './exec-socket.js'
import type { SessionDeps } from './pod-session.js'
import { KEEP_ALIVE, buildPod } from './pod-spec.js'
import { waitForPodRunning } from './pod-wait.js'

/**
 * Name resolution as the job's pod sees it: a throw-away pod with the job pod's DNS policy, DNS
 * config and host aliases (and node selector, tolerations, pull secrets: it lands where the job
 * would), one container from the job's image, asked to resolve `host`. Why a pod and not the
 * runner's own lookup: in S1 the runner resolves gitlab.mylab.com and the job pod does not.
 */
export async function resolveFromPod(d: SessionDeps, job: JobPayload, image: string, host: string, timeoutS = 30): Promise<ProbeResult> {
  const inconclusive = (why: string): ProbeResult => ({ kind: 'dns', target: host, from: 'job', ok: false, summary: `could not check from a job pod: ${why}`, detail: { inconclusive: true } })
  const name = `${d.id.name.slice(0, 57)}-probe`
  const full = buildPod(job, d.opts, { ...d.id, name }, image, d.helperImage).pod as { metadata: Record<string, unknown>; spec: Record<string, unknown> & { containers: Record<string, unknown>[] } }
  const build = full.spec.containers[0]!
  // No volumes and no init container (the attach strategy's init-permissions mounts them).
  const { initContainers: _init, ...spec } = full.spec
  const pod = {
    apiVersion: 'v1', kind: 'Pod', metadata: full.metadata,
    spec: { ...spec, activeDeadlineSeconds: timeoutS * 4, volumes: [], containers: [{ name: 'build', image: build['image'], ...(build['imagePullPolicy'] ? { imagePullPolicy: build['imagePullPolicy'] } : {}), command: ['sh', '-c', KEEP_ALIVE] }] },
  }
  const quiet = { write: () => undefined }
  let made = false
  try {
    await d.api.createNamespacedPod({ namespace: d.opts.namespace, body: pod as V1Pod })
    made = true
    const ctl = new AbortController()
    const t = setTimeout(() => ctl.abort(), timeoutS * 1000)
    try {
      // build only: the probe pod has no helper container.
      await waitForPodRunning({ api: d.api, kc: d.kc, namespace: d.opts.namespace, pod: name, pollIntervalS: d.opts.pollIntervalS, pollTimeoutS: timeoutS, out: quiet, signal: ctl.signal }, new Map([['build', image]]), ['build'])
    } finally {
      clearTimeout(t)
    }
    let output = ''
    const sink = new PassThrough().on('data', (b: Buffer) => { output += b.toString() })
    const end = await execInPod(d.kc, d.opts.namespace, name, 'build', ['sh', '-c', RESOLVE_SCRIPT, 'probe', host], { stdout: sink, stderr: sink })
    if (end.kind === 'error') return inconclusive(end.message)
    const where = `a job pod (${image}, namespace ${d.opts.namespace}${d.opts.dnsPolicy ? `, dns_policy ${d.opts.dnsPolicy}` : ''})`
    return interpretResolve(host, image, output.replace(/\r/g, ''), where, '[[runners.kubernetes.host_aliases]]')
  } catch (e) {
    return inconclusive((e as Error).message.split('\n')[0] ?? String(e))
  } finally {
    if (made) await d.api.deleteNamespacedPod({ name, namespace: d.opts.namespace, gracePeriodSeconds: 0 }).catch(() => undefined)
  }
}
