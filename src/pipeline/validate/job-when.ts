import { GlrunError } from '../../diagnostics/errors.js'
import { isHidden, isPlainObject, jobKeys } from '../model/keywords.js'
import { keySpan, valueSpan } from '../yaml/positions.js'

/** GitLab's `Entry::Job::ALLOWED_WHEN`: `never` belongs to rules, not to a job. */
export const JOB_WHEN = ['on_success', 'on_failure', 'always', 'manual', 'delayed'] as const
/** `Entry::Bridge::ALLOWED_WHEN`: a trigger job cannot be delayed either. */
export const TRIGGER_WHEN = ['on_success', 'on_failure', 'always', 'manual'] as const

export function allowedJobWhen(job: unknown): readonly string[] {
  return isPlainObject(job) && job['trigger'] !== undefined ? TRIGGER_WHEN : JOB_WHEN
}

/** GitLab's wording for a job-level `when:` outside the allowed values. */
export function jobWhenMessage(name: string, job: unknown): string {
  return `jobs:${name} when should be one of: ${allowedJobWhen(job).join(', ')}`
}

/**
 * The editor schema accepts `when: never` on a job (its `when` enum is shared with rules), but
 * GitLab's Job entry refuses it, and its Bridge entry also refuses `delayed`. Values the schema
 * already rejects are its to report, so this only reports what it lets through.
 */
export function validateJobWhen(config: Record<string, unknown>, errors: GlrunError[]): void {
  for (const name of jobKeys(config)) {
    const job = config[name]
    if (isHidden(name) || !isPlainObject(job)) continue
    const when = job['when']
    if (when !== 'never' && !(when === 'delayed' && job['trigger'] !== undefined)) continue
    errors.push(new GlrunError('GLRUN_JOB_WHEN', jobWhenMessage(name, job), {
      where: valueSpan(job, 'when') ?? keySpan(config, name),
      hint: when === 'never'
        ? 'To leave a job out of the pipeline, use `rules: [{ when: never }]` (or a rule with an `if:`); at job level `when: never` is not allowed.'
        : 'A trigger job cannot be delayed; use `when: manual`, or delay a job that runs before it.',
    }))
  }
}
