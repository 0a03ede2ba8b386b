import { GlrunError } from '../../diagnostics/errors.js'
import { type SourceSpan, formatSpan } from '../../diagnostics/source.js'

/**
 * Collects pitfall warnings and merges those that are the same finding for several jobs:
 * matrix instances share one definition, and many jobs inherit one `default:` image, so one
 * place in the YAML gets one warning naming every job instead of one warning per job.
 */
export class Findings {
  private readonly found = new Map<string, { code: string; jobs: string[]; where: SourceSpan | undefined; message: (jobs: string) => string; hint: string }>()

  /** `message` receives the job names (e.g. `build, test`) and starts with them. */
  add(code: string, job: string, where: SourceSpan | undefined, message: (jobs: string) => string, hint: string): void {
    const key = `${code}\0${where ? formatSpan(where) : ''}\0${message('')}\0${hint}`
    const hit = this.found.get(key)
    if (hit) {
      if (!hit.jobs.includes(job)) hit.jobs.push(job)
      return
    }
    this.found.set(key, { code, jobs: [job], where, message, hint })
  }

  warnings(): GlrunError[] {
    return [...this.found.values()].map((f) => new GlrunError(f.code, f.message(jobList(f.jobs)), {
      ...(f.where ? { where: f.where } : {}), severity: 'warning', hint: f.hint,
    }))
  }
}

function jobList(jobs: readonly string[]): string {
  const shown = jobs.slice(0, 3).join(', ')
  return jobs.length > 3 ? `${shown} and ${jobs.length - 3} more jobs` : shown
}
