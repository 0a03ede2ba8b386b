import { join, resolve } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import type { Command } from 'commander'
import { GlrunError } from '../../diagnostics/errors.js'
import { EXECUTORS } from '../../executors/registry.js'
import { loadRunnerConfig } from '../../runner-config/load.js'
import { RunnerPool } from '../../runner/job-loop.js'
import { ConfigReloader } from '../../runner/config-reload.js'
import { defaultConfigPath } from '../../runner/config-file.js'
import { checkRunnersTls } from '../../runner/gitlab-tls.js'
import type { Io } from '../io.js'
import { pino } from 'pino'
import { RunnerMetrics } from '../../runner/metrics.js'

interface RunnerFlags {
  config?: string
  maxBuilds?: string
  workDir?: string
}

/**
 * `glrun runner`: gitlab-runner's `run` — every [[runners]] entry of config.toml asks its GitLab
 * for jobs and runs them on its executor, within `concurrent` and each runner's `limit`, with the
 * trace streamed to GitLab and glrun's diagnosis appended to a failed job's log. SIGTERM/SIGINT
 * cancel the running jobs (after_script runs, the state is reported); SIGQUIT stops taking jobs
 * and lets the running ones finish. config.toml is reloaded when it changes (checked every 3 s) or
 * on SIGHUP; a file that does not load is logged and the running config kept. The operator log is
 * JSON lines on stderr.
 */
export function runnerCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  program.command('runner')
    .description('run as a GitLab runner: take jobs from GitLab for every [[runners]] entry of config.toml')
    .option('--config <config.toml>', 'the runner configuration (default: $GLRUN_CONFIG, ~/.gitlab-runner/config.toml)')
    .option('--max-builds <n>', 'stop after this many jobs (like gitlab-runner run-single)')
    .option('--work-dir <dir>', 'where job directories, traces and caches go (default: ./.glrun-runner)')
    .action(async (flags: RunnerFlags) => {
      holdYoungGeneration()
      const path = resolve(flags.config ?? defaultConfigPath())
      const { config, text, warnings } = loadRunnerConfig(path)
      for (const w of warnings) io.err(`warning[${w.code}]: ${w.message}`)
      const runners = config.runners.filter((r) => r.url && r.token)
      if (runners.length === 0) throw new GlrunError('GLRUN_RUNNER_NONE', `${path} has no [[runners]] entry with url and token`, { hint: 'Register one first: glrun register --url https://gitlab.example.com --token glrt-…' })
      for (const r of runners) {
        if (!EXECUTORS[r.executor]) throw new GlrunError('GLRUN_EXECUTOR_UNKNOWN', `runner "${r.name}" uses executor "${r.executor}", which this version of glrun does not have`, { hint: `Available: ${Object.keys(EXECUTORS).join(', ')}.` })
      }
      await checkRunnersTls(runners)
      const maxBuilds = flags.maxBuilds === undefined ? undefined : Number(flags.maxBuilds)
      if (maxBuilds !== undefined && (!Number.isInteger(maxBuilds) || maxBuilds < 1)) throw new GlrunError('GLRUN_CLI_MAX_BUILDS', `--max-builds must be a positive number, not "${flags.maxBuilds}"`)
      const cancel = new AbortController()
      const drain = new AbortController()
      const onStop = (sig: NodeJS.Signals): void => {
        io.err(JSON.stringify({ level: 30, time: new Date().toISOString(), msg: `${sig}: ${sig === 'SIGQUIT' ? 'finishing running jobs, taking no new ones' : 'canceling running jobs'}` }))
        if (sig === 'SIGQUIT') drain.abort()
        else cancel.abort()
      }
      for (const s of ['SIGINT', 'SIGTERM', 'SIGQUIT'] as const) process.on(s, onStop)
      let reloader: ConfigReloader | undefined
      const onHup = (): void => reloader?.reload()
      process.on('SIGHUP', onHup)
      const logger = pino({ base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ dest: 2, sync: true }))
      const metrics = new RunnerMetrics()
      const server = config.listenAddress ? await metrics.listen(config.listenAddress) : undefined
      if (config.listenAddress) logger.info({ address: config.listenAddress }, 'metrics served at /metrics')
      try {
        const log = (e: Record<string, unknown>): void => {
          const { level, msg, ...fields } = e as { level?: 'info' | 'warn' | 'error'; msg?: string }
          const lv = level ?? 'info'
          logger[lv](fields, msg ?? '')
          if (lv !== 'info') metrics.errors.inc({ level: lv })
        }
        const pool = new RunnerPool({
          config, configText: text, runners, stateDir: resolve(flags.workDir ?? join(process.cwd(), '.glrun-runner')),
          executorFor: (r) => {
            const make = EXECUTORS[r.executor]
            if (!make) throw new GlrunError('GLRUN_EXECUTOR_UNKNOWN', `runner "${r.name}" uses executor "${r.executor}", which this version of glrun does not have`)
            return make(r)
          },
          ...(maxBuilds !== undefined ? { maxBuilds } : {}),
          cancel: cancel.signal, drain: drain.signal,
          metrics, log,
        })
        // config.toml edited while running: applied to the next job requests (gitlab-runner's live reload).
        reloader = new ConfigReloader(path, log, (loaded) => {
          log({ level: 'info', msg: 'Configuration loaded', config: path, runners: loaded.config.runners.length })
          pool.update(loaded.config, loaded.text, loaded.config.runners)
        }).start()
        await pool.run()
        setExit(cancel.signal.aborted ? 143 : 0)
      } finally {
        server?.close()
        reloader?.stop()
        process.off('SIGHUP', onHup)
        for (const s of ['SIGINT', 'SIGTERM', 'SIGQUIT'] as const) process.off(s, onStop)
      }
    })
}

/**
 * A runner lives for months: its memory should be what it needs, not what V8 reached once. Under
 * the allocation rate of several jobs at a time V8 doubles the young generation (the semi-spaces
 * the scavenger copies between) from 8 to 32 MiB, and keeps it: that, not anything kept per job
 * (heap snapshots at job 100 and 1,000 hold the same objects), was most of the runner's growth
 * from job 100 to job 1,000 (RSS +25 MiB). V8 reads its growth factor each time it grows that
 * space; 1 keeps it at the size it has now. It cannot be capped by flag once the heap exists
 * (--max-semi-space-size is read at start), and at start V8 raises a factor below 2 to 2, so the
 * flag is set here, after. Measured with bench/runner-bench.mjs: growth 25 → 10 MiB, peak RSS
 * 113 → 90 MiB, CPU per job unchanged (the scavenges are as cheap: most objects die young).
 */
function holdYoungGeneration(): void {
  setFlagsFromString('--semi-space-growth-factor=1')
}
