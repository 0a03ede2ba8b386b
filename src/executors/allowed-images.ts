import picomatch from 'picomatch'
import { ExecutorFailure } from './failure.js'
import type { TraceOutput } from './types.js'

/**
 * allowed_images / allowed_services (globs; none = any): an image outside them fails the job with
 * gitlab-runner's list in the log. `names` are the forms the image may be matched in (as
 * written, with its default tag).
 */
export function checkAllowedImage(image: string, names: readonly string[], globs: readonly string[], what: 'image' | 'service', out: TraceOutput): void {
  if (globs.length === 0 || globs.some((g) => names.some((n) => picomatch.isMatch(n, g)))) return
  out.write(`\x1b[31;1mERROR: The "${image}" ${what} is not present on list of allowed ${what}s:\x1b[0;m\n${globs.map((g) => `- ${g}\n`).join('')}`)
  throw new ExecutorFailure('GLRUN_IMAGE_NOT_ALLOWED', `the ${what} "${image}" is not allowed by allowed_${what}s`, 'runner_configuration_error',
    `Use an ${what} matching allowed_${what}s in config.toml, or add a pattern for it there.`)
}
