import type { JobHook, JobPayload, JobStep, JobVariable } from '../../payload/types.js'
import type { PipelineContext } from '../context/types.js'
import { slugify } from '../context/slug.js'
import { isPlainObject } from '../model/keywords.js'
import { type YamlVariable, flattenStrings } from '../model/job.js'
import { expandExisting, lastWins } from '../variables/expand.js'
import { toArtifacts } from './artifacts.js'
import { type FilesDigest, toCache } from './cache.js'
import { environmentSlug, inferTier, readEnvironment } from './environment.js'
import { idTokenVariables } from './id-tokens.js'
import { toImage, toServices } from './image.js'
import { releaseStep } from './release.js'

/** Deterministic ids, so compiled payloads are stable across runs (and golden-testable). */
export interface IdSource {
  jobId(index: number): number
  jobToken(jobId: number): string
}

export const localIds: IdSource = {
  jobId: (index) => index + 1,
  jobToken: (id) => `glcbt-local-job-token-${id}`,
}

/** GitLab's failure_reason vocabulary, as sent in `features.failure_reasons`. */
export const FAILURE_REASONS = [
  'unknown_failure', 'script_failure', 'api_failure', 'stuck_or_timeout_failure', 'runner_system_failure',
  'missing_dependency_failure', 'runner_unsupported', 'stale_schedule', 'job_execution_timeout', 'archived_failure',
  'unmet_prerequisites', 'scheduler_failure', 'data_integrity_failure', 'forward_deployment_failure',
  'user_blocked', 'project_deleted', 'ci_quota_exceeded', 'pipeline_loop_detected', 'no_matching_runner',
  'trace_size_exceeded', 'builds_disabled', 'environment_creation_failure', 'deployment_rejected',
  'failed_outdated_deployment_job', 'protected_environment_failure', 'insufficient_bridge_permissions',
  'downstream_bridge_project_not_found', 'invalid_bridge_trigger', 'upstream_bridge_project_not_found',
  'insufficient_upstream_permissions', 'bridge_pipeline_is_child_pipeline', 'downstream_pipeline_creation_failed',
  'secrets_provider_not_found', 'reached_max_descendant_pipelines_depth', 'ip_restriction_failure',
  'reached_max_pipeline_hierarchy_size', 'reached_downstream_pipeline_trigger_rate_limit', 'image_pull_failure',
]

export const TOKEN_MASK_PREFIXES = [
  'glpat-', 'gloas-', 'gldt-', 'glrt-', 'glrtr-', 'glcbt-', 'glptt-', 'glft-', 'glimt-', 'glagent-', 'glsoat-', 'glffct-', 'GR1348941',
]

export interface PayloadInput {
  index: number
  name: string
  stage: string
  job: Record<string, unknown>
  /** Top-level YAML variables this job inherits (after `inherit:variables`). */
  globalVariables: readonly YamlVariable[]
  jobVariables: readonly YamlVariable[]
  /** From the matched rule (`rules:variables`), already strings. */
  ruleVariables: Record<string, string>
  /** CI_NODE_INDEX/TOTAL and matrix values. */
  instanceVariables: readonly { key: string; value: string }[]
  /** Variables from the workflow rule that matched (pipeline-global). */
  pipelineName?: string
  manual: boolean
  timeoutSeconds: number
  dependencies: readonly { name: string; id: number }[]
  ctx: PipelineContext
  ids: IdSource
  digest: FilesDigest
}

const NODE_VARIABLES: ReadonlySet<string> = new Set(['CI_NODE_INDEX', 'CI_NODE_TOTAL'])

const pub = (key: string, value: string): JobVariable => ({ key, value, public: true, masked: false })

export function toPayload(p: PayloadInput): JobPayload {
  const { ctx } = p
  const id = p.ids.jobId(p.index)
  const token = p.ids.jobToken(id)
  const protectedRef = ctx.predefined.find((v) => v.key === 'CI_COMMIT_REF_PROTECTED')?.value === 'true'

  const variables: JobVariable[] = ctx.predefined.map((v) => ({ key: v.key, value: v.value, public: true, masked: false }))
  variables.push(
    pub('CI_JOB_NAME', p.name),
    pub('CI_JOB_NAME_SLUG', slugify(p.name)),
    pub('CI_JOB_STAGE', p.stage),
    pub('CI_JOB_ID', String(id)),
    pub('CI_JOB_URL', `${ctx.serverUrl}/${ctx.projectPath}/-/jobs/${id}`),
    { key: 'CI_JOB_TOKEN', value: token, public: false, masked: true },
    pub('CI_REGISTRY_USER', 'gitlab-ci-token'),
    { key: 'CI_REGISTRY_PASSWORD', value: token, public: false, masked: true },
  )
  if (p.manual) variables.push(pub('CI_JOB_MANUAL', 'true'))
  // GitLab lists CI_NODE_INDEX/CI_NODE_TOTAL with the job's predefined variables; matrix values
  // are the job's own variables and come later.
  for (const v of p.instanceVariables) if (NODE_VARIABLES.has(v.key)) variables.push(pub(v.key, v.value))
  if (p.pipelineName) variables.push(pub('CI_PIPELINE_NAME', p.pipelineName))

  const yamlLookup = lastWins([...ctx.predefined, ...p.globalVariables, ...p.jobVariables, ...ctx.userVariables])
  const env = readEnvironment(p.job['environment'])
  if (env) {
    const name = expandExisting(env.name, yamlLookup)
    variables.push(pub('CI_ENVIRONMENT_NAME', name), pub('CI_ENVIRONMENT_SLUG', environmentSlug(name)))
    if (env.url) variables.push(pub('CI_ENVIRONMENT_URL', expandExisting(env.url, yamlLookup)))
    variables.push(pub('CI_ENVIRONMENT_ACTION', env.action ?? 'start'), pub('CI_ENVIRONMENT_TIER', env.tier ?? inferTier(name)))
  }
  const createdAt = ctx.predefined.find((v) => v.key === 'CI_PIPELINE_CREATED_AT')?.value ?? ''
  variables.push(...idTokenVariables(p.job['id_tokens'], ctx, id, createdAt))
  for (const v of p.globalVariables) variables.push({ key: v.key, value: v.value, public: true, ...(v.raw ? { raw: true } : {}) })
  for (const v of p.jobVariables) variables.push({ key: v.key, value: v.value, public: true, ...(v.raw ? { raw: true } : {}) })
  for (const [key, value] of Object.entries(p.ruleVariables)) variables.push(pub(key, value))
  for (const v of p.instanceVariables) if (!NODE_VARIABLES.has(v.key)) variables.push(pub(v.key, v.value))
  for (const v of ctx.userVariables) {
    variables.push({ key: v.key, value: v.value, public: !v.masked, masked: v.masked === true, ...(v.file ? { file: true } : {}), ...(v.raw ? { raw: true } : {}) })
  }

  const steps: JobStep[] = [
    {
      name: 'script',
      script: [...flattenStrings(p.job['before_script']), ...flattenStrings(p.job['script'])],
      timeout: p.timeoutSeconds,
      when: 'on_success',
      allow_failure: false,
    },
  ]
  const release = releaseStep(p.job['release'], p.timeoutSeconds)
  if (release) steps.push(release)
  const after = flattenStrings(p.job['after_script'])
  if (after.length > 0) steps.push({ name: 'after_script', script: after, timeout: p.timeoutSeconds, when: 'always', allow_failure: true })

  const depth = Number(yamlLookup('GIT_DEPTH') ?? '20')
  const refspecs = ctx.refType === 'tag'
    ? [`+refs/pipelines/${ctx.pipelineId}:refs/pipelines/${ctx.pipelineId}`, `+refs/tags/${ctx.ref}:refs/tags/${ctx.ref}`]
    : [`+refs/pipelines/${ctx.pipelineId}:refs/pipelines/${ctx.pipelineId}`, `+refs/heads/${ctx.ref}:refs/remotes/origin/${ctx.ref}`]

  const payload: JobPayload = {
    id,
    token,
    allow_git_fetch: true,
    job_info: {
      name: p.name,
      stage: p.stage,
      pipeline_id: ctx.pipelineId,
      project_id: ctx.projectId,
      project_name: ctx.projectName,
      project_full_path: ctx.projectPath,
      user_id: ctx.userId,
    },
    git_info: {
      repo_url: withJobToken(ctx.repoUrl, token),
      repo_object_format: 'sha1',
      ref: ctx.ref,
      sha: ctx.sha,
      before_sha: ctx.beforeSha,
      ref_type: ctx.refType,
      refspecs,
      depth: Number.isFinite(depth) ? depth : 20,
      protected: protectedRef,
    },
    runner_info: { timeout: p.timeoutSeconds },
    variables,
    steps,
    image: toImage(p.job['image']),
    services: toServices(p.job['services']),
    artifacts: toArtifacts(p.job['artifacts']),
    cache: toCache(p.job['cache'], { protectedRef, digest: p.digest }),
    credentials: [{ type: 'registry', url: registryHost(ctx), username: 'gitlab-ci-token', password: token }],
    dependencies: p.dependencies.map((d) => ({ id: d.id, token, name: d.name })),
    features: { trace_sections: true, token_mask_prefixes: TOKEN_MASK_PREFIXES, failure_reasons: FAILURE_REASONS },
  }
  const hooks = toHooks(p.job['hooks'])
  if (hooks.length > 0) payload.hooks = hooks
  if (isPlainObject(p.job['secrets'])) payload.secrets = p.job['secrets']
  return payload
}

function toHooks(v: unknown): JobHook[] {
  if (!isPlainObject(v)) return []
  return Object.entries(v).map(([name, script]) => ({ name, script: flattenStrings(script) }))
}

function registryHost(ctx: PipelineContext): string {
  return ctx.predefined.find((v) => v.key === 'CI_REGISTRY')?.value ?? ''
}

/** GitLab hands runners a clone URL that carries the job token (`gitlab-ci-token:<token>@`). */
function withJobToken(url: string, token: string): string {
  const m = /^(https?:\/\/)(?:[^@/]*@)?(.*)$/.exec(url)
  return m ? `${m[1]}gitlab-ci-token:${token}@${m[2]}` : url
}
