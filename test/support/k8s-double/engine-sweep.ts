import type Dockerode from 'dockerode'

/** Stopping and removing what the double's node made on the engine, found by label. */

/**
 * For every running container of the pod but its sandbox: `stopping` (the preStop hook, within
 * the grace period), then SIGTERM, then SIGKILL when the rest of `grace` seconds is over.
 */
export async function stopPodContainers(docker: Dockerode, uid: string, grace: number, stopping: (id: string) => Promise<void>): Promise<void> {
  const list = await docker.listContainers({ filters: { label: [`io.kubernetes.pod.uid=${uid}`, 'io.kubernetes.container.name'], status: ['running'] } })
  await Promise.allSettled(list.map(async (info) => {
    const started = Date.now()
    await stopping(info.Id)
    const left = Math.max(0, grace - (Date.now() - started) / 1000)
    await docker.getContainer(info.Id).stop({ t: Math.floor(left) })
  }))
}

/** Removes every container, then every volume, carrying all of `labels`. */
export async function sweep(docker: Dockerode, labels: Record<string, string>): Promise<void> {
  const label = Object.entries(labels).map(([k, v]) => `${k}=${v}`)
  const containers = await docker.listContainers({ all: true, filters: { label } })
  await Promise.allSettled(containers.map((c) => docker.getContainer(c.Id).remove({ force: true })))
  const { Volumes } = await docker.listVolumes({ filters: { label } })
  await Promise.allSettled((Volumes ?? []).map((v) => docker.getVolume(v.Name).remove()))
}
