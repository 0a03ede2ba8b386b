import { GlrunError } from '../diagnostics/errors.js'
import { renderDiagnostic } from '../diagnostics/render.js'
import type { CompiledPipeline } from '../pipeline/plan/types.js'
import type { Io } from './io.js'
import { diagnosticJson } from './render-pipeline.js'

/**
 * The pipeline GitLab would not create (workflow:rules, or no job left), in glrun's words and
 * GitLab's. Why a diagnostic of its own: a run with nothing to run must not read as "passed".
 */
export function noPipelineError(pipeline: CompiledPipeline): GlrunError {
  const { reason, gitlabMessage } = pipeline.workflow
  return new GlrunError('GLRUN_NO_PIPELINE', `no pipeline would be created: ${reason}${gitlabMessage ? `; GitLab says: "${gitlabMessage}"` : ''}`, {
    hint: '`glrun list --all` shows every job left out and why; --ref, --pipeline-source and --variable simulate another trigger.',
  })
}

/** Says why nothing runs (as JSON with --json) when the pipeline is not created; false otherwise. */
export function reportNoPipeline(io: Io, pipeline: CompiledPipeline, json: boolean | undefined): boolean {
  if (pipeline.workflow.created) return false
  const e = noPipelineError(pipeline)
  if (json) io.out(JSON.stringify({ type: 'pipeline-not-created', ...diagnosticJson(e) }))
  else io.err(renderDiagnostic(e, pipeline.sources, { color: io.color }))
  return true
}

/** The same for `glrun list`: the answer to "what would run", on stdout. */
export function noPipelineLines(pipeline: CompiledPipeline, all: boolean): string[] {
  const { reason, gitlabMessage } = pipeline.workflow
  return [
    `No pipeline would be created: ${reason}.`,
    ...(gitlabMessage ? [`GitLab says: "${gitlabMessage}"`] : []),
    ...(all ? [] : ['(`glrun list --all` shows every job left out and why.)']),
  ]
}
