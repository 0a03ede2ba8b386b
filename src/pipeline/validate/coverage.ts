import { RE2JS } from 're2js'
import { GlrunError } from '../../diagnostics/errors.js'
import type { SourceSpan } from '../../diagnostics/source.js'
import { valueSpan } from '../yaml/positions.js'

/**
 * GitLab's `Gitlab::UntrustedRegexp::RubySyntax`: `/pattern/flags` with flags from i, s, m, U,
 * which become an inline `(?flags)` group in front of the RE2 pattern.
 */
const RUBY_SYNTAX = /^\/(.*)\/([ismU]*)$/

/** The RE2 source of a `/pattern/flags` string, or undefined when it is not of that form. */
export function rubySyntaxSource(text: string): string | undefined {
  const m = RUBY_SYNTAX.exec(text)
  if (!m) return undefined
  const flags = m[2] ?? ''
  return flags ? `(?${flags})${m[1]}` : m[1]
}

/**
 * `coverage:` as GitLab's `Entry::Coverage` validates it: a `/.../` regular expression in RE2
 * syntax (so `(?i)` is fine and lookarounds or backreferences are not). Strings that are not of
 * the `/.../` form are left to the schema's pattern, which reports them already.
 */
export function coverageError(name: string, job: Record<string, unknown>, fallback: SourceSpan | undefined): GlrunError | undefined {
  const value = job['coverage']
  if (typeof value !== 'string') return undefined
  const source = rubySyntaxSource(value)
  if (source === undefined) return undefined
  try {
    RE2JS.compile(source)
    return undefined
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e)
    return new GlrunError('GLRUN_COVERAGE_REGEX', `jobs:${name}:coverage config must be a regular expression with re2 syntax`, {
      where: valueSpan(job, 'coverage') ?? fallback,
      hint: `RE2 rejects it: ${why}. RE2 has no lookarounds ((?=…), (?<=…)) or backreferences (\\1); match the text before the number instead, e.g. /Total: (\\d+\\.?\\d*)%/.`,
    })
  }
}
