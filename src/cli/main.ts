import { isAbsolute } from 'node:path'
import { Command, CommanderError } from 'commander'
import { GlrunError, GlrunErrors } from '../diagnostics/errors.js'
import { renderDiagnostic } from '../diagnostics/render.js'
import { SourceTexts } from '../diagnostics/source.js'
import { compileCommand } from './commands/compile.js'
import { configCommand } from './commands/config-check.js'
import { registerCommands } from './commands/register.js'
import { runnerCommand } from './commands/runner.js'
import { doctorCommand } from './commands/doctor.js'
import { explainCommand } from './commands/explain.js'
import { lintCommand } from './commands/lint.js'
import { listCommand } from './commands/list.js'
import { runCommand } from './commands/run.js'
import { type Io, processIo } from './io.js'
import { secretsMaskedIo } from './masked-io.js'
import { readSourceFile } from '../support/read-source-file.js'

export const VERSION = '0.1.0'

/**
 * The composition root: builds the command tree and maps every outcome to an exit code.
 * User mistakes print one clear diagnostic (exit 2); only bugs print a stack trace.
 */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  let exitCode = 0
  const setExit = (c: number): void => { exitCode = c }
  const program = new Command('glrun')
    .description('Run GitLab CI pipelines locally or for a GitLab instance, and say why jobs fail.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError('(run with --help for usage)')
  lintCommand(program, io, setExit)
  listCommand(program, io, setExit)
  compileCommand(program, io, setExit)
  runCommand(program, io, setExit)
  configCommand(program, io, setExit)
  explainCommand(program, io, setExit)
  doctorCommand(program, io, setExit)
  registerCommands(program, io, setExit)
  runnerCommand(program, io, setExit)
  for (const cmd of program.commands) cmd.exitOverride().configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })

  try {
    await program.parseAsync([...argv])
    return exitCode
  } catch (e) {
    io = secretsMaskedIo(io)
    if (e instanceof CommanderError) {
      return e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2
    }
    if (e instanceof GlrunError) {
      io.err(renderDiagnostic(e, sourcesOf([e]), { color: io.color }))
      return 2
    }
    if (e instanceof GlrunErrors) {
      const all = [...e.warnings, ...e.errors]
      const sources = sourcesOf(all)
      for (const x of all) io.err(renderDiagnostic(x, sources, { color: io.color }))
      return 2
    }
    io.err(`glrun: internal error (this is a bug in glrun, please report it):\n${e instanceof Error ? e.stack ?? e.message : String(e)}`)
    return 70
  }
}

/**
 * Errors that reach the top (a config.toml that run or doctor could not use) show their line too:
 * the files they name by absolute path are read again here. Relative spans belong to pipeline
 * files, whose commands render their own diagnostics with the texts they parsed.
 */
function sourcesOf(errors: readonly GlrunError[]): SourceTexts {
  const texts = new SourceTexts()
  for (const file of new Set(errors.flatMap((e) => (e.where && isAbsolute(e.where.file) ? [e.where.file] : [])))) {
    try {
      texts.add(file, readSourceFile(file, { display: file, maxBytes: 1 << 20 }))
    } catch {
      // Gone, unreadable or not a regular file since: the diagnostic still names file:line:column.
    }
  }
  return texts
}
