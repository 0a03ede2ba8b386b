import type { Command } from 'commander'
import { type PipelineFlags, addPipelineOptions, compileFromFlags } from '../pipeline-options.js'
import type { Io } from '../io.js'
import { maskedIo } from '../masked-io.js'
import { diagnosticJson, printDiagnostics } from '../render-pipeline.js'

export function lintCommand(program: Command, rawIo: Io, setExit: (code: number) => void): void {
  addPipelineOptions(program.command('lint'))
    .description('validate the pipeline like GitLab does; exit 1 with every problem at once when it is not valid')
    .option('--json', 'print the result as JSON')
    .action(async (flags: PipelineFlags & { json?: boolean }) => {
      const pipeline = await compileFromFlags(flags, { commitOptional: true })
      const io = maskedIo(rawIo, pipeline.maskedValues)
      const valid = pipeline.errors.length === 0
      if (flags.json) {
        io.out(JSON.stringify({
          valid,
          errors: pipeline.errors.map(diagnosticJson),
          warnings: pipeline.warnings.map(diagnosticJson),
          files: pipeline.files,
        }, null, 2))
      } else {
        printDiagnostics(io, pipeline)
        const file = flags.file ?? '.gitlab-ci.yml'
        if (valid && !pipeline.workflow.created) {
          // Valid, yet GitLab would create no pipeline for this ref: "0 jobs" alone reads as a bug.
          io.out(`${file} is valid, but no pipeline would be created: ${pipeline.workflow.reason}`)
        } else if (valid) {
          const w = pipeline.warnings.length
          io.out(`${file} is valid: ${pipeline.jobs.length} job${pipeline.jobs.length === 1 ? '' : 's'} in ${pipeline.stages.length} stage${pipeline.stages.length === 1 ? '' : 's'}${w ? `, ${w} warning${w === 1 ? '' : 's'}` : ''}`)
        } else {
          io.err(`${file} is invalid: ${pipeline.errors.length} error${pipeline.errors.length === 1 ? '' : 's'}, ${pipeline.warnings.length} warning${pipeline.warnings.length === 1 ? '' : 's'}`)
        }
      }
      setExit(valid ? 0 : 1)
    })
}
