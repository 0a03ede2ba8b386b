import { existsSync, statSync } from 'node:fs'
import { isAbsolute, relative, resolve } from 'node:path'
import { Option, type Command } from 'commander'
import { GlrunError } from '../diagnostics/errors.js'
import { rememberSecrets } from './masked-io.js'
import { type CompileOptions, compilePipeline } from '../pipeline/compile.js'
import { loadPipelineContext } from '../pipeline/context/git-context.js'
import type { CompiledPipeline } from '../pipeline/plan/types.js'
import { gitFilesDigest } from '../pipeline/payload/git-digest.js'

/** Options every pipeline-reading command shares (lint, list, compile, run). */
export interface PipelineFlags {
  cwd?: string
  file?: string
  variable?: string[]
  maskedVariable?: string[]
  variablesFile?: string
  pipelineSource?: string
  ref?: string
  includeProject?: string[]
  templatesDir?: string
  gitlabUrl?: string
  gitlabToken?: string
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v]

export function addPipelineOptions(cmd: Command): Command {
  return cmd
    .option('-C, --cwd <dir>', 'run as if glrun was started in <dir>')
    .option('-f, --file <path>', 'the pipeline file, relative to the project', '.gitlab-ci.yml')
    .option('-v, --variable <KEY=VALUE>', 'set a pipeline variable (repeatable); overrides everything the YAML sets', collect)
    .option('--masked-variable <KEY=VALUE>', 'set a masked variable (repeatable): never shown in any output', collect)
    .option('--variables-file <path>', 'YAML file of variables (default: .glrun/variables.yml when present)')
    .option('--pipeline-source <source>', 'CI_PIPELINE_SOURCE: push, web, schedule, merge_request_event, ...', undefined)
    .option('--ref <name>', 'run for this branch or tag instead of the checked-out one')
    .option('--include-project <path=dir>', 'resolve include:project / components of <path> from a local checkout <dir> (repeatable)', collect)
    .option('--templates-dir <dir>', 'a directory holding GitLab CI templates for include:template')
    .addOption(new Option('--gitlab-url <url>', 'a GitLab instance to fetch project/template/component includes from').env('GLRUN_GITLAB_URL'))
    .addOption(new Option('--gitlab-token <token>', 'access token for --gitlab-url').env('GLRUN_GITLAB_TOKEN'))
}

/** `secret`: the argument may be (or hold) a secret value, so a malformed one is not quoted back. */
function parsePairs(list: readonly string[] | undefined, flag: string, secret = false): Record<string, string> {
  const out: Record<string, string> = {}
  for (const item of list ?? []) {
    const eq = item.indexOf('=')
    if (eq <= 0) {
      const what = secret ? `a ${flag} argument` : `${flag} "${item}"`
      throw new GlrunError('GLRUN_CLI_BAD_PAIR', `${what} is not KEY=VALUE${secret ? (eq === 0 ? ': the variable name before "=" is missing' : ': it has no "="') + ' (the argument is not shown: it may hold the secret)' : ''}`, { hint: `Write it as ${flag} NAME=value.` })
    }
    out[item.slice(0, eq)] = item.slice(eq + 1)
  }
  return out
}

/**
 * Reads the git context and compiles the pipeline the flags describe. Throws GlrunError on bad input.
 * `commitOptional`: the command reads the file only (lint, list, compile), so a repository with no
 * commit yet is fine; running a pipeline needs a commit (the default).
 */
export async function compileFromFlags(flags: PipelineFlags, opts: { commitOptional?: boolean } = {}): Promise<CompiledPipeline> {
  const cwd = resolve(flags.cwd ?? '.')
  if (!existsSync(cwd) || !statSync(cwd).isDirectory()) {
    throw new GlrunError('GLRUN_CWD_MISSING', `directory ${cwd} does not exist`, { hint: 'Pass an existing project directory to --cwd.' })
  }
  const ctx = await loadPipelineContext({
    cwd,
    ...(flags.pipelineSource ? { pipelineSource: flags.pipelineSource } : {}),
    ...(flags.ref ? { ref: flags.ref } : {}),
    variables: parsePairs(flags.variable, '--variable'),
    maskedVariables: parsePairs(flags.maskedVariable, '--masked-variable', true),
    ...(flags.variablesFile ? { variablesFile: resolve(cwd, flags.variablesFile) } : {}),
    ...(opts.commitOptional ? { commitOptional: true } : {}),
  })
  rememberSecrets(ctx.userVariables.filter((v) => v.masked).map((v) => v.value))
  const file = flags.file ?? '.gitlab-ci.yml'
  const abs = resolve(cwd, file)
  // `--file .` names the project directory itself: kept as `.` so the error can say what it is.
  const rel = relative(ctx.projectDir, abs) || '.'
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw new GlrunError('GLRUN_CONFIG_OUTSIDE_PROJECT', `${file} is outside the project ${ctx.projectDir}`, { hint: 'The pipeline file must be inside the git repository.' })
  }
  if (!existsSync(abs)) {
    throw new GlrunError('GLRUN_CONFIG_NOT_FOUND', `no pipeline file: ${rel} does not exist in ${ctx.projectDir}`, {
      hint: 'Create a .gitlab-ci.yml at the project root, or point --file at your pipeline file.',
    })
  }
  const projectMap: Record<string, string> = {}
  for (const [path, dir] of Object.entries(parsePairs(flags.includeProject, '--include-project'))) projectMap[path] = resolve(cwd, dir)
  const include: NonNullable<CompileOptions['include']> = {
    projectMap,
    ...(flags.templatesDir ? { templatesDir: resolve(cwd, flags.templatesDir) } : {}),
    ...(flags.gitlabUrl ? { gitlab: { url: flags.gitlabUrl, ...(flags.gitlabToken ? { token: flags.gitlabToken } : {}) } } : {}),
  }
  return compilePipeline({ ctx, file: rel, include, digest: gitFilesDigest(ctx.projectDir, ctx.sha) })
}
