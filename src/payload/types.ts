/**
 * The job payload: the JSON GitLab's `POST /api/v4/jobs/request` returns to a runner
 * (gitlab-runner `common/spec/spec.go` `Job`). glrun's compiler emits exactly this shape, so a
 * job compiled from a local `.gitlab-ci.yml` and a job handed out by GitLab take the same path
 * through the executor. snake_case on purpose: payloads can be diffed against a real response.
 *
 * This module imports nothing: it is the contract between the compiler, the runner loop and
 * the executors.
 */

export interface JobPayload {
  id: number
  token: string
  allow_git_fetch: boolean
  job_info: JobInfo
  git_info: GitInfo
  runner_info: RunnerInfo
  variables: JobVariable[]
  steps: JobStep[]
  image: JobImage | null
  services: JobImage[]
  artifacts: JobArtifact[] | null
  cache: JobCache[] | null
  credentials: JobCredentials[]
  dependencies: JobDependency[]
  features: JobFeatures
  hooks?: JobHook[]
  secrets?: Record<string, unknown>
}

export interface JobInfo {
  name: string
  stage: string
  pipeline_id: number
  project_id: number
  project_name: string
  project_full_path?: string
  namespace_id?: number
  root_namespace_id?: number
  user_id?: number
}

export interface GitInfo {
  repo_url: string
  repo_object_format?: 'sha1' | 'sha256'
  ref: string
  sha: string
  before_sha: string
  ref_type: 'branch' | 'tag'
  refspecs: string[]
  depth: number
  protected?: boolean
}

export interface RunnerInfo {
  /** Job timeout in seconds. */
  timeout: number
}

export interface JobVariable {
  key: string
  value: string
  public: boolean
  file?: boolean
  masked?: boolean
  raw?: boolean
}

export type StepName = 'script' | 'after_script' | 'release' | (string & {})
export type StepWhen = 'on_success' | 'on_failure' | 'always'

export interface JobStep {
  name: StepName
  script: string[]
  timeout: number
  when: StepWhen
  allow_failure: boolean
}

export type PullPolicy = 'always' | 'if-not-present' | 'never'

export interface JobImage {
  name: string
  alias?: string
  command?: string[]
  entrypoint?: string[]
  ports?: { number: number; protocol?: string; name?: string }[]
  variables?: JobVariable[]
  pull_policy?: PullPolicy[]
  executor_opts?: {
    docker?: { platform?: string; user?: string }
    kubernetes?: { user?: string }
  }
}

export type ArtifactWhen = 'on_success' | 'on_failure' | 'always'

export interface JobArtifact {
  name: string
  untracked: boolean
  paths: string[]
  exclude: string[]
  when: ArtifactWhen
  artifact_type: string
  artifact_format: '' | 'zip' | 'gzip' | 'raw' | 'zipzstd' | 'tarzstd'
  expire_in: string
}

export type CachePolicy = 'pull-push' | 'pull' | 'push' | (string & {})

export interface JobCache {
  key: string
  untracked: boolean
  policy: CachePolicy
  paths: string[]
  when: ArtifactWhen
  fallback_keys: string[]
  unprotect?: boolean
}

export interface JobCredentials {
  type: string
  url: string
  username: string
  password: string
}

export interface JobDependency {
  id: number
  token: string
  name: string
  artifacts_file?: { filename: string; size: number }
}

export interface JobFeatures {
  trace_sections: boolean
  token_mask_prefixes?: string[]
  failure_reasons: string[]
}

export interface JobHook {
  name: 'pre_get_sources_script' | 'post_get_sources_script' | (string & {})
  script: string[]
}
