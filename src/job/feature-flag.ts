import type { JobVariable } from '../payload/types.js'
import { expandValue } from './variables/runner-expand.js'

/**
 * A feature flag for one job as gitlab-runner resolves it (common/build_settings.go
 * populateFeatureFlags): [runners.feature_flags] in config.toml wins when it sets the flag;
 * otherwise the job variable of that name, read as Go's strconv.ParseBool reads it; otherwise
 * the flag's default (off for the flags glrun knows).
 */
export function featureFlag(name: string, job: { variables: readonly JobVariable[] }, featureFlags: Record<string, boolean>): boolean {
  if (Object.hasOwn(featureFlags, name)) return featureFlags[name] === true
  // The last definition wins (the payload lists variables from lowest to highest precedence), expanded as the runner's Get does.
  const v = [...job.variables].reverse().find((x) => x.key === name)
  if (v === undefined) return false
  const value = v.raw ? v.value : expandValue(v.value, (k) => [...job.variables].reverse().find((x) => x.key === k)?.value)
  return /^(?:1|t|T|TRUE|true|True)$/.test(value)
}
