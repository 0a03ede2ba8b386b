import { diagnose } from '../../src/diagnose/engine.js'
import { parseTrace } from '../../src/diagnose/trace.js'
import type { Diagnosis, DiagnosisReport } from '../../src/diagnose/types.js'

/**
 * Small job logs for the troubleshooter's precision tests: a failing script step, the same on a
 * named executor, and the answers read back (the report, the first diagnosis, the categories, and
 * all of a diagnosis's words for matching its advice).
 */
export const step = (...lines: string[]): string => ['Executing "step_script" stage of the job script', ...lines, 'ERROR: Job failed: exit code 1'].join('\n')
export const on = (executor: string, ...lines: string[]): string => [`Preparing the "${executor}" executor`, ...step(...lines).split('\n')].join('\n')
/** A Docker-executor job in the given image. */
export const inImage = (image: string, ...lines: string[]): string => ['Preparing the "docker" executor', `Using Docker executor with image ${image} ...`, ...step(...lines).split('\n')].join('\n')
/** A Docker-executor job (node:20) that started the given services first, as the runner logs them. */
export const withServices = (services: readonly string[], ...lines: string[]): string => [
  'Running with gitlab-runner 17.5.0 (c6eae8ea)',
  'Preparing the "docker" executor',
  'Using Docker executor with image node:20 ...',
  ...services.flatMap((x) => [`Starting service ${x} ...`, `Pulling docker image ${x} ...`]),
  ...step(...lines).split('\n'),
].join('\n')
export const run = (log: string, executor?: string): DiagnosisReport => diagnose({ trace: parseTrace(log), ...(executor ? { executor } : {}) })
export const top = (log: string, executor?: string): Diagnosis | undefined => run(log, executor).diagnoses[0]
export const cats = (log: string, executor?: string): string[] => run(log, executor).diagnoses.map((d) => d.category)
export const all = (d: Pick<Diagnosis, 'title' | 'cause' | 'fixes'> | undefined): string =>
  d ? [d.title, d.cause, ...d.fixes.flatMap((f) => [f.text, f.snippet ?? ''])].join('\n') : ''
