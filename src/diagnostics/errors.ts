import type { SourceSpan } from './source.js'

export type Severity = 'error' | 'warning'

/**
 * Every error glrun reports to a user is a GlrunError: a stable code (its identity, used by tests
 * and docs), a message naming the thing, the place, and a hint saying what to do next.
 * Bugs are not GlrunErrors: broken invariants throw plain Error and surface with a stack trace.
 */
export class GlrunError extends Error {
  override readonly name = 'GlrunError'
  readonly code: string
  readonly hint: string | undefined
  readonly where: SourceSpan | undefined
  readonly severity: Severity
  readonly docs: string | undefined

  constructor(
    code: string,
    message: string,
    details: { hint?: string; where?: SourceSpan; severity?: Severity; docs?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.code = code
    this.hint = details.hint
    this.where = details.where
    this.severity = details.severity ?? 'error'
    this.docs = details.docs
  }
}

/** A batch of user errors, thrown when a command cannot go on (config errors come all at once). */
export class GlrunErrors extends Error {
  override readonly name = 'GlrunErrors'
  /** `warnings`: found in the same pass; shown with the errors, not lost because of them. */
  constructor(readonly errors: readonly GlrunError[], readonly warnings: readonly GlrunError[] = []) {
    super(errors.map((e) => e.message).join('\n'))
  }
}

export function isGlrunError(e: unknown): e is GlrunError {
  return e instanceof GlrunError
}
