import type { GlrunError } from '../../diagnostics/errors.js'
import type { PlannedJob } from '../plan/types.js'
import { ENTRYPOINT_IMAGES, INTERPRETERS, NO_SHELL_IMAGES } from './entrypoint-images.js'
import { Findings } from './findings.js'
import { type ImageRef, isRepository } from './image-ref.js'
import { type ImageUse, jobImage } from './job-facts.js'

/**
 * Job images that cannot run a script (taxonomy `image_entrypoint_override` and
 * `image_missing_shell`): the image's ENTRYPOINT is a tool and the job does not clear it
 * (`GLRUN_IMAGE_ENTRYPOINT`), the job sets `entrypoint:` to such a tool itself (same code), or
 * the image has no shell at all (`GLRUN_IMAGE_NO_SHELL`). Only images listed in
 * entrypoint-images.ts are judged: an unknown image is never guessed about. Services are not
 * checked: a service is meant to run its ENTRYPOINT.
 */
export function imageEntrypointPitfalls(jobs: readonly PlannedJob[]): GlrunError[] {
  const findings = new Findings()
  for (const job of jobs) {
    const image = job.source ? jobImage(job.source) : undefined
    if (!image?.ref) continue
    const problem = judge(image, image.ref)
    if (problem) findings.add(problem.code, job.name, problem.where ?? job.span, problem.message, problem.hint)
  }
  return findings.warnings()
}

interface Problem {
  code: 'GLRUN_IMAGE_ENTRYPOINT' | 'GLRUN_IMAGE_NO_SHELL'
  where: ImageUse['where']
  message: (jobs: string) => string
  hint: string
}

function judge(image: ImageUse, ref: ImageRef): Problem | undefined {
  const known = ENTRYPOINT_IMAGES.find((e) => isRepository(ref, e.repository))
  const shellless = known?.shellTags
    ? { debugTag: known.debugTag ?? 'plain' as const, ok: known.shellTags.test(ref.tag) }
    : NO_SHELL_IMAGES.filter((p) => p.pattern.test(ref.repository)).map((p) => ({ debugTag: p.debugTag, ok: p.shellTags.test(ref.tag) }))[0]
  const noShell = shellless !== undefined && !shellless.ok
  const debugName = shellless ? `${ref.written}:${debugTag(ref.tag, shellless.debugTag)}` : image.name
  const entrypoint = image.entrypoint

  const tool = entrypoint && entrypoint.length > 0 && entrypoint[0] !== '' ? toolOf(entrypoint) : undefined
  if (tool) {
    return {
      code: 'GLRUN_IMAGE_ENTRYPOINT',
      where: image.entrypointWhere ?? image.where,
      message: (jobs) => `${jobs}: image entrypoint ${JSON.stringify(entrypoint)} runs ${tool}, not a shell: the runner passes the job's shell to it as arguments, so the script never runs`,
      hint: `Clear it so the job starts in the image's shell: \`image: {name: "${noShell ? debugName : image.name}", entrypoint: [""]}\`${noShell ? ' (a debug tag: the others have no shell)' : ''}.`,
    }
  }
  if (entrypoint === undefined && known) {
    return {
      code: 'GLRUN_IMAGE_ENTRYPOINT',
      where: image.where,
      message: (jobs) => `${jobs}: image ${image.name} starts ${known.program} (its ENTRYPOINT), not a shell: the Docker executor passes the job's shell to it as arguments, so ${known.program} prints its usage or an unknown-command error instead of running the script`,
      hint: noShell
        ? `Use the debug tag, the only one with a shell, and clear the entrypoint: \`image: {name: "${debugName}", entrypoint: [""]}\`.`
        : `Clear the entrypoint so the job starts in the image's shell: \`image: {name: "${image.name}", entrypoint: [""]}\`.`,
    }
  }
  // Whatever the entrypoint, an image without any shell cannot run the script.
  if (noShell) {
    return {
      code: 'GLRUN_IMAGE_NO_SHELL',
      where: image.where,
      message: (jobs) => `${jobs}: image ${image.name} has no shell (only its debug tags have one), so the job cannot start its script ("exec: \\"sh\\": executable file not found in $PATH")`,
      hint: `Use a debug tag, which adds a busybox shell: \`image: {name: "${debugName}", entrypoint: [""]}\`; or run the tool from a job image that has a shell.`,
    }
  }
  return undefined
}

/** The program an explicit `entrypoint:` runs, when it is a known tool or a bare interpreter. */
function toolOf(entrypoint: readonly string[]): string | undefined {
  const first = entrypoint[0]!.trim().split(/\s+/)[0]!
  const base = first.slice(first.lastIndexOf('/') + 1)
  const tool = ENTRYPOINT_IMAGES.find((e) => e.program === first || (!e.program.includes('/') && e.program === base))
  if (tool) return first
  return entrypoint.length === 1 && INTERPRETERS.has(base) && first === entrypoint[0] ? first : undefined
}

/** kaniko names its debug tags `<version>-debug`; distroless has a plain `debug` tag. */
function debugTag(tag: string, style: 'suffix' | 'plain'): string {
  if (tag.includes('debug')) return tag
  return style === 'suffix' && tag !== '' && tag !== 'latest' ? `${tag}-debug` : 'debug'
}
