import { GlrunError } from '../diagnostics/errors.js'
import type { FailureReason } from '../job/outcome.js'

/**
 * An executor's own failure that GitLab gives a reason of its own (image_pull_failure,
 * runner_configuration_error…): the job fails with that reason and this message in its log.
 */
export class ExecutorFailure extends GlrunError {
  constructor(code: string, message: string, readonly failureReason: FailureReason, hint?: string) {
    super(code, message, hint === undefined ? {} : { hint })
  }
}
