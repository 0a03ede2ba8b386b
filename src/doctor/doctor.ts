import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { RunnerSettings } from '../runner-config/types.js'
import { checkExecutor } from './executor-checks.js'
import { checkGitlabUrl, parseHttpUrl } from './gitlab-checks.js'
import { checkRunnerToken } from './runner-token-check.js'
import { checkGit, checkShells, checkWritableDir } from './host-checks.js'
import type { CheckContext, Finding } from './types.js'

export interface DoctorOptions {
  /** The runners to check (the [[runners]] of a config.toml); absent: glrun's local runs. */
  runners?: readonly RunnerSettings[]
  /** The project directory: glrun run keeps job directories and caches under its .glrun. */
  cwd: string
  /** Per network check (DNS, TCP, TLS, registry); default 3000 ms. */
  timeoutMs?: number
  /** The environment the runner would see (DOCKER_HOST); default process.env. */
  env?: NodeJS.ProcessEnv
}

export interface DoctorReport {
  findings: Finding[]
}

export const MACHINE = 'this machine'
export const LOCAL = 'local runs (no --config)'

/**
 * Checks an environment before jobs fail in it: per runner its GitLab (resolvable, reachable,
 * trusted), its executor and default image, its directories; then this machine (git, shells,
 * the project's .glrun). Runners are checked side by side; findings keep the config's order.
 */
export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  const env = opts.env ?? process.env
  const ctx: CheckContext = { timeoutMs: opts.timeoutMs ?? 3000, env }
  const groups = opts.runners
    ? opts.runners.map((r, i) => checkRunner(r, `runner "${r.name || `#${i + 1}`}"`, ctx))
    : [checkLocalRuns(env, ctx)]
  groups.push(Promise.resolve(checkMachine(opts.cwd)))
  return { findings: (await Promise.all(groups)).flat() }
}

async function checkRunner(r: RunnerSettings, scope: string, ctx: CheckContext): Promise<Finding[]> {
  const out: Finding[] = []
  if (r.url) {
    const reach = await checkGitlabUrl(scope, r, 'url', r.url, ctx)
    out.push(...reach)
    // Only a GitLab that was reached and trusted can be asked about the token.
    if (r.token && reach.every((f) => f.status !== 'fail')) out.push(await checkRunnerToken(scope, r, ctx))
  }
  // clone_url only when it leads somewhere else: the same host and port were just checked.
  if (r.cloneUrl && !sameServer(r.url, r.cloneUrl)) out.push(...await checkGitlabUrl(scope, r, 'clone_url', r.cloneUrl, ctx))
  out.push(...await checkExecutor(scope, r.executor, r, ctx))
  // Host paths for the shell executor only: with docker they are paths inside the containers.
  if (r.executor === 'shell') {
    if (r.buildsDir) out.push(checkWritableDir(scope, 'builds_dir', r.buildsDir))
    if (r.cacheDir) out.push(checkWritableDir(scope, 'cache_dir', r.cacheDir))
  }
  return out
}

/** Without a config, glrun runs jobs with the shell executor, or docker when asked and there. */
async function checkLocalRuns(env: NodeJS.ProcessEnv, ctx: CheckContext): Promise<Finding[]> {
  const out = await checkExecutor(LOCAL, 'shell', undefined, ctx)
  if (env['DOCKER_HOST'] || existsSync('/var/run/docker.sock')) out.push(...await checkExecutor(LOCAL, 'docker', undefined, ctx, false))
  return out
}

function checkMachine(cwd: string): Finding[] {
  const git = checkGit(MACHINE)
  return [git, ...checkShells(MACHINE), checkWritableDir(MACHINE, '.glrun', join(projectRoot(cwd, git.status === 'ok'), '.glrun'))]
}

/** glrun run works in the repository's top directory: that is where its .glrun goes. */
function projectRoot(cwd: string, haveGit: boolean): string {
  if (!haveGit) return cwd
  const r = spawnSync('git', ['rev-parse', '--show-toplevel'], { cwd, encoding: 'utf8' })
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : cwd
}

function sameServer(a: string | undefined, b: string): boolean {
  const x = a ? parseHttpUrl(a) : undefined
  const y = parseHttpUrl(b)
  return x !== undefined && y !== undefined && x.host === y.host && x.port === y.port && x.https === y.https
}
