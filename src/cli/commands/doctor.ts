import { existsSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { GlrunError } from '../../diagnostics/errors.js'
import { doctorJson, renderDoctor, runDoctor } from '../../doctor/index.js'
import type { Io } from '../io.js'
import { loadRunnerFlags } from '../runner-flags.js'

interface DoctorFlags {
  config?: string
  runner?: string
  cwd?: string
  timeout?: string
  json?: boolean
}

/**
 * `glrun doctor`: checks GitLab, the executor, the default image's registry, the directories and
 * git before a job fails on them. Exit 1 when a check fails, 0 otherwise (warnings included);
 * a config.toml that cannot be read or is invalid is a usage error (2), like everywhere else.
 */
export function doctorCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  program.command('doctor')
    .description("check this machine and a config.toml's runners before jobs fail: GitLab resolvable, reachable and trusted, the executor, the default image's registry, builds_dir/cache_dir, git")
    .option('--config <config.toml>', 'check the runners of this gitlab-runner config.toml (default: the local runs glrun makes without one)')
    .option('--runner <name>', 'with --config: check only this [[runners]] entry')
    .option('-C, --cwd <dir>', 'the project directory (its .glrun is checked)')
    .option('--timeout <seconds>', 'time for each network check', '3')
    .option('--json', 'print {ok, counts, findings} as JSON')
    .action(async (flags: DoctorFlags) => {
      const cwd = resolve(flags.cwd ?? '.')
      if (!existsSync(cwd) || !statSync(cwd).isDirectory()) throw new GlrunError('GLRUN_CWD_MISSING', `directory ${cwd} does not exist`, { hint: 'Pass an existing project directory to --cwd.' })
      const seconds = Number(flags.timeout)
      if (!Number.isFinite(seconds) || seconds <= 0) throw new GlrunError('GLRUN_CLI_TIMEOUT', `--timeout must be a positive number of seconds, not "${flags.timeout}"`, { hint: 'For example --timeout 10 on a slow network.' })
      const picked = loadRunnerFlags(flags, io)
      const runners = picked && (flags.runner ? [picked.selected] : picked.config.runners)
      const report = await runDoctor({ cwd, timeoutMs: seconds * 1000, ...(runners ? { runners } : {}) })
      io.out(flags.json ? JSON.stringify(doctorJson(report), null, 2) : renderDoctor(report, { color: io.color }))
      setExit(report.findings.some((f) => f.status === 'fail') ? 1 : 0)
    })
}
