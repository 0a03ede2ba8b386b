import type { Command } from 'commander'
import { GlrunError } from '../../diagnostics/errors.js'
import { closest } from '../../diagnostics/did-you-mean.js'
import type { CompiledPipeline, PlannedJob } from '../../pipeline/plan/types.js'
import { type PipelineFlags, addPipelineOptions, compileFromFlags } from '../pipeline-options.js'
import type { Io } from '../io.js'
import { maskedIo } from '../masked-io.js'
import { reportInvalid } from '../render-pipeline.js'
import { loadRunnerFlags } from '../runner-flags.js'
import { podManifests } from './compile-pod.js'

export function compileCommand(program: Command, rawIo: Io, setExit: (code: number) => void): void {
  addPipelineOptions(program.command('compile'))
    .description('print the job payloads GitLab would hand a runner (/jobs/request), and the planned DAG')
    .argument('[jobs...]', 'only these jobs (default: all)')
    .option('--json', 'print machine-readable JSON (default: a readable summary)')
    .option('--pod', 'print the Kubernetes Pod the kubernetes executor would create for each job (YAML; JSON with --json)')
    .option('--config <config.toml>', "with --pod: the gitlab-runner config.toml whose [runners.kubernetes] builds the pod")
    .option('--runner <name>', 'with --config: the [[runners]] entry to use (default: the first)')
    .action(async (names: string[], flags: PipelineFlags & { json?: boolean; pod?: boolean; config?: string; runner?: string }) => {
      if (!flags.pod && flags.config) throw new GlrunError('GLRUN_CLI_CONFIG', '--config is only used with --pod here', { hint: 'Add --pod to see the Pod built from that config, or drop --config.' })
      const picked = flags.pod ? loadRunnerFlags(flags, rawIo) : undefined
      const pipeline = await compileFromFlags(flags, { commitOptional: true })
      const io = maskedIo(rawIo, pipeline.maskedValues)
      if (reportInvalid(io, pipeline, flags.json)) {
        setExit(1)
        return
      }
      const jobs = selectJobs(pipeline, names)
      if (flags.pod) {
        io.out(podManifests(jobs, picked?.selected, flags.json === true).replace(/\n$/, ''))
      } else if (flags.json) {
        io.out(JSON.stringify(toJson(pipeline, jobs), null, 2))
      } else {
        for (const j of jobs) io.out(summary(j))
      }
      setExit(0)
    })
}

export function selectJobs(pipeline: CompiledPipeline, names: readonly string[]): PlannedJob[] {
  if (names.length === 0) return [...pipeline.jobs]
  return names.map((n) => {
    const job = pipeline.jobs.find((j) => j.name === n)
    if (job) return job
    const left = pipeline.excluded.find((e) => e.name === n)
    if (left) throw new GlrunError('GLRUN_JOB_EXCLUDED', `job "${n}" is not in this pipeline: ${left.reason}`, { hint: 'Use `glrun list --all` to see why jobs are left out, or set variables with --variable.' })
    const guess = closest(n, pipeline.jobs.map((j) => j.name))
    throw new GlrunError('GLRUN_JOB_UNKNOWN', `no job named "${n}" in this pipeline`, { hint: guess ? `did you mean "${guess}"?` : 'Run `glrun list` to see the job names.' })
  })
}

function toJson(pipeline: CompiledPipeline, jobs: readonly PlannedJob[]): unknown {
  return {
    pipeline: {
      stages: pipeline.stages,
      workflow: pipeline.workflow,
      jobs: pipeline.jobs.map((j) => ({
        name: j.name, stage: j.stage, when: j.when, allow_failure: j.allowFailure, needs: j.needs,
        dependencies: j.dependencies, retry: j.retry, interruptible: j.interruptible, timeout: j.timeoutSeconds,
        ...(j.startIn ? { start_in: j.startIn } : {}), ...(j.resourceGroup ? { resource_group: j.resourceGroup } : {}),
        ...(j.trigger ? { trigger: j.trigger } : {}), ...(j.child ? { child_pipeline: j.child } : {}),
      })),
      edges: dagEdges(pipeline),
    },
    payloads: jobs.map((j) => j.payload),
  }
}

/** The DAG the scheduler runs: needs edges, or stage order for jobs without needs. */
export function dagEdges(pipeline: CompiledPipeline): [string, string][] {
  const edges: [string, string][] = []
  for (const j of pipeline.jobs) {
    if (j.needs) {
      for (const n of j.needs) edges.push([n.job, j.name])
    } else {
      const prev = [...new Set(pipeline.jobs.filter((o) => o.stageIndex < j.stageIndex).map((o) => o.stageIndex))].sort((a, b) => b - a)[0]
      if (prev === undefined) continue
      for (const o of pipeline.jobs) if (o.stageIndex === prev) edges.push([o.name, j.name])
    }
  }
  return edges
}

function summary(j: PlannedJob): string {
  const p = j.payload
  const lines = [`${j.name}  (stage ${j.stage}, when ${j.when}, job id ${p.id})`]
  if (p.image) lines.push(`  image: ${p.image.name}`)
  for (const s of p.services) lines.push(`  service: ${s.name}${s.alias ? ` as ${s.alias}` : ''}`)
  for (const step of p.steps) {
    lines.push(`  ${step.name}:`)
    for (const line of step.script) lines.push(`    $ ${line.split('\n').join('\n      ')}`)
  }
  if (j.needs) lines.push(`  needs: ${j.needs.map((n) => n.job).join(', ') || '(none)'}`)
  if (j.dependencies.length) lines.push(`  artifacts from: ${j.dependencies.join(', ')}`)
  if (p.artifacts) lines.push(`  artifacts: ${p.artifacts.map((a) => `${a.artifact_type} ${a.paths.join(' ')}`).join('; ')}`)
  if (p.cache) lines.push(`  cache: ${p.cache.map((c) => `${c.key} (${c.policy}) ${c.paths.join(' ')}`).join('; ')}`)
  lines.push(`  variables: ${p.variables.length} (use --json to see the payload)`)
  return `${lines.join('\n')}\n`
}
