/**
 * What a pipeline knows before any job runs: the commit, the ref, the project, and the
 * pipeline-level variables GitLab would define (predefined "P" variables plus the user's own).
 * Built from the local git repository for local runs (see `git-context.ts`).
 */

export interface PipelineVariable {
  key: string
  value: string
  /** Masked variables never reach any output (trace, console, errors). */
  masked?: boolean
  /** File-type variable: the job sees a path to a file holding the value. */
  file?: boolean
  /** Raw: never `$VAR`-expanded. */
  raw?: boolean
  /** Public variables may be shown (gitlab-runner's `public`); predefined ones are. */
  public?: boolean
}

export type PipelineSource =
  | 'push' | 'web' | 'schedule' | 'api' | 'external' | 'chat' | 'webide' | 'merge_request_event'
  | 'external_pull_request_event' | 'parent_pipeline' | 'pipeline' | 'trigger' | (string & {})

export interface PipelineContext {
  /** Absolute path of the project (the git work tree root, or the --cwd given). */
  readonly projectDir: string
  readonly sha: string
  readonly beforeSha: string
  /** Branch or tag name. */
  readonly ref: string
  readonly refType: 'branch' | 'tag'
  readonly defaultBranch: string
  readonly pipelineSource: PipelineSource
  /** `group/sub/project` */
  readonly projectPath: string
  readonly projectName: string
  readonly projectNamespace: string
  /** e.g. https://gitlab.example.com */
  readonly serverUrl: string
  readonly repoUrl: string
  readonly pipelineId: number
  readonly pipelineIid: number
  readonly projectId: number
  readonly userId: number
  /** Predefined pipeline-level variables (lowest precedence), in GitLab's order. */
  readonly predefined: readonly PipelineVariable[]
  /**
   * Variables the user gave (--variable, variables file, masked ones): they play the role of
   * project/pipeline variables, so they override everything the YAML defines.
   */
  readonly userVariables: readonly PipelineVariable[]
  /**
   * Files changed by this pipeline's push, relative to the project dir, for `rules:changes`.
   * `compareTo` is `rules:changes:compare_to` (a ref). Returns null when there is no push context
   * to compare against; GitLab then treats `changes` as true.
   */
  changedFiles(compareTo?: string): readonly string[] | null
  /** Every file in the tree at this pipeline's commit (plus the working tree's), for `rules:exists`. */
  treeFiles(): readonly string[]
}
