import type Dockerode from 'dockerode'
import { parseImageRef, withDefaultTag } from '../../../src/executors/docker/image-ref.js'
import { type RegistryAuth, authFor } from '../../../src/executors/docker/registry-auth.js'

/**
 * Images as the kubelet handles them on a Docker node: the pull policy Kubernetes defaults, the
 * credentials of the pod's imagePullSecrets, pulls through the engine with errors worded as
 * cri-dockerd hands them to the kubelet, and the kubelet's event texts.
 */

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never'

/** The API server's default: Always for `:latest` or no tag (and no digest), else IfNotPresent. */
export function pullPolicyOf(c: { image: string; imagePullPolicy?: string }): PullPolicy {
  if (c.imagePullPolicy === 'Always' || c.imagePullPolicy === 'IfNotPresent' || c.imagePullPolicy === 'Never') return c.imagePullPolicy
  const ref = parseImageRef(c.image)
  if (ref?.digest) return 'IfNotPresent'
  return !ref?.tag || ref.tag === 'latest' ? 'Always' : 'IfNotPresent'
}

export interface LocalImage {
  id: string
  /** docker-pullable://repo@sha256:… when the image came from a registry, else docker://sha256:… */
  imageID: string
  size: number
}

export async function localImage(docker: Dockerode, image: string): Promise<LocalImage | undefined> {
  try {
    const info = await docker.getImage(withDefaultTag(image)).inspect()
    const digest = info.RepoDigests?.[0]
    return { id: info.Id, imageID: digest ? `docker-pullable://${digest}` : `docker://${info.Id}`, size: info.Size }
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return undefined
    throw e
  }
}

/** The image's USER ("" when it runs as root by default). */
export async function imageUser(docker: Dockerode, image: string): Promise<string> {
  const info = (await docker.getImage(withDefaultTag(image)).inspect()) as { Config?: { User?: string } }
  return info.Config?.User ?? ''
}

/** A Secret the pod names in imagePullSecrets, as stored by the API double. */
type SecretObject = { type?: string; data?: Record<string, string> }

/** Registry credentials from kubernetes.io/dockerconfigjson and kubernetes.io/dockercfg secrets. */
export function pullCredentials(secrets: SecretObject[]): RegistryAuth[] {
  const out: RegistryAuth[] = []
  for (const s of secrets) {
    const key = s.type === 'kubernetes.io/dockercfg' ? '.dockercfg' : '.dockerconfigjson'
    const raw = s.data?.[key]
    if (!raw) continue
    let doc: Record<string, unknown>
    try {
      doc = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as Record<string, unknown>
    } catch {
      continue
    }
    const auths = (key === '.dockercfg' ? doc : doc.auths ?? {}) as Record<string, { auth?: string; username?: string; password?: string }>
    for (const [registry, a] of Object.entries(auths)) {
      let { username, password } = a
      if ((!username || !password) && a.auth) {
        const plain = Buffer.from(a.auth, 'base64').toString('utf8')
        const i = plain.indexOf(':')
        if (i > 0) [username, password] = [plain.slice(0, i), plain.slice(i + 1)]
      }
      if (username && password) out.push({ registry, username, password, source: 'imagePullSecrets' })
    }
  }
  return out
}

/**
 * Pulls `image` through the engine; throws with the message the kubelet gets from cri-dockerd
 * (`rpc error: code = Unknown desc = Error response from daemon: …`).
 */
export async function pullImage(docker: Dockerode, image: string, creds: RegistryAuth[]): Promise<void> {
  const ref = parseImageRef(image)
  const auth = ref ? authFor(ref.registry, creds) : undefined
  const opts = auth ? { authconfig: { username: auth.username, password: auth.password, serveraddress: auth.registry } } : {}
  const fail = (text: string): Error => new Error(`rpc error: code = Unknown desc = Error response from daemon: ${text}`)
  const stream = await docker.pull(withDefaultTag(image), opts).catch((e: unknown) => {
    throw fail(engineMessage(e))
  })
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, events: { error?: string; errorDetail?: { message?: string } }[]) => {
      const failed = events?.find((ev) => ev.error || ev.errorDetail)
      if (err) reject(fail(engineMessage(err)))
      else if (failed) reject(fail(failed.errorDetail?.message ?? failed.error ?? 'pull failed'))
      else resolve()
    })
  })
}

/** dockerode wraps the engine's text as "(HTTP code 500) server error - <text>"; the JSON body has it plain. */
function engineMessage(e: unknown): string {
  const j = (e as { json?: { message?: string } }).json
  if (j?.message) return j.message
  const m = e instanceof Error ? e.message : String(e)
  return m.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim()
}

/** Go's time.Duration formatting after Truncate(time.Millisecond): 1.234s, 523ms, 2m3.5s. */
export function goDuration(ms: number): string {
  const t = Math.floor(ms)
  if (t === 0) return '0s'
  if (t < 1000) return `${t}ms`
  const trim = (n: number): string => n.toFixed(3).replace(/\.?0+$/, '')
  const h = Math.floor(t / 3_600_000)
  const m = Math.floor((t % 3_600_000) / 60_000)
  const s = (t % 60_000) / 1000
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${trim(s)}s`
}

export const pullTexts = {
  pulling: (image: string) => `Pulling image "${image}"`,
  pulled: (image: string, ms: number, size: number) => `Successfully pulled image "${image}" in ${goDuration(ms)} (${goDuration(ms)} including waiting). Image size: ${size} bytes.`,
  present: (image: string) => `Container image "${image}" already present on machine`,
  failed: (image: string, err: string) => `Failed to pull image "${image}": ${err}`,
  backOff: (image: string) => `Back-off pulling image "${image}"`,
  neverPull: (image: string) => `Container image "${image}" is not present with pull policy of Never`,
}
