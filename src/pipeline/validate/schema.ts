import type { GlrunError } from '../../diagnostics/errors.js'

/** Placeholder wiring until the schema validator lands (see README status). */
export function validateSchema(_config: unknown): GlrunError[] {
  return []
}
