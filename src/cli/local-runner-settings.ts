import { GlrunError } from '../diagnostics/errors.js'
import type { RunnerConfigFile, RunnerSettings } from '../runner-config/types.js'

/**
 * What a config.toml's runner settings mean for `glrun run`: the ones a local run honours
 * (output_limit, cache_dir, concurrent and limit), and a warning for each one it does not, so
 * that nothing written in the file is silently ignored.
 */
export interface LocalRunnerSettings {
  /** Jobs at once from `concurrent` and the runner's `limit` (0 = no limit), when no --concurrency. */
  concurrency: number
  outputLimitBytes: number
  cacheDir?: string
  warnings: GlrunError[]
}

/** The feature flags glrun reads (the Kubernetes executor's exec strategy). */
const HONOURED_FLAGS = new Set(['FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY'])

export function localRunnerSettings(config: RunnerConfigFile, r: RunnerSettings): LocalRunnerSettings {
  const warnings: GlrunError[] = []
  const unsupported = (key: string, why: string): void => {
    warnings.push(new GlrunError('GLRUN_CONFIG_UNSUPPORTED', `${key} of runner "${r.name}" is not used by glrun run: ${why}`, { severity: 'warning', hint: 'Remove it, or keep it for gitlab-runner; glrun run goes on without it.' }))
  }
  if (r.buildsDir) unsupported('builds_dir', 'local runs keep job directories under .glrun/builds of the repository (the shell executor) or in a volume of the job (docker)')
  const flags = Object.entries(r.featureFlags).filter(([k, on]) => on && !HONOURED_FLAGS.has(k)).map(([k]) => k)
  if (flags.length > 0) unsupported(`[runners.feature_flags] ${flags.join(', ')}`, `glrun behaves as gitlab-runner does with them at their defaults (the flags it reads: ${[...HONOURED_FLAGS].join(', ')})`)
  return {
    concurrency: Math.max(1, r.limit > 0 ? Math.min(config.concurrent, r.limit) : config.concurrent),
    outputLimitBytes: r.outputLimitKb * 1024,
    ...(r.cacheDir ? { cacheDir: r.cacheDir } : {}),
    warnings,
  }
}
