import { resolve } from 'node:path'
import { GlrunError } from '../diagnostics/errors.js'
import { renderDiagnostic } from '../diagnostics/render.js'
import { SourceTexts } from '../diagnostics/source.js'
import { loadRunnerConfig } from '../runner-config/load.js'
import { selectRunner } from '../runner-config/locate.js'
import type { RunnerConfigFile, RunnerSettings } from '../runner-config/types.js'
import type { Io } from './io.js'

export interface RunnerFlags {
  config?: string
  runner?: string
}

export interface SelectedRunners {
  config: RunnerConfigFile
  /** The --runner entry, or the first [[runners]] entry. */
  selected: RunnerSettings
  text: string
}

/**
 * --config/--runner as run and doctor take them: the config's warnings printed, its errors thrown
 * all at once; undefined without --config. --runner alone is a usage error, not silently ignored.
 */
export function loadRunnerFlags(flags: RunnerFlags, io: Io): SelectedRunners | undefined {
  if (!flags.config) {
    if (flags.runner) throw new GlrunError('GLRUN_CLI_RUNNER', '--runner needs --config', { hint: 'Pass the config.toml that has that runner with --config.' })
    return undefined
  }
  const { config, warnings, text } = loadRunnerConfig(resolve(flags.config))
  const texts = new SourceTexts()
  texts.add(config.path, text)
  for (const w of warnings) io.err(`${renderDiagnostic(w, texts, { color: io.color })}\n`)
  // selectRunner: one error for an unknown name or a config without runners.
  return { config, selected: selectRunner(config, flags.runner), text }
}
