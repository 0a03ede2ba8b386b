import { existsSync, renameSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { cpus } from 'node:os'
import { join } from 'node:path'
import type { Command } from 'commander'
import { GlrunError } from '../../diagnostics/errors.js'
import { ShellExecutor } from '../../executors/shell/shell-executor.js'
import type { Executor } from '../../executors/types.js'
import { maskedValues } from '../../job/job-variables.js'
import { runJob } from '../../job/run-job.js'
import { LocalStore } from '../../job/artifacts/store.js'
import { makeWorkspaceSnapshot } from '../../job/sources/workspace.js'
import { slugify } from '../../pipeline/context/slug.js'
import { keepGlrunOutOfGit } from '../../support/git-exclude.js'
import { runPipeline } from '../../scheduler/scheduler.js'
import { Masker } from '../../trace/masker.js'
import { FileSink } from '../../trace/sinks/file-sink.js'
import { LineSink } from '../../trace/sinks/line-sink.js'
import { TraceWriter } from '../../trace/trace-writer.js'
import type { Io } from '../io.js'
import { maskedIo } from '../masked-io.js'
import { reportNoPipeline } from '../no-pipeline.js'
import { type PipelineFlags, addPipelineOptions, compileFromFlags } from '../pipeline-options.js'
import { ConsoleReporter } from '../console-reporter.js'
import { printDiagnostics } from '../render-pipeline.js'
import { selectJobs } from './compile.js'
import { DockerExecutor } from '../../executors/docker/docker-executor.js'
import type { RunnerJobSettings } from '../../job/run-job.js'
import type { RunnerSettings } from '../../runner-config/types.js'
import { readFileSync } from 'node:fs'
import { diagnoseFailedJob } from '../job-diagnosis.js'
import { loadRunnerFlags } from '../runner-flags.js'

/** The pipeline file's text, as evidence for the troubleshooter (absent when unreadable). */
function pipelineText(projectDir: string, file: string | undefined): string | undefined {
  try {
    return readFileSync(join(projectDir, file ?? '.gitlab-ci.yml'), 'utf8')
  } catch {
    return undefined
  }
}

/** What the runner's config adds to every job; tls-ca-file is read now so a bad path fails early. */
function runnerJobSettings(r: RunnerSettings): RunnerJobSettings {
  let caPem: string | undefined
  if (r.tlsCaFile) {
    try {
      caPem = readFileSync(r.tlsCaFile, 'utf8')
    } catch (e) {
      throw new GlrunError('GLRUN_CONFIG_TLS_CA_FILE', `tls-ca-file "${r.tlsCaFile}" of runner "${r.name}" cannot be read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { hint: 'Point tls-ca-file at the PEM file of the CA that signed your GitLab certificate.' })
    }
  }
  return {
    environment: r.environment,
    ...(r.preGetSourcesScript ? { preGetSourcesScript: r.preGetSourcesScript } : {}),
    ...(r.postGetSourcesScript ? { postGetSourcesScript: r.postGetSourcesScript } : {}),
    ...(r.preBuildScript ? { preBuildScript: r.preBuildScript } : {}),
    ...(r.postBuildScript ? { postBuildScript: r.postBuildScript } : {}),
    ...(caPem ? { caPem } : {}),
  }
}

/** The executors this build of glrun has, by name (the one place they are plugged in). */
const EXECUTORS: Record<string, (runner: RunnerSettings | undefined) => Executor> = {
  shell: () => new ShellExecutor(),
  // With no config.toml, local runs use images already here before asking a registry
  // (gitlab-ci-local's habit); a config without pull_policy gets gitlab-runner's "always".
  docker: (runner) => new DockerExecutor(runner ? runner.docker ?? {} : { pullPolicy: ['if-not-present'] }),
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
    .option('-j, --concurrency <n>', 'jobs at once (default: number of cores)')
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
      const make = EXECUTORS[executorName]
      if (!make) {
        throw new GlrunError('GLRUN_EXECUTOR_UNKNOWN', `executor "${executorName}" is not available in this version of glrun`, { hint: `Available: ${Object.keys(EXECUTORS).join(', ')}. The kubernetes executor is not built yet.` })
      }
      const pipeline = await compileFromFlags(flags)
      const io = maskedIo(rawIo, pipeline.maskedValues)
      if (pipeline.errors.length > 0) {
        printDiagnostics(io, pipeline)
        setExit(1)
        return
      }
      if (reportNoPipeline(io, pipeline, flags.json)) return setExit(1)
      selectJobs(pipeline, names) // unknown names: one clear error
      const concurrency = Number(flags.concurrency ?? cpus().length)
      if (!Number.isInteger(concurrency) || concurrency < 1) throw new GlrunError('GLRUN_CLI_CONCURRENCY', `--concurrency must be a positive number, not "${flags.concurrency}"`)
      const projectDir = pipeline.projectDir
      const glrunDir = join(projectDir, '.glrun')
      keepGlrunOutOfGit(projectDir)
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

      const store = new LocalStore(glrunDir)
      const reporter = new ConsoleReporter(io, pipeline.jobs.map((j) => j.name))
      const controller = new AbortController()
      let interrupts = 0
      const onSigint = (): void => {
        interrupts++
        if (interrupts === 1) {
          io.err('\nCanceling: running jobs get their after_script. Press Ctrl-C again to kill them.')
          controller.abort()
        } else process.exit(130)
      }
      process.on('SIGINT', onSigint)
      const executor = make(runner)
      // An engine that is down is one error before any job starts, not one failure per job.
      const probe = await executor.probe(new AbortController().signal)
      if (!probe.ok) throw new GlrunError('GLRUN_EXECUTOR_UNAVAILABLE', `the ${executorName} executor cannot run jobs: ${probe.reason}`, { hint: probe.hint })
      const runnerJob = runner ? runnerJobSettings(runner) : undefined
      try {
        const outcome = await runPipeline(pipeline.jobs, async (job, attempt, signal) => {
          const payload = job.payload
          const tracePath = join(glrunDir, 'jobs', slugify(job.name) || 'job', attempt > 1 ? `trace-${attempt}.log` : 'trace.log')
          reporter.tracePath(job.name, tracePath)
          const sinks = [new FileSink(tracePath)]
          if (!flags.json) sinks.push(new LineSink((line) => reporter.line(job.name, line)) as never)
          const trace = new TraceWriter({
            masker: new Masker(maskedValues(payload), payload.features.token_mask_prefixes),
            sinks,
            sections: payload.features.trace_sections,
          })
          let outcome
          try {
            outcome = await runJob({ job: payload, executor, trace, buildsDir, workspaceSnapshot: snapshot, localRepo: projectDir, store, signal, ...(runnerJob ? { runner: runnerJob } : {}) })
          } finally {
            await trace.close()
          }
          if (outcome.status === 'failed') {
            const diagnosis = await diagnoseFailedJob({
              tracePath, payload, executor, ciYaml: pipelineText(projectDir, flags.file),
              ...(loaded ? { configText: loaded.text } : {}), ...(runnerJob?.caPem ? { caPem: runnerJob.caPem } : {}),
            }, io.color)
            if (diagnosis && flags.json) io.out(JSON.stringify({ type: 'job-diagnosis', job: job.name, path: diagnosis.path }))
            else if (diagnosis) for (const l of `\n${diagnosis.text}`.replace(/\n$/, '').split('\n')) reporter.line(job.name, l)
          }
          return outcome
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
        setExit(outcome.status === 'success' ? 0 : outcome.status === 'canceled' ? 130 : 1)
      } finally {
        process.off('SIGINT', onSigint)
      }
    })
}
