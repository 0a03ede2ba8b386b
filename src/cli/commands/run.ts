import { existsSync, renameSync, rmSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { cpus } from 'node:os'
import { join } from 'node:path'
import type { Command } from 'commander'
import { GlrunError } from '../../diagnostics/errors.js'
import { EXECUTORS } from '../../executors/registry.js'
import { executeJob } from '../../job/execute-job.js'
import { LocalArtifactStore, LocalCacheStore } from '../../job/artifacts/stores.js'
import { makeWorkspaceSnapshot, trackedFiles } from '../../job/sources/workspace.js'
import { jobDirName } from '../../pipeline/context/job-dir-name.js'
import { keepGlrunOutOfGit } from '../../support/git-exclude.js'
import { runPipeline } from '../../scheduler/scheduler.js'
import { LineSink } from '../../trace/sinks/line-sink.js'
import { killOrphanGroups } from '../../executors/shell/orphans.js'
import { acquireRunLock } from '../run-lock.js'
import { localRunnerSettings } from '../local-runner-settings.js'
import { renderDiagnostic } from '../../diagnostics/render.js'
import { extractCoverage } from '../../job/coverage.js'
import type { JobOutcome } from '../../job/outcome.js'
import type { Io } from '../io.js'
import { maskedIo } from '../masked-io.js'
import { reportNoPipeline } from '../no-pipeline.js'
import { type PipelineFlags, addPipelineOptions, compileFromFlags } from '../pipeline-options.js'
import { ConsoleReporter } from '../console-reporter.js'
import { printDiagnostics } from '../render-pipeline.js'
import { selectJobs } from './compile.js'
import { runnerJobSettings } from '../../job/runner-job-settings.js'
import { readFileSync } from 'node:fs'
import { loadRunnerFlags } from '../runner-flags.js'

/** The pipeline file's text, as evidence for the troubleshooter (absent when unreadable). */
function pipelineText(projectDir: string, file: string | undefined): string | undefined {
  try {
    return readFileSync(join(projectDir, file ?? '.gitlab-ci.yml'), 'utf8')
  } catch {
    return undefined
  }
}

/** The job's coverage, as GitLab takes it from the log when the job has ended (success or failure). */
function withCoverage(o: JobOutcome, pattern: unknown, tracePath: string): JobOutcome {
  if (typeof pattern !== 'string' || (o.status !== 'success' && o.status !== 'failed')) return o
  let coverage: string | undefined
  try {
    coverage = extractCoverage(readFileSync(tracePath, 'utf8'), pattern)
  } catch {
    return o
  }
  return coverage === undefined ? o : { ...o, coverage }
}

interface RunFlags extends PipelineFlags {
  concurrency?: string
  manual?: boolean
  needs?: boolean
  executor?: string
  config?: string
  runner?: string
  json?: boolean
}

export function runCommand(program: Command, rawIo: Io, setExit: (code: number) => void): void {
  addPipelineOptions(program.command('run'))
    .description('run the pipeline (or the named jobs) on this machine and show GitLab-style job logs')
    .argument('[jobs...]', 'run only these jobs (manual ones included)')
    .option('-j, --concurrency <n>', "jobs at once (default: the config's concurrent and the runner's limit, else the number of cores)")
    .option('--manual', 'also run manual jobs')
    .option('--needs', 'with job names: also run what they need')
    .option('--executor <name>', `executor: ${Object.keys(EXECUTORS).join(', ')} (default: the config's runner's, else shell)`)
    .option('--config <config.toml>', "a gitlab-runner config.toml: the runner's executor, [runners.docker], hooks, environment, tls-ca-file")
    .option('--runner <name>', 'with --config: the [[runners]] entry to use (default: the first)')
    .option('--json', 'print machine-readable job events (one JSON object per line) instead of logs')
    .action(async (names: string[], flags: RunFlags) => {
      const picked = loadRunnerFlags(flags, rawIo)
      const loaded = picked ? { runner: picked.selected, text: picked.text } : undefined
      const runner = loaded?.runner
      const executorName = flags.executor ?? runner?.executor ?? 'shell'
      const makeExecutor = EXECUTORS[executorName]
      if (!makeExecutor) {
        throw new GlrunError('GLRUN_EXECUTOR_UNKNOWN', `executor "${executorName}" is not available in this version of glrun`, { hint: `Available: ${Object.keys(EXECUTORS).join(', ')}.` })
      }
      const make = makeExecutor
      const pipeline = await compileFromFlags(flags)
      const io = maskedIo(rawIo, pipeline.maskedValues)
      if (pipeline.errors.length > 0) {
        printDiagnostics(io, pipeline)
        setExit(1)
        return
      }
      if (reportNoPipeline(io, pipeline, flags.json)) return setExit(1)
      selectJobs(pipeline, names) // unknown names: one clear error
      const local = picked ? localRunnerSettings(picked.config, picked.selected) : undefined
      for (const w of local?.warnings ?? []) io.err(`${renderDiagnostic(w, undefined, { color: io.color })}\n`)
      const concurrency = Number(flags.concurrency ?? local?.concurrency ?? cpus().length)
      if (!Number.isInteger(concurrency) || concurrency < 1) throw new GlrunError('GLRUN_CLI_CONCURRENCY', `--concurrency must be a positive number, not "${flags.concurrency}"`)
      const projectDir = pipeline.projectDir
      const glrunDir = join(projectDir, '.glrun')
      keepGlrunOutOfGit(projectDir)
      const lock = acquireRunLock(glrunDir)
      try {
        await runLocked()
      } finally {
        lock.release()
      }

      async function runLocked(): Promise<void> {
        // A run that was killed may have left its jobs running: end them before their directories
        // are reused (they hold the old run's variables and would write into this run's files).
        const stateDir = join(glrunDir, 'state')
        const orphans = killOrphanGroups(stateDir)
        if (orphans > 0) io.err(`glrun: ended ${orphans} job process group${orphans === 1 ? '' : 's'} left running by a glrun that was killed`)
        const tmpDir = join(glrunDir, 'tmp')
        rmSync(tmpDir, { recursive: true, force: true })
        // The last run's job directories are moved aside and deleted by a detached `rm`, so neither
        // this run's jobs nor its exit wait for it.
        const buildsDir = join(glrunDir, 'builds')
        if (existsSync(buildsDir)) {
          const old = join(glrunDir, `builds-old-${process.pid}-${Date.now()}`)
          renameSync(buildsDir, old)
          spawn('rm', ['-rf', old], { detached: true, stdio: 'ignore' }).unref()
        }
        const snapshot = join(glrunDir, 'snapshot')
        const sha = pipeline.jobs[0]?.payload.git_info.sha ?? 'HEAD'
        await makeWorkspaceSnapshot(projectDir, sha, snapshot)
        let tracked: Promise<Set<string>> | undefined
        const trackedAtSha = (): Promise<Set<string>> => (tracked ??= trackedFiles(projectDir, sha))

        const artifacts = new LocalArtifactStore(glrunDir)
        const cache = new LocalCacheStore(local?.cacheDir ?? glrunDir)
        const reporter = new ConsoleReporter(io, pipeline.jobs.map((j) => j.name))
        const controller = new AbortController()
        let interrupts = 0
        let terminated = false
        // SIGTERM (systemd, docker stop, a CI's timeout) cancels like Ctrl-C: jobs get their after_script.
        const onSignal = (sig: NodeJS.Signals): void => {
          interrupts++
          if (sig === 'SIGTERM') terminated = true
          if (interrupts === 1) {
            io.err(`\nCanceling${sig === 'SIGTERM' ? ' (SIGTERM)' : ''}: running jobs get their after_script. ${sig === 'SIGINT' ? 'Press Ctrl-C again to kill them.' : 'Send it again to kill them.'}`)
            controller.abort()
          } else process.exit(sig === 'SIGTERM' ? 143 : 130)
        }
        process.on('SIGINT', onSignal)
        process.on('SIGTERM', onSignal)
          const executor = make(runner)
        // An engine that is down is one error before any job starts, not one failure per job.
        const probe = await executor.probe(new AbortController().signal)
        if (!probe.ok) throw new GlrunError('GLRUN_EXECUTOR_UNAVAILABLE', `the ${executorName} executor cannot run jobs: ${probe.reason}`, { hint: probe.hint })
        const runnerJob = runner ? runnerJobSettings(runner) : undefined
        try {
          const outcome = await runPipeline(pipeline.jobs, async (job, attempt, signal) => {
            const tracePath = join(glrunDir, 'jobs', jobDirName(job.name), attempt > 1 ? `trace-${attempt}.log` : 'trace.log')
            reporter.tracePath(job.name, tracePath)
            const ciYaml = pipelineText(projectDir, flags.file)
            const { outcome, diagnosis } = await executeJob({
              job: job.payload, executor, tracePath, buildsDir, workspaceSnapshot: snapshot, localRepo: projectDir,
              artifacts, cache, tmpDir, tracked: trackedAtSha, stateDir, signal, ...(local ? { outputLimit: local.outputLimitBytes } : {}),
              sinks: flags.json ? [] : [new LineSink((line) => reporter.line(job.name, line))],
              ...(runnerJob ? { runner: runnerJob } : {}),
              diagnose: { ...(ciYaml !== undefined ? { ciYaml } : {}), ...(loaded ? { configText: loaded.text } : {}), ...(runnerJob?.caPem ? { caPem: runnerJob.caPem } : {}), color: io.color },
            })
            if (diagnosis && flags.json) io.out(JSON.stringify({ type: 'job-diagnosis', job: job.name, path: diagnosis.path }))
            else if (diagnosis) for (const l of `\n${diagnosis.text}`.replace(/\n$/, '').split('\n')) reporter.line(job.name, l)
            return withCoverage(outcome, job.source?.definition['coverage'], tracePath)
          }, {
            concurrency, signal: controller.signal,
            ...(names.length ? { select: names } : {}), withNeeds: flags.needs === true, manual: flags.manual === true,
            onEvent: (e) => {
              if (flags.json) io.out(JSON.stringify(e.type === 'job-finished' || e.type === 'job-skipped' ? { type: e.type, job: e.job, ...e.result } : e))
              else reporter.event(e)
            },
          })
          if (!flags.json) {
            reporter.summary(outcome.results, new Map(pipeline.jobs.map((j) => [j.name, j.stage])))
            io.out(`\npipeline ${outcome.status === 'success' ? (outcome.warnings ? 'passed with warnings' : 'passed') : outcome.status}`)
          } else {
            io.out(JSON.stringify({ type: 'pipeline-finished', status: outcome.status, warnings: outcome.warnings }))
          }
          setExit(outcome.status === 'success' ? 0 : outcome.status === 'canceled' ? (terminated ? 143 : 130) : 1)
        } finally {
          process.off('SIGINT', onSignal)
          process.off('SIGTERM', onSignal)
        }
      }
    })
}
