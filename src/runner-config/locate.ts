import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { GlrunError } from '../diagnostics/errors.js'
import type { RunnerConfigFile, RunnerSettings } from './types.js'

/** gitlab-runner's places for config.toml, after $GLRUN_CONFIG: the user's, then the system's. */
export function defaultConfigPath(): string | undefined {
  const candidates = [process.env.GLRUN_CONFIG, join(homedir(), '.gitlab-runner', 'config.toml'), '/etc/gitlab-runner/config.toml']
  return candidates.find((p): p is string => p !== undefined && p !== '' && existsSync(p))
}

/** The runner named `name`, or the first. */
export function selectRunner(config: RunnerConfigFile, name?: string): RunnerSettings {
  if (config.runners.length === 0) {
    throw new GlrunError('GLRUN_CONFIG_NO_RUNNERS', `${config.path} has no [[runners]] section`, { hint: 'Add a [[runners]] table with an executor (for example executor = "docker").' })
  }
  if (name === undefined) return config.runners[0]!
  const hit = config.runners.find((r) => r.name === name)
  if (!hit) {
    throw new GlrunError('GLRUN_CONFIG_RUNNER_UNKNOWN', `${config.path} has no runner named "${name}"`, { hint: `Runners in it: ${config.runners.map((r) => `"${r.name}"`).join(', ')}.` })
  }
  return hit
}
