import type { GlrunError } from '../../diagnostics/errors.js'
import type { SourceSpan, SourceTexts } from '../../diagnostics/source.js'
import type { JobPayload } from '../../payload/types.js'
import type { AllowFailure, RetrySpec, When } from '../model/job.js'
import type { ResolvedNeed } from './needs.js'

/** A job that will be part of the pipeline, with everything the scheduler needs. */
export interface PlannedJob {
  readonly name: string
  readonly stage: string
  readonly stageIndex: number
  readonly when: Exclude<When, 'never'>
  readonly startIn?: string
  readonly allowFailure: AllowFailure
  /** null: no `needs:` (waits for earlier stages); []: `needs: []` (starts at once). */
  readonly needs: readonly ResolvedNeed[] | null
  /** Jobs whose artifacts this job downloads. */
  readonly dependencies: readonly string[]
  readonly retry: RetrySpec
  readonly interruptible: boolean
  readonly resourceGroup?: string
  readonly timeoutSeconds: number
  /** before_script + script as written (for checks that read commands without a payload). */
  readonly commands: readonly string[]
  /** Why the job is in the pipeline (the rule that matched, or the default). */
  readonly reason: string
  readonly payload: JobPayload
  readonly span: SourceSpan | undefined
  /** Child pipeline (`trigger:include` of local files), compiled separately; other triggers are not run locally. */
  readonly trigger?: { kind: 'child'; files: string[] } | { kind: 'unsupported'; what: string }
  /** The compiled child pipeline of a `trigger:include` job. */
  readonly child?: { readonly stages: readonly string[]; readonly jobs: readonly { name: string; stage: string; when: string }[] }
  /** The job as written, for lint checks that point at its keys (src/pipeline/pitfalls). */
  readonly source?: JobSource
}

/**
 * What lint checks read about a job without building its payload: the job's mapping and the
 * variables it sees, each traceable to the line that defines it.
 */
export interface JobSource {
  /** The job's mapping after extends, !reference and defaults; positions via yaml/positions.ts. */
  readonly definition: Readonly<Record<string, unknown>>
  /**
   * A variable's value as GitLab creates the job (predefined, inherited global, job, matrix,
   * workflow, rules and user variables, expanded); undefined when the job does not have it.
   */
  variable(name: string): string | undefined
  /** Where the YAML defines a variable the job sees: the job's `variables:`, else the global ones. */
  variableSpan(name: string): SourceSpan | undefined
}

/** A job defined in the YAML that is not in this pipeline, and why. */
export interface ExcludedJob {
  readonly name: string
  readonly stage: string
  readonly reason: string
  readonly hidden: boolean
  readonly span: SourceSpan | undefined
}

export interface CompiledPipeline {
  /** The project (git work tree) the pipeline belongs to. */
  readonly projectDir: string
  /** Values of masked variables: no output may show them. */
  readonly maskedValues: readonly string[]
  /** Stages in order (only those with jobs, as GitLab shows them). */
  readonly stages: readonly string[]
  readonly jobs: readonly PlannedJob[]
  readonly excluded: readonly ExcludedJob[]
  /**
   * Whether GitLab would create the pipeline; `reason` says why (or why not), `gitlabMessage` is
   * the error GitLab shows when it does not.
   */
  readonly workflow: { readonly created: boolean; readonly reason: string; readonly name?: string; readonly gitlabMessage?: string }
  readonly errors: readonly GlrunError[]
  readonly warnings: readonly GlrunError[]
  readonly sources: SourceTexts
  readonly files: readonly string[]
}
