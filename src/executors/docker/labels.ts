import { hostname } from 'node:os'
import type Docker from 'dockerode'
import { alive } from '../../process-alive.js'

/**
 * Every container, network and volume glrun creates carries these labels, so what a killed glrun
 * left behind is found and removed by the next run (and by nothing else: other tools' resources
 * have no glrun labels).
 */
export const LABEL_MANAGED = 'com.glrun.managed'
export const LABEL_PID = 'com.glrun.pid'
export const LABEL_HOST = 'com.glrun.host'
export const LABEL_JOB = 'com.glrun.job'
export const LABEL_SESSION = 'com.glrun.session'

export function resourceLabels(jobId: number, session: string): Record<string, string> {
  return { [LABEL_MANAGED]: 'true', [LABEL_PID]: String(process.pid), [LABEL_HOST]: hostname(), [LABEL_JOB]: String(jobId), [LABEL_SESSION]: session }
}


/** A resource is a leftover when the glrun on this host that made it is gone. */
function leftover(labels: Record<string, string> | undefined): boolean {
  if (!labels || labels[LABEL_MANAGED] !== 'true' || labels[LABEL_HOST] !== hostname()) return false
  const pid = Number(labels[LABEL_PID])
  return !Number.isInteger(pid) || (pid !== process.pid && !alive(pid))
}

/** Removes containers, networks and volumes of glrun runs that ended without cleaning up. */
export async function removeLeftovers(docker: Docker): Promise<number> {
  let removed = 0
  const filters = JSON.stringify({ label: [`${LABEL_MANAGED}=true`] })
  const containers = await docker.listContainers({ all: true, filters })
  for (const c of containers.filter((c) => leftover(c.Labels))) {
    await docker.getContainer(c.Id).remove({ force: true, v: true }).then(() => removed++, () => undefined)
  }
  const networks = await docker.listNetworks({ filters })
  for (const n of networks.filter((n) => leftover(n.Labels))) {
    await docker.getNetwork(n.Id).remove().then(() => removed++, () => undefined)
  }
  const volumes = (await docker.listVolumes({ filters })).Volumes ?? []
  for (const v of volumes.filter((v) => leftover(v.Labels ?? undefined))) {
    await docker.getVolume(v.Name).remove().then(() => removed++, () => undefined)
  }
  return removed
}

/** Removes everything one session created, whatever state it is in. */
export async function removeSession(docker: Docker, session: string): Promise<void> {
  const filters = JSON.stringify({ label: [`${LABEL_SESSION}=${session}`] })
  const containers = await docker.listContainers({ all: true, filters })
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)))
  const networks = await docker.listNetworks({ filters })
  await Promise.all(networks.map((n) => docker.getNetwork(n.Id).remove().catch(() => undefined)))
  const volumes = (await docker.listVolumes({ filters })).Volumes ?? []
  await Promise.all(volumes.map((v) => docker.getVolume(v.Name).remove().catch(() => undefined)))
}
