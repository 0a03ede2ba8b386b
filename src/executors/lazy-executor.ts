import type { ProbeResult } from '../diagnose/types.js'
import type { JobPayload } from '../payload/types.js'
import type { Executor, ExecutorSession, OpenContext } from './types.js'

/**
 * An executor whose module is loaded when it is first used (probe, open, a job-side lookup):
 * its dependencies cost every other command nothing at start.
 */
export class LazyExecutor implements Executor {
  private loaded: Promise<Executor> | undefined

  constructor(readonly name: string, private readonly load: () => Promise<Executor>) {}

  private executor(): Promise<Executor> {
    this.loaded ??= this.load()
    return this.loaded
  }

  async probe(signal: AbortSignal): Promise<{ ok: true } | { ok: false; reason: string; hint: string }> {
    return (await this.executor()).probe(signal)
  }

  async open(job: JobPayload, ctx: OpenContext): Promise<ExecutorSession> {
    return (await this.executor()).open(job, ctx)
  }

  async resolveFromJob(host: string, job: JobPayload): Promise<ProbeResult> {
    const e = await this.executor()
    if (e.resolveFromJob) return e.resolveFromJob(host, job)
    return { kind: 'dns', target: host, from: 'job', ok: false, summary: `the ${this.name} executor cannot check from a job`, detail: { inconclusive: true } }
  }
}
