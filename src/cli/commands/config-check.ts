import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { GlrunError, GlrunErrors } from '../../diagnostics/errors.js'
import { renderDiagnostic } from '../../diagnostics/render.js'
import { SourceTexts } from '../../diagnostics/source.js'
import { loadRunnerConfig } from '../../runner-config/load.js'
import { defaultConfigPath } from '../../runner-config/locate.js'
import type { Io } from '../io.js'

/** `glrun config check [path]`: validates a gitlab-runner config.toml the way glrun reads it. */
export function configCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  const config = program.command('config').description('work with gitlab-runner config.toml files')
  config.command('check')
    .description('check a config.toml: syntax, types, values and misspelt keys (gitlab-runner ignores unknown keys silently)')
    .argument('[path]', 'the config.toml (default: $GLRUN_CONFIG, ~/.gitlab-runner/config.toml, /etc/gitlab-runner/config.toml)')
    .action((path: string | undefined) => {
      const file = path ?? defaultConfigPath()
      if (!file) throw new GlrunError('GLRUN_CONFIG_NOT_FOUND', 'no config.toml found', { hint: 'Pass its path: glrun config check path/to/config.toml (or set GLRUN_CONFIG).' })
      const texts = new SourceTexts()
      try {
        const { config: c, warnings, text } = loadRunnerConfig(file)
        texts.add(file, text)
        for (const w of warnings) io.err(`${renderDiagnostic(w, texts, { color: io.color })}\n`)
        const kinds = [...new Set(c.runners.map((r) => r.executor))].join(', ')
        io.out(`${file}: ${c.runners.length} runner${c.runners.length === 1 ? '' : 's'}${kinds ? ` (${kinds})` : ''}, ${warnings.length} warning${warnings.length === 1 ? '' : 's'}, 0 errors`)
        setExit(0)
      } catch (e) {
        if (!(e instanceof GlrunErrors) && !(e instanceof GlrunError)) throw e
        const errors = e instanceof GlrunErrors ? e.errors : [e]
        const warnings = e instanceof GlrunErrors ? e.warnings : []
        try {
          texts.add(file, readFileSync(file, 'utf8'))
        } catch {
          // Unreadable: the error says so already.
        }
        for (const x of [...warnings, ...errors]) io.err(`${renderDiagnostic(x, texts, { color: io.color })}\n`)
        io.out(`${file}: ${errors.length} error${errors.length === 1 ? '' : 's'}, ${warnings.length} warning${warnings.length === 1 ? '' : 's'}`)
        // As the README says: 0 valid (warnings allowed), 2 not (1 is for an invalid pipeline).
        setExit(2)
      }
    })
}
