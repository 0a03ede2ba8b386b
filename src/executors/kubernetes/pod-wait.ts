import { type CoreV1Api, type KubeConfig, type V1ContainerStatus, type V1Pod, Watch } from '@kubernetes/client-node'
import type { FailureReason } from '../../job/outcome.js'
import { ExecutorFailure } from '../failure.js'
import type { TraceOutput } from '../types.js'
import { apiErrorText, apiStatus } from './client.js'

export interface WaitOptions {
  api: CoreV1Api
  kc: KubeConfig
  namespace: string
  pod: string
  pollIntervalS: number
  pollTimeoutS: number
  out: TraceOutput
  signal: AbortSignal
}

const NETWORK = /dial tcp|connection refused|no such host|i\/o timeout|tls handshake|client\.timeout exceeded|request canceled|connection reset/i
const CONFIG = /not found|manifest unknown|pull access denied|access to the resource is denied|no basic auth credentials|repository does not exist or may require|unauthorized|authentication required/i

/** gitlab-runner's ClassifyImagePullFailure: which failure_reason a failed pull gets. */
export function classifyPullFailure(message: string): FailureReason {
  if (NETWORK.test(message)) return 'runner_external_dependency_failure' as FailureReason
  if (CONFIG.test(message)) return 'runner_configuration_error'
  return 'image_pull_failure'
}

const fail = (message: string, reason: FailureReason, hint?: string): ExecutorFailure =>
  new ExecutorFailure('GLRUN_K8S_POD', `prepare environment: waiting for pod running: ${message}`, reason, hint)

/** A container status that can never get better (gitlab-runner's CheckTerminalContainerErrors), as its error. */
export function terminalContainerError(statuses: readonly V1ContainerStatus[], images: ReadonlyMap<string, string>): ExecutorFailure | undefined {
  for (const s of statuses) {
    const w = s.state?.waiting
    if (!w?.reason) continue
    const msg = w.message ?? ''
    switch (w.reason) {
      case 'ErrImagePull':
      case 'ImagePullBackOff':
        return fail(`pulling image "${images.get(s.name) ?? s.image}" for container ${s.name}: image pull failed: ${msg}`, classifyPullFailure(msg),
          'The cluster\'s node could not pull the image: check the name and tag, the registry\'s address from the node (egress, proxy, DNS), and imagePullSecrets for a private registry.')
      case 'ErrImageNeverPull':
      case 'InvalidImageName':
        return fail(`image pull failed: ${msg}`, 'runner_configuration_error')
      case 'CrashLoopBackOff': {
        const last = s.lastState?.terminated
        return fail(`container "${s.name}" is in CrashLoopBackOff: ${msg}${last ? `: ${last.message ?? `exit code ${last.exitCode}`}` : ''}`, 'runner_configuration_error')
      }
      case 'CreateContainerConfigError':
        return fail(`container configuration error: ${msg}`, 'runner_configuration_error')
    }
  }
  return undefined
}

/** What one look at the pod says: running (with the node's name), still waiting, or failed. */
function assess(pod: V1Pod, images: ReadonlyMap<string, string>, needed: readonly string[]): 'running' | 'waiting' | ExecutorFailure {
  const st = pod.status
  const phase = st?.phase ?? 'Pending'
  if (phase === 'Succeeded') return fail('pod already succeeded before it begins running', 'runner_system_failure')
  if (phase === 'Failed') return fail(`pod status is failed${st?.reason ? `: ${st.reason}${st.message ? `: ${st.message}` : ''}` : ''}`, 'runner_system_failure')
  const terminal = terminalContainerError([...(st?.initContainerStatuses ?? []), ...(st?.containerStatuses ?? [])], images)
  if (terminal) return terminal
  if (phase !== 'Running') return 'waiting'
  const ready = (name: string): boolean => st?.containerStatuses?.find((c) => c.name === name)?.ready === true
  return needed.every(ready) ? 'running' : 'waiting'
}

/**
 * Waits until the pod runs with build and helper ready, as gitlab-runner's waitForPodRunning:
 * a look every poll_interval seconds (each unsuccessful one says so in the job log, with the
 * pod's conditions), up to poll_timeout; a container that can never start (ErrImagePull,
 * ImagePullBackOff, …) fails at the first look that sees it. A watch on the pod wakes the loop
 * as soon as its status changes, so a pod that starts in 300 ms is not waited on for 3 s; the
 * log lines stay on the poll_interval beat. Without watch permission the polls alone do it.
 */
export async function waitForPodRunning(o: WaitOptions, images: ReadonlyMap<string, string>, needed: readonly string[] = ['build', 'helper']): Promise<void> {
  const started = Date.now()
  let wake: (() => void) | undefined
  let stopWatch: AbortController | undefined
  new Watch(o.kc).watch(`/api/v1/namespaces/${o.namespace}/pods`, { fieldSelector: `metadata.name=${o.pod}`, timeoutSeconds: Math.max(1, o.pollTimeoutS) }, () => wake?.(), () => undefined)
    .then((c) => { stopWatch = c }, () => undefined)
  let nextLog = started + o.pollIntervalS * 1000
  try {
    for (;;) {
      if (o.signal.aborted) throw new ExecutorFailure('GLRUN_K8S_CANCELED', 'prepare environment: canceled while waiting for the pod', 'runner_system_failure')
      let pod: V1Pod
      try {
        pod = await o.api.readNamespacedPod({ name: o.pod, namespace: o.namespace })
      } catch (e) {
        const s = apiStatus(e)
        throw fail(`getting pod ${o.namespace}/${o.pod}: ${apiErrorText(e)}`, s?.code === 403 ? 'runner_configuration_error' : 'runner_system_failure')
      }
      const verdict = assess(pod, images, needed)
      if (verdict === 'running') return
      if (verdict instanceof ExecutorFailure) throw verdict
      const now = Date.now()
      if (now - started >= o.pollTimeoutS * 1000) {
        throw fail(`timed out waiting for pod to start (last phase: ${pod.status?.phase ?? 'Pending'})`, 'runner_system_failure',
          `The pod did not start within poll_timeout (${o.pollTimeoutS} s). The conditions above say why; raise poll_timeout in [runners.kubernetes] if the cluster is only slow.`)
      }
      if (now >= nextLog) {
        nextLog += o.pollIntervalS * 1000
        waitingLines(pod, o)
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, Math.max(10, Math.min(nextLog, started + o.pollTimeoutS * 1000) - Date.now()))
        function done(): void {
          clearTimeout(t)
          wake = undefined
          o.signal.removeEventListener('abort', done)
          resolve()
        }
        wake = done
        o.signal.addEventListener('abort', done, { once: true })
      })
    }
  } finally {
    stopWatch?.abort()
  }
}

function waitingLines(pod: V1Pod, o: WaitOptions): void {
  const node = pod.spec?.nodeName || '<unknown>'
  o.out.write(`Waiting for pod ${o.namespace}/${o.pod} to be running on the node ${node}, status is ${pod.status?.phase ?? 'Pending'}\n`)
  for (const c of pod.status?.conditions ?? []) {
    if (c.reason) o.out.write(`\t${c.reason}: "${c.message ?? ''}"\n`)
  }
}
