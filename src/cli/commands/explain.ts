import { createReadStream, readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { parse } from 'smol-toml'
import { renderReport, reportJson } from '../../diagnose/engine.js'
import { troubleshoot } from '../../diagnose/troubleshoot.js'
import { type ParsedTrace, parseTraceStream } from '../../diagnose/trace.js'
import type { Evidence, ProbeResult } from '../../diagnose/types.js'
import { GlrunError } from '../../diagnostics/errors.js'
import type { Io } from '../io.js'
import { fetchJobLog } from '../../diagnose/gitlab-job-log.js'

interface ExplainFlags {
  executor?: string
  config?: string
  ci?: string
  probes?: string
  json?: boolean
  check?: boolean
  gitlabToken?: string
  caFile?: string
}

/**
 * `glrun explain <TRACE_FILE|->`: reads a job log (as downloaded from GitLab, or piped in) and
 * says why the job failed and how to fix it. Exit 0 whenever an explanation was produced —
 * including "no known pattern matched" — so scripts can tell a diagnosis run from bad input (2).
 */
export function explainCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  program.command('explain')
    .description('explain why a GitLab CI job failed, from its log, and print the fix')
    .argument('<trace>', 'the job log file, - to read it from stdin, or a GitLab job URL (https://gitlab.example.com/group/project/-/jobs/123)')
    .option('--executor <name>', 'executor that ran the job (docker, kubernetes, shell, ...) when the log does not say')
    .option('--config <config.toml>', "the runner's config.toml, to tailor fixes to it")
    .option('--ci <.gitlab-ci.yml>', 'the pipeline file the job came from')
    .option('--probes <file.json>', 'results of network probes (an array of {kind, target, from, ok, summary, detail})')
    .option('--json', 'print {phase, exit_code, diagnoses} as JSON')
    .option('--check', 'also check the hosts the log names from this machine (DNS, TCP, TLS, registry /v2/; 3 s each)')
    .option('--gitlab-token <token>', 'with a job URL: an access token with read_api (env GLRUN_GITLAB_TOKEN)')
    .option('--ca-file <pem>', 'with a job URL: the CA of a GitLab with a private certificate')
    .action(async (trace: string, flags: ExplainFlags) => {
      const ev: Evidence = {
        trace: /^https?:\/\//.test(trace)
          ? await parseTraceStream(await fetchJobLog(trace, flags.gitlabToken ?? process.env.GLRUN_GITLAB_TOKEN, flags.caFile ? readInput(flags.caFile, 'CA file') : undefined))
          : await readTrace(trace),
      }
      if (flags.executor) ev.executor = flags.executor
      if (flags.config) ev.config = parseConfig(flags.config)
      if (flags.ci) ev.ciYaml = readInput(flags.ci, '.gitlab-ci.yml')
      if (flags.probes) ev.probes = parseProbes(flags.probes)
      const report = await troubleshoot(ev, { active: flags.check === true, ...caOf(ev.config) })
      io.out(flags.json ? JSON.stringify(reportJson(report), null, 2) : renderReport(report, { color: io.color }))
      setExit(0)
    })
}

/** The first runner's tls-ca-file, so a TLS check trusts what that runner trusts. */
function caOf(config: unknown): { ca?: string } {
  const runners = (config as { runners?: unknown } | undefined)?.runners
  const file = Array.isArray(runners) ? (runners[0] as Record<string, unknown> | undefined)?.['tls-ca-file'] : undefined
  if (typeof file !== 'string') return {}
  try {
    return { ca: readFileSync(file, 'utf8') }
  } catch {
    return {}
  }
}

/** The job log, streamed: a log of gigabytes is read in flat memory (see diagnose/trace-reader.ts). */
async function readTrace(path: string): Promise<ParsedTrace> {
  try {
    return await parseTraceStream(path === '-' ? process.stdin : createReadStream(path, { highWaterMark: 1 << 18 }))
  } catch (e) {
    throw inputError(path, 'job log', e)
  }
}

function readInput(path: string, what: string): string {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8')
  } catch (e) {
    throw inputError(path, what, e)
  }
}

function inputError(path: string, what: string, e: unknown): GlrunError {
  return new GlrunError('GLRUN_EXPLAIN_INPUT', `cannot read the ${what} ${path === '-' ? 'from stdin' : `"${path}"`}: ${(e as Error).message}`, {
    hint: what === 'job log'
      ? 'Pass the raw job log: download it from the job page ("Show complete raw") or `curl --header "PRIVATE-TOKEN: <token>" "$CI_API_V4_URL/projects/<id>/jobs/<job id>/trace" > job.log`, then `glrun explain job.log` (or pipe it with -).'
      : `Check the path of the ${what}.`,
    cause: e,
  })
}

function parseConfig(path: string): unknown {
  const text = readInput(path, 'config.toml')
  try {
    return parse(text)
  } catch (e) {
    throw new GlrunError('GLRUN_EXPLAIN_INPUT', `${path} is not valid TOML: ${(e as Error).message.split('\n')[0]}`, {
      hint: `Fix the file (glrun config check ${path} shows where), or leave out --config: explain works from the log alone.`,
      cause: e,
    })
  }
}

function parseProbes(path: string): ProbeResult[] {
  const text = readInput(path, 'probe results')
  try {
    const value: unknown = JSON.parse(text)
    if (!Array.isArray(value)) throw new Error('expected a JSON array')
    return value as ProbeResult[]
  } catch (e) {
    throw new GlrunError('GLRUN_EXPLAIN_INPUT', `${path} is not a JSON array of probe results: ${(e as Error).message}`, {
      hint: 'Each entry: {"kind": "dns"|"tcp"|"tls"|"registry", "target": "...", "from": "runner"|"job", "ok": true|false, "summary": "..."}.',
      cause: e,
    })
  }
}
