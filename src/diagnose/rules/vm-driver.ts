import { Scan, diagnosis, evidence } from '../scan.js'
import { retryFix } from '../snippets.js'
import type { Diagnosis, Rule } from '../types.js'

/**
 * A custom executor that runs each job in a VM on the runner host (GitLab's Tart executor for macOS,
 * and drivers like it) could not get the VM up or reach it: the job never started. The same class as
 * an autoscaler's machine that never came (machine_provisioning_failed), on one host instead of a cloud.
 */

// tart's `ip --wait` giving up: the VM did not boot, or it has no address (yet) on the host's network.
const NO_IP = /no IP address found, is your VM running\?/

function vmDriver(s: Scan): Diagnosis[] {
  const hit = s.last(NO_IP)
  if (!hit) return []
  const boot = s.near(hit.line.n, /Waiting for the VM to boot/, 4)
  // The driver's timestamps (tart's executor prints them) say whether it waited at all.
  const at = (text: string | undefined) => /(\d\d):(\d\d):(\d\d)\s/.exec(text ?? '')?.slice(1).map(Number)
  const t0 = at(boot?.line.text)
  const t1 = at(hit.line.text)
  const waited = t0 && t1 ? (t1[0]! - t0[0]!) * 3600 + (t1[1]! - t0[1]!) * 60 + (t1[2]! - t0[2]!) : undefined
  return [diagnosis('machine_provisioning_failed', 'The executor\'s VM did not come up (no IP address)',
    `"${hit.line.text.trim().slice(0, 160)}": the custom executor's driver started the job's VM but could not find its address on the host's network${waited === 0 ? ' — at once, without waiting (a driver that returns before the VM has booted)' : waited !== undefined && waited >= 30 ? ` within its wait (${waited} s: a slow boot, images on slow storage, too many VMs on the host)` : ''}. The job's script never ran.`,
    evidence(boot, hit), [
      { text: 'Look at the host: can the driver start and reach a VM from this image by hand, how many VMs run (macOS allows two), and how fast the image\'s disk is.', snippet: 'tart list\ntart run <image> --no-graphics &\ntart ip --wait 120 <image>' },
      { text: 'Give the VM longer to boot, or a faster disk for the images, and update the executor (releases fixed early returns of the IP wait).' },
      retryFix(),
    ], 0.8)]
}

export const vmDriverRule: Rule = {
  id: 'vm-driver',
  categories: ['machine_provisioning_failed'],
  match: (ev) => vmDriver(Scan.of(ev)),
}
