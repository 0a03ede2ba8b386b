import type Dockerode from 'dockerode'
import type { PodEvent } from './kubelet.js'
import { type PullPolicy, localImage, pullCredentials, pullImage, pullPolicyOf, pullTexts } from './pod-images.js'
import type { ContainerRun } from './pod-status.js'

/**
 * The kubelet's image manager for one pod's container: use a present image, refuse under
 * Never, or pull — and on failure ErrImagePull, then ImagePullBackOff until the doubling
 * back-off has passed, then pull again.
 */

export type PullOutcome = 'ok' | 'never' | { error: string }

/** What the image manager needs from the kubelet for one pod. */
export interface PullHost {
  docker: Dockerode
  pullMessages: 'pre-1.32' | '1.32'
  backoff(previous?: number): number
  /** Resolves after `ms`, or at once when the pod is being removed. */
  sleep(ms: number): Promise<void>
  /** The pod is being removed or has failed: stop trying. */
  halted(): boolean
  publish(): void
  event(e: PodEvent, c?: ContainerRun): void
  /** The pod's imagePullSecrets and what the API holds for each. */
  pullSecrets(): { name: string; secret: Record<string, unknown> | undefined }[]
}

/** Pulls until it works; false when it never will (Never) or the pod stops. */
export async function ensureImage(h: PullHost, c: ContainerRun, spec: { image: string; imagePullPolicy?: string }, first?: PullOutcome): Promise<boolean> {
  let outcome = first ?? (await pullOnce(h, c, spec))
  for (let delay = h.backoff(); ; delay = h.backoff(delay)) {
    if (outcome === 'ok') return true
    if (outcome === 'never' || h.halted()) return false
    // The kubelet's next sync, a moment later, finds the image in back-off.
    const shown = Math.min(delay / 2, 1000)
    await h.sleep(shown)
    if (h.halted()) return false
    const short = pullTexts.backOff(spec.image)
    // Since 1.32 the waiting message carries the last pull error (kubernetes/kubernetes#127918).
    c.state = { waiting: { reason: 'ImagePullBackOff', message: h.pullMessages === 'pre-1.32' ? short : `${short}: ErrImagePull: ${outcome.error}` } }
    h.publish()
    h.event({ type: 'Normal', reason: 'BackOff', message: short }, c)
    h.event({ type: 'Warning', reason: 'Failed', message: 'Error: ImagePullBackOff' }, c)
    await h.sleep(delay - shown)
    if (h.halted()) return false
    outcome = await pullOnce(h, c, spec)
  }
}

/** One pass of the image manager for a container: use, refuse or pull its image. */
export async function pullOnce(h: PullHost, c: ContainerRun, spec: { image: string; imagePullPolicy?: string }): Promise<PullOutcome> {
  const policy: PullPolicy = pullPolicyOf(spec)
  const local = await localImage(h.docker, spec.image)
  if (local && policy !== 'Always') {
    c.imageID = local.imageID
    h.event({ type: 'Normal', reason: 'Pulled', message: pullTexts.present(spec.image) }, c)
    return 'ok'
  }
  if (policy === 'Never') {
    const msg = pullTexts.neverPull(spec.image)
    c.state = { waiting: { reason: 'ErrImageNeverPull', message: msg } }
    h.publish()
    h.event({ type: 'Warning', reason: 'ErrImageNeverPull', message: msg }, c)
    h.event({ type: 'Warning', reason: 'Failed', message: 'Error: ErrImageNeverPull' }, c)
    return 'never'
  }
  h.event({ type: 'Normal', reason: 'Pulling', message: pullTexts.pulling(spec.image) }, c)
  const started = Date.now()
  try {
    await pullImage(h.docker, spec.image, credentials(h))
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e)
    h.event({ type: 'Warning', reason: 'Failed', message: pullTexts.failed(spec.image, error) }, c)
    c.state = { waiting: { reason: 'ErrImagePull', message: error } }
    h.publish()
    h.event({ type: 'Warning', reason: 'Failed', message: 'Error: ErrImagePull' }, c)
    return { error }
  }
  const pulled = await localImage(h.docker, spec.image)
  c.imageID = pulled?.imageID ?? ''
  h.event({ type: 'Normal', reason: 'Pulled', message: pullTexts.pulled(spec.image, Date.now() - started, pulled?.size ?? 0) }, c)
  return 'ok'
}

function credentials(h: PullHost): ReturnType<typeof pullCredentials> {
  const secrets = h.pullSecrets()
  const missing = secrets.filter((s) => !s.secret).map((s) => s.name)
  if (missing.length > 0) h.event({ type: 'Warning', reason: 'FailedToRetrieveImagePullSecret', message: `Unable to retrieve some image pull secrets (${missing.join(', ')}); attempting to pull the image may not succeed.` })
  return pullCredentials(secrets.flatMap((s) => (s.secret ? [s.secret as { type?: string; data?: Record<string, string> }] : [])))
}
