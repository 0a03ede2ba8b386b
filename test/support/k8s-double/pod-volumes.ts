import { chmodSync, existsSync } from 'node:fs'
import { posix } from 'node:path'
import type Dockerode from 'dockerode'
import tarStream from 'tar-stream'
import type { NodeReporter } from './kubelet.js'
import { parseQuantity } from './quantity.js'

/**
 * A pod's volumes on the Docker engine: emptyDir ⇒ a Docker volume of the pod (tmpfs for
 * medium Memory), hostPath ⇒ a bind, persistentVolumeClaim ⇒ a named volume that outlives the
 * pod, secret / configMap ⇒ a volume of the pod filled with the object's keys as files.
 */

export interface VolumeSpec {
  name: string
  emptyDir?: { medium?: string; sizeLimit?: string }
  hostPath?: { path: string; type?: string }
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean }
  secret?: { secretName: string; items?: KeyToPath[]; defaultMode?: number; optional?: boolean }
  configMap?: { name: string; items?: KeyToPath[]; defaultMode?: number; optional?: boolean }
}
interface KeyToPath { key: string; path: string; mode?: number }
export interface VolumeMount { name: string; mountPath: string; subPath?: string; readOnly?: boolean }

/** Where a volume's data is: a Docker volume name or a path on the engine's host. */
export interface PreparedVolume { kind: 'volume' | 'bind'; source: string; readOnly: boolean }

export interface VolumeContext {
  docker: Dockerode
  namespace: string
  uid: string
  reporter: NodeReporter
  /** Labels for everything made (the pod's and the kubelet's sweep label). */
  labels: Record<string, string>
  /** An image with sh, for filling volumes and making subPath directories. */
  toolImage: string
}

export const pvcVolumeName = (namespace: string, claim: string): string => `glrun-pvc-${namespace}-${claim}`

/** Makes every volume of the pod, or says which one cannot be set up yet (a FailedMount). */
export async function prepareVolumes(ctx: VolumeContext, volumes: VolumeSpec[]): Promise<{ ok: Map<string, PreparedVolume> } | { failed: string }> {
  const out = new Map<string, PreparedVolume>()
  for (const v of volumes) {
    const setUp = (why: string): { failed: string } => ({ failed: `MountVolume.SetUp failed for volume "${v.name}" : ${why}` })
    if (v.emptyDir) {
      const size = parseQuantity(v.emptyDir.sizeLimit)
      const tmpfs = v.emptyDir.medium === 'Memory' ? { DriverOpts: { type: 'tmpfs', device: 'tmpfs', ...(size ? { o: `size=${Math.floor(size)}` } : {}) } } : {}
      const name = await createVolume(ctx, podVolumeName(ctx, v.name), tmpfs)
      if (!tmpfs.DriverOpts) await worldWritable(ctx, name)
      out.set(v.name, { kind: 'volume', source: name, readOnly: false })
    } else if (v.hostPath) {
      out.set(v.name, { kind: 'bind', source: v.hostPath.path, readOnly: false })
    } else if (v.persistentVolumeClaim) {
      const name = pvcVolumeName(ctx.namespace, v.persistentVolumeClaim.claimName)
      // The claim's volume is not the pod's: it is labelled for the sweep only, never with the pod's uid.
      const sweep = Object.fromEntries(Object.entries(ctx.labels).filter(([k]) => !k.startsWith('io.kubernetes.')))
      await ctx.docker.createVolume({ Name: name, Labels: sweep })
      out.set(v.name, { kind: 'volume', source: name, readOnly: v.persistentVolumeClaim.readOnly === true })
    } else if (v.secret || v.configMap) {
      const files = objectFiles(ctx, v)
      if ('failed' in files) {
        if (files.failed === 'optional') continue
        return setUp(files.failed)
      }
      const name = await createVolume(ctx, podVolumeName(ctx, v.name), {})
      await fillVolume(ctx, name, files.files)
      // Secret and config map volumes are always mounted read-only.
      out.set(v.name, { kind: 'volume', source: name, readOnly: true })
    } else {
      const kind = Object.keys(v).find((k) => k !== 'name') ?? 'unknown'
      return setUp(`volume type ${kind} is not supported by the API double's Docker node (emptyDir, hostPath, persistentVolumeClaim, secret, configMap are)`)
    }
  }
  return { ok: out }
}

const podVolumeName = (ctx: VolumeContext, volume: string): string => `k8s-${ctx.uid}-${volume}`

/**
 * The kubelet makes an emptyDir's directory 0777, so any user of any container may write it; a
 * fresh Docker volume is root's 0755. On the engine's own host (the tests) the volume's directory
 * is changed directly, else through a tool container.
 */
async function worldWritable(ctx: VolumeContext, volume: string): Promise<void> {
  const info = (await ctx.docker.getVolume(volume).inspect()) as { Mountpoint?: string }
  if (info.Mountpoint && existsSync(info.Mountpoint)) {
    try {
      chmodSync(info.Mountpoint, 0o777)
      return
    } catch {
      // Visible but not ours to change (an engine run by another user): the tool container does it.
    }
  }
  await withToolContainer(ctx, volume, ['chmod', '0777', '/v'], async (c) => {
    await c.start()
    await c.wait()
  })
}

async function createVolume(ctx: VolumeContext, name: string, extra: { DriverOpts?: Record<string, string> }): Promise<string> {
  await ctx.docker.createVolume({ Name: name, Labels: ctx.labels, ...extra })
  return name
}

interface File { path: string; data: Buffer; mode: number }

/** The files of a secret (data base64) or config map (data plain, binaryData base64). */
function objectFiles(ctx: VolumeContext, v: VolumeSpec): { files: File[] } | { failed: string } {
  const secret = v.secret !== undefined
  const src = (v.secret ?? v.configMap)!
  const objName = v.secret ? v.secret.secretName : v.configMap!.name
  const obj = ctx.reporter.read(secret ? 'secrets' : 'configmaps', ctx.namespace, objName) as { data?: Record<string, string>; stringData?: Record<string, string>; binaryData?: Record<string, string> } | undefined
  if (!obj) return { failed: src.optional ? 'optional' : `${secret ? 'secret' : 'configmap'} "${objName}" not found` }
  const values = new Map<string, Buffer>()
  for (const [k, val] of Object.entries(obj.data ?? {})) values.set(k, secret ? Buffer.from(val, 'base64') : Buffer.from(val, 'utf8'))
  for (const [k, val] of Object.entries(obj.binaryData ?? {})) values.set(k, Buffer.from(val, 'base64'))
  if (secret) for (const [k, val] of Object.entries(obj.stringData ?? {})) values.set(k, Buffer.from(val, 'utf8'))
  const mode = src.defaultMode ?? 0o644
  if (!src.items) return { files: [...values].map(([k, data]) => ({ path: k, data, mode })) }
  const files: File[] = []
  for (const item of src.items) {
    const data = values.get(item.key)
    if (!data) {
      if (src.optional) continue
      return { failed: secret ? `secret references non-existent secret key: ${item.key}` : `configmap references non-existent config key: ${item.key}` }
    }
    files.push({ path: item.path, data, mode: item.mode ?? mode })
  }
  return { files }
}

/** Writes the files into the volume through a container that is created, never started. */
async function fillVolume(ctx: VolumeContext, volume: string, files: File[]): Promise<void> {
  const pack = tarStream.pack()
  const dirs = new Set<string>()
  for (const f of files) {
    for (let d = posix.dirname(f.path); d !== '.' && !dirs.has(d); d = posix.dirname(d)) dirs.add(d)
  }
  for (const d of [...dirs].sort()) pack.entry({ name: d, type: 'directory', mode: 0o755 })
  for (const f of files) pack.entry({ name: f.path, mode: f.mode, size: f.data.length }, f.data)
  pack.finalize()
  const chunks: Buffer[] = []
  for await (const c of pack) chunks.push(Buffer.from(c as Uint8Array))
  await withToolContainer(ctx, volume, ['true'], async (c) => {
    await c.putArchive(Buffer.concat(chunks), { path: '/v' })
  })
}

async function withToolContainer(ctx: VolumeContext, volume: string, cmd: string[], use: (c: Dockerode.Container) => Promise<void>): Promise<void> {
  const c = await ctx.docker.createContainer({
    Image: ctx.toolImage, Cmd: cmd, Labels: ctx.labels, HostConfig: { Mounts: [{ Type: 'volume', Source: volume, Target: '/v' }], NetworkMode: 'none' },
  })
  try {
    await use(c)
  } finally {
    await c.remove({ force: true }).catch(() => undefined)
  }
}

/**
 * Docker's mounts for a container's volumeMounts. A subPath (Docker 20.10 has no volume
 * subpaths) becomes a bind of the directory inside the volume's data on the engine's host,
 * made first when missing, as the kubelet does.
 */
export async function containerMounts(ctx: VolumeContext, volumes: Map<string, PreparedVolume>, mounts: VolumeMount[]): Promise<Dockerode.MountSettings[]> {
  const out: Dockerode.MountSettings[] = []
  for (const m of mounts) {
    const v = volumes.get(m.name)
    if (!v) continue
    const readOnly = v.readOnly || m.readOnly === true
    if (!m.subPath) {
      // A kubelet never copies the image's files into a volume (Docker does, into an empty one, unless told not to).
      out.push({ Type: v.kind, Source: v.source, Target: m.mountPath, ReadOnly: readOnly, ...(v.kind === 'volume' ? { VolumeOptions: { NoCopy: true } as Dockerode.MountSettings['VolumeOptions'] } : {}) })
      continue
    }
    if (v.kind === 'bind') {
      out.push({ Type: 'bind', Source: posix.join(v.source, m.subPath), Target: m.mountPath, ReadOnly: readOnly })
      continue
    }
    await withToolContainer(ctx, v.source, ['sh', '-c', '[ -e "/v/$0" ] || mkdir -p "/v/$0"', m.subPath], async (c) => {
      await c.start()
      await c.wait()
    })
    const info = (await ctx.docker.getVolume(v.source).inspect()) as { Mountpoint: string }
    out.push({ Type: 'bind', Source: posix.join(info.Mountpoint, m.subPath), Target: m.mountPath, ReadOnly: readOnly })
  }
  return out
}
