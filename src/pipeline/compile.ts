import { GlrunError } from '../diagnostics/errors.js'
import { SourceTexts } from '../diagnostics/source.js'
import type { PipelineContext } from './context/types.js'
import { type IncludeOptions, resolveConfig } from './include/index.js'
import { isHidden, jobKeys } from './model/keywords.js'
import { readVariables } from './model/job.js'
import { resolveExtends } from './normalize/extends.js'
import { resolveReferences } from './normalize/references.js'
import type { FilesDigest } from './payload/cache.js'
import { type IdSource, localIds } from './payload/to-payload.js'
import { planJobs } from './plan/plan-jobs.js'
import { GITLAB_RULES_FAILURE, GITLAB_WORKFLOW_FAILURE, emptyPipelineReason, notCreatedJobs } from './plan/not-created.js'
import { readStages } from './plan/stages.js'
import type { CompiledPipeline, PlannedJob } from './plan/types.js'
import { evaluateIncludeRules, evaluateWorkflow } from './rules/index.js'
import { dindPitfalls } from './pitfalls/dind.js'
import { dockerDaemonPitfalls } from './pitfalls/docker-daemon.js'
import { dockerfileArgPitfalls } from './pitfalls/dockerfile-args.js'
import { imageEntrypointPitfalls } from './pitfalls/image-entrypoint.js'
import { outsideProjectPathPitfalls } from './pitfalls/outside-project-paths.js'
import { scriptModePitfalls } from './pitfalls/script-mode.js'
import { validateJobWhen } from './validate/job-when.js'
import { validateRules } from './validate/rules.js'
import { validateScriptNesting } from './validate/script-nesting.js'
import { faultedKey, validateSchema } from './validate/schema.js'
import { expandCollection, expandExisting } from './variables/expand.js'
import { pipelineName, rootVariables } from './variables/root-variables.js'

export interface CompileOptions {
  readonly ctx: PipelineContext
  /** Root config, relative to the project dir. Default `.gitlab-ci.yml`. */
  readonly file?: string
  /** How non-local includes are reached (mapping, GitLab instance, templates dir, cache). */
  readonly include?: Pick<IncludeOptions, 'projectMap' | 'templatesDir' | 'gitlab' | 'remoteCacheDir' | 'fetch' | 'inputs'>
  readonly ids?: IdSource
  /** Digest of files' last commits for `cache:key:files`; default: none (key `default`). */
  readonly digest?: FilesDigest
  /** For child pipelines: the root text (an include of the trigger's files) and the nesting depth. */
  readonly rootText?: string
  readonly depth?: number
}

/**
 * Children are compiled one level deep (GitLab allows two more levels, created only when a
 * trigger job runs): enough to validate what the parent triggers without compiling a large
 * pipeline that triggers itself over and over.
 */
const MAX_CHILD_DEPTH = 1

/**
 * `.gitlab-ci.yml` → the pipeline GitLab would create, in GitLab's order: includes, extends,
 * !reference, validation, workflow:rules, then per job defaults, parallel expansion, rules,
 * needs, and finally one job payload per job (the JSON `/jobs/request` would return).
 * Every problem found is returned at once; nothing here throws for a user mistake.
 */
export async function compilePipeline(opts: CompileOptions): Promise<CompiledPipeline> {
  const { ctx } = opts
  const sources = new SourceTexts()
  const errors: GlrunError[] = []
  const warnings: GlrunError[] = []
  const file = opts.file ?? '.gitlab-ci.yml'

  const pipelineVars = expandCollection([...ctx.predefined, ...ctx.userVariables])
  const pipelineLookup = (n: string): string | undefined => pipelineVars.get(n)
  const ruleEnv = { vars: pipelineLookup, ctx, expand: (s: string) => expandExisting(s, pipelineLookup) }

  const resolved = await resolveConfig({
    ...opts.include,
    projectDir: ctx.projectDir,
    file,
    vars: pipelineLookup,
    includeRulesMatch: (rules) => evaluateIncludeRules(rules, ruleEnv),
    sources,
    ...(opts.rootText !== undefined ? { rootText: opts.rootText } : {}),
  })
  warnings.push(...resolved.warnings)
  const empty = (created: boolean, reason: string): CompiledPipeline => ({
    projectDir: ctx.projectDir, maskedValues: masked(ctx), stages: [], jobs: [], excluded: [], workflow: { created, reason }, errors: split(errors, warnings), warnings, sources, files: resolved.files,
  })
  if (resolved.errors.length > 0) {
    errors.push(...resolved.errors)
    return empty(false, 'the configuration could not be read')
  }

  const extended = resolveExtends(resolved.config, errors)
  const config = resolveReferences(extended, errors)
  const schemaErrors = await validateSchema(config)
  errors.push(...schemaErrors)
  validateRules(config, errors)
  validateJobWhen(config, errors)
  validateScriptNesting(config, errors)
  // Jobs the schema already faulted are not checked again for a missing script: a misspelt
  // `scirpt:` is one mistake and gets one diagnostic.
  const faulted = new Set(schemaErrors.map(faultedKey).filter((n): n is string => n !== undefined))

  const stages = readStages(config, errors)
  const globalVariables = readVariables(config['variables'])
  const visible = jobKeys(config).filter((k) => !isHidden(k))
  if (visible.length === 0) {
    errors.push(new GlrunError('GLRUN_NO_VISIBLE_JOB', 'jobs config should contain at least one visible job', {
      where: { file, line: 1, col: 1 },
      hint: 'Add a job (a top-level key that does not start with a dot) with a `script:`.',
    }))
    return empty(false, 'no visible job')
  }

  const workflowVars = expandCollection([...ctx.predefined, ...globalVariables, ...ctx.userVariables])
  const workflow = evaluateWorkflow(config['workflow'], {
    vars: (n) => workflowVars.get(n),
    ctx,
    expand: (s) => expandExisting(s, (n) => workflowVars.get(n)),
  })
  const root = rootVariables(globalVariables, workflow.matched ? workflow.variables ?? {} : {})
  const name = pipelineName(workflow.name, ctx, root)
  const plan = planJobs({
    config, stages, visible, globalVariables: root, ctx, errors, faulted,
    ids: opts.ids ?? localIds,
    digest: opts.digest ?? (() => null),
    ...(name !== undefined ? { pipelineName: name } : {}),
  })
  if (!workflow.matched) {
    return {
      ...empty(false, `workflow:rules: ${workflow.reason}`),
      workflow: { created: false, reason: `workflow:rules: ${workflow.reason}`, gitlabMessage: GITLAB_WORKFLOW_FAILURE },
      excluded: plan.all.map((j) => ({ ...j, reason: 'the pipeline is not created (workflow:rules)' })),
    }
  }
  const emptyReason = emptyPipelineReason(plan.jobs, plan.excluded)
  if (emptyReason !== undefined) {
    return {
      ...empty(false, emptyReason),
      workflow: { created: false, reason: emptyReason, gitlabMessage: GITLAB_RULES_FAILURE },
      excluded: [...plan.excluded, ...notCreatedJobs(plan.jobs)],
    }
  }
  const jobs = await compileChildren(plan.jobs, opts, errors, warnings)
  const ciVariables = new Set([...ctx.predefined, ...ctx.userVariables, ...root].map((v) => v.key))
  warnings.push(...dockerfileArgPitfalls(jobs, ctx.projectDir, sources, ciVariables))
  // Failure-taxonomy classes decidable from the YAML alone: warnings, never errors.
  warnings.push(...imageEntrypointPitfalls(jobs), ...dindPitfalls(jobs), ...dockerDaemonPitfalls(jobs), ...outsideProjectPathPitfalls(jobs), ...scriptModePitfalls(jobs, ctx.projectDir))
  return {
    projectDir: ctx.projectDir,
    maskedValues: masked(ctx),
    stages: stages.filter((s) => plan.jobs.some((j) => j.stage === s)),
    jobs,
    excluded: plan.excluded,
    workflow: { created: true, reason: workflow.reason, ...(name !== undefined ? { name } : {}) },
    errors: split(errors, warnings),
    warnings,
    sources,
    files: resolved.files,
  }
}

/**
 * Child pipelines (`trigger:include` of files in this repository) are compiled like GitLab would
 * create them, with CI_PIPELINE_SOURCE=parent_pipeline; their problems are the parent's problems.
 * Other triggers (multi-project, artifacts, remote) cannot be created locally: a warning says so.
 */
async function compileChildren(jobs: readonly PlannedJob[], opts: CompileOptions, errors: GlrunError[], warnings: GlrunError[]): Promise<PlannedJob[]> {
  const out: PlannedJob[] = []
  for (const job of jobs) {
    if (job.trigger?.kind === 'unsupported') {
      warnings.push(new GlrunError('GLRUN_TRIGGER_UNSUPPORTED', `${job.name}: ${job.trigger.what} cannot be created in a local run`, {
        where: job.span, severity: 'warning', hint: 'The job is listed but will not run locally; run it in GitLab.',
      }))
    }
    if (job.trigger?.kind !== 'child' || (opts.depth ?? 0) >= MAX_CHILD_DEPTH) {
      out.push(job)
      continue
    }
    const ctx = childContext(opts.ctx)
    const rootText = `include:\n${job.trigger.files.map((f) => `  - local: ${JSON.stringify(f)}\n`).join('')}`
    // Several trigger jobs often start the same child pipeline: compile each one once.
    const key = rootText
    let pending = childMemo.get(opts.ctx)?.get(key)
    if (!pending) {
      pending = compilePipeline({ ...opts, ctx, rootText, file: `${job.name} (child pipeline)`, depth: (opts.depth ?? 0) + 1 })
      if (!childMemo.has(opts.ctx)) childMemo.set(opts.ctx, new Map())
      childMemo.get(opts.ctx)!.set(key, pending)
    }
    const child = await pending
    for (const e of child.errors) errors.push(new GlrunError(e.code, `child pipeline of ${job.name}: ${e.message}`, { ...(e.where ? { where: e.where } : {}), ...(e.hint ? { hint: e.hint } : {}) }))
    warnings.push(...child.warnings)
    // Attached in place: copying the job would force its lazily built payload.
    out.push(Object.defineProperty(job, 'child', {
      value: { stages: child.stages, jobs: child.jobs.map((j) => ({ name: j.name, stage: j.stage, when: j.when })) },
      enumerable: true,
    }))
  }
  return out
}

function masked(ctx: PipelineContext): string[] {
  return ctx.userVariables.filter((v) => v.masked).map((v) => v.value)
}

const childMemo = new WeakMap<PipelineContext, Map<string, Promise<CompiledPipeline>>>()

function childContext(ctx: PipelineContext): PipelineContext {
  return {
    ...ctx,
    pipelineSource: 'parent_pipeline',
    predefined: ctx.predefined.map((v) => (v.key === 'CI_PIPELINE_SOURCE' ? { ...v, value: 'parent_pipeline' } : v)),
    changedFiles: ctx.changedFiles.bind(ctx),
    treeFiles: ctx.treeFiles.bind(ctx),
  }
}

/** Moves warning-severity diagnostics out of `errors` into `warnings`; returns the errors. */
function split(errors: GlrunError[], warnings: GlrunError[]): GlrunError[] {
  const out: GlrunError[] = []
  for (const e of errors) (e.severity === 'warning' ? warnings : out).push(e)
  return out
}

