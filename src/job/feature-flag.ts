import type { JobVariable } from '../payload/types.js'

/**
 * A feature flag for one job as gitlab-runner resolves it (common/build_settings.go
 * populateFeatureFlags): [runners.feature_flags] in config.toml wins when it sets the flag;
 * otherwise the job variable of that name, read as Go's strconv.ParseBool reads it; otherwise
 * the flag's default (off for the flags glrun knows).
 */
export function featureFlag(name: string, job: { variables: readonly JobVariable[] }, featureFlags: Record<string, boolean>): boolean {
  if (Object.hasOwn(featureFlags, name)) return featureFlags[name] === true
  const v = job.variables.find((x) => x.key === name)?.value
  return v !== undefined && /^(?:1|t|T|TRUE|true|True)$/.test(v)
}
