import { type ActiveCheckOptions, checkTargets, runActiveChecks } from './active-checks.js'
import { diagnose } from './engine.js'
import type { DiagnosisReport, Evidence } from './types.js'

/**
 * Diagnose, and when the likely causes are the network or trust, check the hosts involved and
 * diagnose again with what the checks saw: a guess becomes a confirmed cause (or is ruled out).
 */
export async function troubleshoot(ev: Evidence, checks: ActiveCheckOptions & { active: boolean }): Promise<DiagnosisReport> {
  const first = diagnose(ev)
  if (!checks.active || first.diagnoses.length === 0) return first
  const targets = checkTargets(first, ev.executor)
  if (targets.length === 0) return first
  const probes = await runActiveChecks(targets, checks)
  return diagnose({ ...ev, probes: [...(ev.probes ?? []), ...probes] })
}
