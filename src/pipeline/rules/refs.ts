import type { PipelineContext } from '../context/types.js'
import { ExpressionError, compileRegexp, scanPattern } from '../expressions/index.js'

/**
 * One `only:refs` / `except:refs` entry against the pipeline, as GitLab's `Only::Refs` does:
 * `branches`/`tags`, the pipeline source in plural (`pushes`, `schedules`, `merge_requests`,
 * `pipelines`, `triggers`…) or as is (`web`, `api`), a `/regex/` or a name matched against the
 * ref (only for branch and tag pipelines), optionally `@group/project`.
 */
export function refMatches(entry: string, ctx: PipelineContext): boolean {
  const at = entry.lastIndexOf('@')
  if (at > 0 && !entry.startsWith('/')) {
    const project = entry.slice(at + 1)
    if (!patternOrEqual(project, ctx.projectPath)) return false
    return refMatches(entry.slice(0, at), ctx)
  }
  const isMr = ctx.pipelineSource === 'merge_request_event'
  const branch = ctx.refType === 'branch' && !isMr
  const tag = ctx.refType === 'tag' && !isMr
  if (entry === 'tags') return tag
  if (entry === 'branches') return branch
  const source = ctx.pipelineSource.replace(/_event$/, '')
  if (source === entry || pluralize(source) === entry) return true
  if (!branch && !tag) return false
  return patternOrEqual(entry, ctx.ref)
}

function patternOrEqual(pattern: string, value: string): boolean {
  const p = scanPattern(pattern)
  if (p && p.length === pattern.length) {
    try {
      return compileRegexp(p.source).re.matcher(value).find()
    } catch (e) {
      if (e instanceof ExpressionError) return false
      throw e
    }
  }
  return pattern === value
}

function pluralize(word: string): string {
  if (/(s|sh|ch|x)$/.test(word)) return `${word}es`
  return `${word}s`
}
