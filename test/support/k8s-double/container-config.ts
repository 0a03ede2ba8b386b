import type Dockerode from 'dockerode'
import { withDefaultTag } from '../../../src/executors/docker/image-ref.js'
import { parseQuantity } from './quantity.js'
import type { VolumeMount } from './pod-volumes.js'

/** The fields of a pod's container the double's node honours. */
export interface ContainerSpec {
  name: string
  image: string
  imagePullPolicy?: string
  command?: string[]
  args?: string[]
  workingDir?: string
  env?: { name: string; value?: string }[]
  stdin?: boolean
  stdinOnce?: boolean
  tty?: boolean
  volumeMounts?: VolumeMount[]
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> }
  securityContext?: SecurityContext
}

export interface SecurityContext {
  privileged?: boolean
  runAsNonRoot?: boolean
  runAsUser?: number
  runAsGroup?: number
  readOnlyRootFilesystem?: boolean
  capabilities?: { add?: string[]; drop?: string[] }
}

export interface ContainerContext {
  /** Docker name, dockershim style: k8s_<container>_<pod>_<namespace>_<uid>_<attempt>. */
  name: string
  sandboxId: string
  labels: Record<string, string>
  mounts: Dockerode.MountSettings[]
  /** The pod's securityContext (runAsUser/runAsGroup are defaults for every container). */
  podSecurity?: SecurityContext
}

/**
 * Docker's create options for a pod container: command ⇒ Entrypoint (the image's CMD is then
 * dropped, as in Kubernetes), args ⇒ Cmd, the sandbox's network namespace, limits as cgroup limits.
 */
export function containerCreateOptions(c: ContainerSpec, ctx: ContainerContext): Dockerode.ContainerCreateOptions {
  const sec = { ...ctx.podSecurity, ...c.securityContext }
  const user = sec.runAsUser !== undefined ? `${sec.runAsUser}${sec.runAsGroup !== undefined ? `:${sec.runAsGroup}` : ''}` : undefined
  const memory = parseQuantity(c.resources?.limits?.memory)
  const cpu = parseQuantity(c.resources?.limits?.cpu)
  const cpuRequest = parseQuantity(c.resources?.requests?.cpu)
  const host: Dockerode.HostConfig = {
    NetworkMode: `container:${ctx.sandboxId}`,
    Mounts: ctx.mounts,
    Privileged: sec.privileged === true,
    ReadonlyRootfs: sec.readOnlyRootFilesystem === true,
    ...(sec.capabilities?.add ? { CapAdd: sec.capabilities.add } : {}),
    ...(sec.capabilities?.drop ? { CapDrop: sec.capabilities.drop } : {}),
    // No swap on a node: the memory limit is the whole limit (so exceeding it is an OOM kill).
    ...(memory ? { Memory: Math.floor(memory), MemorySwap: Math.floor(memory) } : {}),
    ...(cpu ? { NanoCpus: Math.round(cpu * 1e9) } : {}),
    ...(cpuRequest ? { CpuShares: Math.max(2, Math.round(cpuRequest * 1024)) } : {}),
  }
  return {
    name: ctx.name,
    Image: withDefaultTag(c.image),
    ...(c.command ? { Entrypoint: c.command } : {}),
    ...(c.args ? { Cmd: c.args } : {}),
    ...(c.workingDir ? { WorkingDir: c.workingDir } : {}),
    Env: (c.env ?? []).map((e) => `${e.name}=${e.value ?? ''}`),
    ...(user ? { User: user } : {}),
    OpenStdin: c.stdin === true,
    StdinOnce: c.stdinOnce === true,
    Tty: c.tty === true,
    AttachStdin: false,
    Labels: ctx.labels,
    HostConfig: host,
  }
}

/**
 * The kubelet's runAsNonRoot check, against the user the container would run as (its
 * runAsUser, else the image's USER: empty is root, a name cannot be verified).
 * Undefined when it may run, else the CreateContainerConfigError message.
 */
export function nonRootRefusal(c: ContainerSpec, podSecurity: SecurityContext | undefined, imageUser: string, pod: string): string | undefined {
  const sec = { ...podSecurity, ...c.securityContext }
  if (!sec.runAsNonRoot) return undefined
  const where = `(pod: ${JSON.stringify(pod)}, container: ${c.name})`
  if (sec.runAsUser !== undefined) return sec.runAsUser === 0 ? `container's runAsUser breaks non-root policy ${where}` : undefined
  const user = imageUser.split(':')[0] ?? ''
  if (user === '' || user === '0') return `container has runAsNonRoot and image will run as root ${where}`
  if (!/^\d+$/.test(user)) return `container has runAsNonRoot and image has non-numeric user (${user}), cannot verify user is non-root ${where}`
  return undefined
}
