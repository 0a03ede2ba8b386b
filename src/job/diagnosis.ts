import { createReadStream } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { parse } from 'smol-toml'
import { renderReport, reportJson } from '../diagnose/engine.js'
import { parseTraceStream } from '../diagnose/trace.js'
import { troubleshoot } from '../diagnose/troubleshoot.js'
import type { Evidence } from '../diagnose/types.js'
import type { Executor } from '../executors/types.js'
import type { JobPayload } from '../payload/types.js'

export interface FailedJob {
  tracePath: string
  payload: JobPayload
  executor: Executor
  /** The runner's config.toml text and its CA, when the run used one. */
  configText?: string
  caPem?: string
  ciYaml?: string
}

/**
 * The troubleshooter after a failed job of `glrun run`: the job's own trace file (GitLab's bytes,
 * already masked) is the evidence, checks run against the hosts it names, and the report is
 * saved beside the trace (diagnosis.txt for people, diagnosis.json for tools). Returns the text
 * to print under the job's log. A diagnosis that cannot be made never fails the run.
 */
export async function diagnoseFailedJob(f: FailedJob, color: boolean): Promise<{ text: string; path: string } | undefined> {
  try {
    const ev: Evidence = { trace: await parseTraceStream(createReadStream(f.tracePath, { highWaterMark: 1 << 18 })), executor: f.executor.name, payload: f.payload }
    if (f.configText) {
      try {
        ev.config = parse(f.configText)
      } catch {
        // config errors were reported before the run; the log alone still explains the job
      }
    }
    if (f.ciYaml) ev.ciYaml = f.ciYaml
    const resolveFromJob = f.executor.resolveFromJob?.bind(f.executor)
    const report = await troubleshoot(ev, {
      active: true,
      ...(resolveFromJob ? { resolveFromJob: (host: string) => resolveFromJob(host, f.payload) } : {}),
      ...(f.caPem ? { ca: f.caPem } : {}),
    })
    const base = join(dirname(f.tracePath), f.tracePath.endsWith('trace.log') ? 'diagnosis' : `diagnosis-${/trace-(\d+)\.log$/.exec(f.tracePath)?.[1] ?? 'x'}`)
    await writeFile(`${base}.txt`, renderReport(report, { color: false }))
    await writeFile(`${base}.json`, `${JSON.stringify(reportJson(report), null, 2)}\n`)
    return { text: renderReport(report, { color }), path: `${base}.txt` }
  } catch (e) {
    return { text: `glrun could not diagnose this job: ${(e as Error).message}\n`, path: '' }
  }
}
