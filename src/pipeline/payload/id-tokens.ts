import type { JobVariable } from '../../payload/types.js'
import type { PipelineContext } from '../context/types.js'
import { isPlainObject } from '../model/keywords.js'
import { flattenStrings, scalarString } from '../model/job.js'

/**
 * `id_tokens:` → one masked variable per token holding a JWT with GitLab's claims. Only GitLab
 * can sign these; a local run gets the same claims in an unsigned token (`alg: none`), which
 * lets scripts that read the claims run, and which no relying party will accept — as it should.
 * In runner mode the tokens come signed from GitLab in the payload.
 */
export function idTokenVariables(idTokens: unknown, ctx: PipelineContext, jobId: number, createdAt: string): JobVariable[] {
  if (!isPlainObject(idTokens)) return []
  const iat = Math.floor(Date.parse(createdAt) / 1000) || 0
  const out: JobVariable[] = []
  for (const [name, spec] of Object.entries(idTokens)) {
    const audValue = isPlainObject(spec) ? spec['aud'] : undefined
    const aud = Array.isArray(audValue) ? flattenStrings(audValue) : scalarString(audValue)
    const claims = {
      namespace_id: '1', namespace_path: ctx.projectNamespace, project_id: String(ctx.projectId), project_path: ctx.projectPath,
      user_id: String(ctx.userId), pipeline_id: String(ctx.pipelineId), pipeline_source: ctx.pipelineSource,
      job_id: String(jobId), ref: ctx.ref, ref_type: ctx.refType, ref_protected: String(ctx.ref === ctx.defaultBranch),
      jti: `glrun-local-${ctx.pipelineId}-${jobId}-${name}`, iss: ctx.serverUrl, iat, nbf: iat - 5, exp: iat + 3600,
      sub: `project_path:${ctx.projectPath}:ref_type:${ctx.refType}:ref:${ctx.ref}`, aud,
    }
    const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url')
    out.push({ key: name, value: `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`, public: false, masked: true })
  }
  return out
}
