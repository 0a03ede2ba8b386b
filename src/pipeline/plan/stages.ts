import { GlrunError } from '../../diagnostics/errors.js'
import { valueSpan } from '../yaml/positions.js'
import { flattenStrings } from '../model/job.js'

export const DEFAULT_STAGES = ['build', 'test', 'deploy'] as const

/**
 * The pipeline's stages: `.pre` first, the user's (or build/test/deploy), `.post` last.
 * Nested lists are flattened; `.pre`/`.post` written by the user are kept at their fixed place.
 */
export function readStages(config: Record<string, unknown>, errors: GlrunError[]): string[] {
  const raw = config['stages'] ?? config['types']
  const listed = raw === undefined || raw === null ? [...DEFAULT_STAGES] : flattenStrings(raw)
  const seen = new Set<string>()
  const middle: string[] = []
  for (const s of listed) {
    if (s === '.pre' || s === '.post') continue
    if (seen.has(s)) {
      errors.push(new GlrunError('GLRUN_STAGE_DUPLICATE', `stages config contains duplicate stage "${s}"`, {
        where: valueSpan(config, 'stages'), severity: 'warning', hint: 'List each stage once; GitLab keeps the first occurrence.',
      }))
      continue
    }
    seen.add(s)
    middle.push(s)
  }
  return ['.pre', ...middle, '.post']
}
