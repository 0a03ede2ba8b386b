import type { Command } from 'commander'
import { type PipelineFlags, addPipelineOptions, compileFromFlags } from '../pipeline-options.js'
import type { Io } from '../io.js'
import { maskedIo } from '../masked-io.js'
import { noPipelineLines } from '../no-pipeline.js'
import { allowFailureText, needsText, reportInvalid, spanText, table } from '../render-pipeline.js'

export function listCommand(program: Command, rawIo: Io, setExit: (code: number) => void): void {
  addPipelineOptions(program.command('list'))
    .description('list the jobs that would run, in stage order')
    .option('--all', 'also list jobs left out (by rules, only/except, workflow) and hidden jobs, with the reason')
    .option('--json', 'print the jobs as JSON')
    .action(async (flags: PipelineFlags & { json?: boolean; all?: boolean }) => {
      const pipeline = await compileFromFlags(flags, { commitOptional: true })
      const io = maskedIo(rawIo, pipeline.maskedValues)
      if (reportInvalid(io, pipeline, flags.json)) {
        setExit(1)
        return
      }
      if (flags.json) {
        io.out(JSON.stringify({
          stages: pipeline.stages,
          workflow: pipeline.workflow,
          jobs: pipeline.jobs.map((j) => ({
            name: j.name, stage: j.stage, when: j.when, allow_failure: j.allowFailure,
            needs: j.needs, ...(j.startIn ? { start_in: j.startIn } : {}), reason: j.reason,
            ...(j.child ? { child_pipeline: j.child } : {}),
          })),
          ...(flags.all ? { excluded: pipeline.excluded.map((e) => ({ name: e.name, stage: e.stage, hidden: e.hidden, reason: e.reason })) } : {}),
        }, null, 2))
        setExit(0)
        return
      }
      for (const w of pipeline.warnings) io.err(`warning: ${w.message}`)
      if (!pipeline.workflow.created) {
        for (const line of noPipelineLines(pipeline, flags.all === true)) io.out(line)
      } else {
        const rows = [['name', 'stage', 'when', 'allow_failure', 'needs']]
        for (const j of pipeline.jobs) {
          rows.push([j.name, j.stage, j.when, allowFailureText(j), needsText(j)])
          for (const c of j.child?.jobs ?? []) rows.push([`  └ ${c.name}`, c.stage, c.when, '', '(child pipeline)'])
        }
        io.out(table(rows))
      }
      if (flags.all && pipeline.excluded.length > 0) {
        io.out('\nnot in this pipeline:')
        io.out(table([['name', 'where', 'why'], ...pipeline.excluded.map((e) => [e.name, spanText(e.span), e.reason])]))
      }
      setExit(0)
    })
}
