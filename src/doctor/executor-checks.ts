import { DockerExecutor } from '../executors/docker/docker-executor.js'
import { engineLabel } from '../executors/docker/engine.js'
import type { DockerExecutorOptions } from '../executors/docker/options.js'
import { ShellExecutor, detectShell } from '../executors/shell/shell-executor.js'
import { probeTcp } from '../probe/index.js'
import type { RunnerSettings } from '../runner-config/types.js'
import { checkDefaultImage } from './image-checks.js'
import { checkKubernetesApi } from './kubernetes-checks.js'
import type { CheckContext, Finding } from './types.js'

/** The executors `glrun run` has; a runner with another one is reported, not checked. */
const RUNNABLE = ['shell', 'docker', 'kubernetes']

/**
 * Can the runner's executor run a job here: for shell, a shell; for docker, an engine that
 * answers, and the default image within reach. `required` is false for the docker engine
 * doctor finds on its own without a config: then shell is the executor, and docker a maybe.
 */
export async function checkExecutor(scope: string, executor: string, runner: RunnerSettings | undefined, ctx: CheckContext, required = true): Promise<Finding[]> {
  if (executor === 'shell') return [await checkShellExecutor(scope, runner?.shell)]
  if (executor === 'docker') {
    // Without a config, glrun run --executor docker uses images already on the engine first.
    const opts: DockerExecutorOptions = runner ? runner.docker ?? {} : { pullPolicy: ['if-not-present'] }
    const engine = await checkDockerEngine(scope, opts, ctx, required)
    const out = [engine.finding]
    if (opts.image) out.push(await checkDefaultImage(scope, opts, engine.executor, ctx))
    else if (runner) {
      out.push({
        scope, check: 'image', status: 'warn', what: '[runners.docker] has no image: jobs without image: fail ("no image and the runner has no default image")',
        fix: 'Give the runner a default image for jobs that do not name one:', snippet: '[runners.docker]\n  image = "alpine:3.20"',
      })
    }
    return out
  }
  const notRun = (wayOut: string): Finding => ({ scope, check: 'executor', status: 'warn', what: `glrun cannot run jobs with the ${executor} executor (it has ${RUNNABLE.join(', ')}): not checked`, fix: wayOut })
  if (executor === 'kubernetes') {
    const api = await checkKubernetesApi(scope, runner, ctx)
    if (api.status === 'fail') return [api]
    // Loaded here: the Kubernetes client is only for kubernetes runners.
    const { checkKubernetesAccess } = await import('./kubernetes-access.js')
    return [api, ...(await checkKubernetesAccess(scope, runner))]
  }
  return [notRun(executor.startsWith('docker')
    ? `glrun runs this runner's jobs on one local engine: glrun run --config ... --executor docker uses its [runners.docker] settings.`
    : 'Run the jobs with glrun run --executor shell or --executor docker.')]
}

async function checkShellExecutor(scope: string, configured: string | undefined): Promise<Finding> {
  const probe = await new ShellExecutor().probe()
  if (!probe.ok) return { scope, check: 'executor', status: 'fail', what: `the shell executor cannot run jobs: ${probe.reason}`, fix: probe.hint }
  if (configured && configured !== 'bash' && configured !== 'sh') {
    return {
      scope, check: 'executor', status: 'warn', what: `shell = "${configured}", but glrun's shell executor runs jobs with bash or sh (here: ${detectShell()})`,
      fix: 'Scripts written for that shell fail under bash. Use bash/sh syntax in the jobs, or remove shell from the runner:', snippet: 'shell = "bash"',
    }
  }
  return { scope, check: 'executor', status: 'ok', what: `the shell executor runs jobs with ${detectShell()} on this machine` }
}

/**
 * The engine answers the version handshake every job starts with. A tcp:// engine gets a TCP
 * check first: the executor's own probe has no deadline of its own, and a host that drops
 * packets would hold doctor for minutes.
 */
async function checkDockerEngine(scope: string, opts: DockerExecutorOptions, ctx: CheckContext, required: boolean): Promise<{ finding: Finding; executor?: DockerExecutor }> {
  const where = engineLabel(opts.host ? { host: opts.host } : {})
  const status = required ? 'fail' : 'warn'
  const only = required ? '' : ' (Only glrun run --executor docker needs it.)'
  const tcp = /^(?:tcp|https?):\/\/\[?([^\]/]+?)\]?:(\d+)\/?$/.exec(where)
  if (tcp) {
    const reach = await probeTcp(tcp[1]!, Number(tcp[2]), { timeoutMs: ctx.timeoutMs })
    if (!reach.ok) {
      return { finding: { scope, check: 'docker', status, what: `the Docker engine at ${where} is out of reach: ${reach.summary}`, probe: reach, fix: `Start the engine there, or point [runners.docker] host (or $DOCKER_HOST) at a running one.${only}` } }
    }
  }
  const executor = new DockerExecutor(opts)
  const deadline = ctx.timeoutMs * 3
  let timer: NodeJS.Timeout | undefined
  const probe = await Promise.race([executor.probe(), new Promise<undefined>((r) => { timer = setTimeout(() => r(undefined), deadline) })]).finally(() => clearTimeout(timer))
  if (!probe) return { finding: { scope, check: 'docker', status, what: `the Docker engine at ${where} did not answer in ${deadline / 1000} s`, fix: `Check the engine there: docker version must show a Server.${only}` } }
  if (!probe.ok) return { finding: { scope, check: 'docker', status, what: probe.reason, fix: `${probe.hint}${only}` } }
  const version = await executor.engine().then((d) => d.version()).then((v) => ` ${v.Version}`, () => '')
  return { finding: { scope, check: 'docker', status: 'ok', what: `Docker Engine${version} at ${where} answers` }, executor }
}
