import type { JobResult } from '../job/outcome.js'
import type { SchedulerEvent } from '../scheduler/scheduler.js'
import { stripAnsi } from '../trace/sinks/line-sink.js'
import type { Io } from './io.js'
import { StatusLine } from './status-line.js'
import { table } from './render-pipeline.js'

const COLORS = ['\x1b[36m', '\x1b[35m', '\x1b[34m', '\x1b[33m', '\x1b[32m', '\x1b[96m', '\x1b[95m', '\x1b[94m']
const RESET = '\x1b[0m'

/**
 * The human view of a running pipeline: every trace line prefixed with its job's name (colours on
 * a terminal only), one line per job start and end, and a summary table at the end.
 */
export class ConsoleReporter {
  private readonly width: number
  private readonly colorOf = new Map<string, string>()
  private readonly started = new Map<string, number>()
  private readonly traces = new Map<string, string>()

  private readonly status: StatusLine

  constructor(private readonly io: Io, names: readonly string[], write: (s: string) => void = (s) => io.out(s.replace(/\n$/, ''))) {
    // The live line needs a terminal; in a pipe or a file it would only be noise.
    this.status = new StatusLine(io.isTTY ? (s) => process.stdout.write(s) : write, names.length, io.isTTY)
    this.width = Math.min(30, Math.max(4, ...names.map((n) => n.length)))
    names.forEach((n, i) => this.colorOf.set(n, COLORS[i % COLORS.length]!))
  }

  line(job: string, text: string): void {
    const name = job.length > this.width ? `${job.slice(0, this.width - 1)}…` : job.padEnd(this.width)
    const body = this.io.color ? text : stripAnsi(text)
    this.status.print(this.io.color ? `${this.colorOf.get(job) ?? ''}${name}${RESET} │ ${body}${RESET}` : `${name} │ ${body}`)
  }

  tracePath(job: string, path: string): void {
    this.traces.set(job, path)
  }

  event(e: SchedulerEvent): void {
    if (e.type === 'job-started') {
      this.started.set(e.job, Date.now())
      this.status.start(e.job)
    }
    if (e.type === 'job-finished') this.status.finish(e.job)
    if (e.type === 'job-retrying') this.line(e.job, `retrying (attempt ${e.attempt})`)
    if (e.type === 'job-skipped') {
      this.line(e.job, `skipped: ${e.why}`)
      this.status.finish(e.job)
    }
  }

  summary(results: readonly JobResult[], stages: ReadonlyMap<string, string>): void {
    this.status.clear()
    // A coverage column only when a job reported one (GitLab shows it beside the job).
    const withCoverage = results.some((r) => 'coverage' in r.outcome && r.outcome.coverage !== undefined)
    const rows = [['job', 'stage', 'status', 'duration', ...(withCoverage ? ['coverage'] : []), 'trace']]
    for (const r of results) {
      const o = r.outcome
      const status = o.status === 'failed' ? (o.allowedToFail ? 'failed (allowed)' : `failed: ${o.message}`) : o.status === 'skipped' ? `skipped (${o.because})` : o.status
      const duration = 'durationMs' in o ? `${(o.durationMs / 1000).toFixed(1)}s` : ''
      const trace = o.status === 'failed' || o.status === 'canceled' ? this.traces.get(r.name) ?? '' : ''
      const coverage = 'coverage' in o && o.coverage !== undefined ? `${o.coverage}%` : ''
      rows.push([r.name, stages.get(r.name) ?? '', status, duration, ...(withCoverage ? [coverage] : []), trace])
    }
    this.io.out(`\n${table(rows)}`)
  }
}
