import { randomBytes } from 'node:crypto'
import type Docker from 'dockerode'
import { GlrunError } from '../../diagnostics/errors.js'
import type { JobImage, JobPayload } from '../../payload/types.js'
import type { Executor, ExecutorSession, ExitStatus, JobFiles, OpenContext, StageScript, TraceOutput } from '../types.js'
import { BUILDS_ROOT, ContainerFiles, smallTar } from './container-files.js'
import { runContainerStage } from './container-stage.js'
import { type EngineAddress, connectEngine, engineLabel, engineUnreachable } from './engine.js'
import { removeLeftovers, removeSession, resourceLabels } from './labels.js'
import type { DockerExecutorOptions } from './options.js'
import { ExecutorFailure } from '../failure.js'
import { type PullPolicy, ensureImage } from './pull.js'
import { collectAuth } from './registry-auth.js'
import { type StartedService, aliasesFor, exposedPorts, servicesOf, waitForService } from './services.js'
import { hostConfigFor } from './host-config.js'
import { withDefaultTag } from './image-ref.js'
import { resolveFromContainer } from './resolve-probe.js'
import { DETECT_SHELL } from '../detect-shell.js'
import type { ProbeResult } from '../../diagnose/types.js'
import { runsInHelper } from '../helper-stages.js'

/** Where the job's directory is inside every container (GitLab's /builds/<namespace>/<project>). */
const BUILDS = BUILDS_ROOT


/**
 * The Docker executor: one build container per job from the job's image (or the configured
 * default), services on a network of the job's own, get_sources for clone/fetch in a helper
 * container with the same network settings, everything labelled and removed at close().
 * /builds is a volume of the job's own (as gitlab-runner's builds volume): files cross only
 * through the Engine's archive API (ContainerFiles), so nothing a job writes is ever a path on
 * this machine, and the engine may be remote.
 */
export class DockerExecutor implements Executor {
  readonly name = 'docker'
  private docker: Promise<Docker> | undefined
  private swept = false

  constructor(private readonly opts: DockerExecutorOptions = {}) {}

  private address(): EngineAddress {
    return { ...(this.opts.host ? { host: this.opts.host } : {}), ...(this.opts.tlsVerify !== undefined ? { tlsVerify: this.opts.tlsVerify } : {}), ...(this.opts.tlsCertPath ? { tlsCertPath: this.opts.tlsCertPath } : {}) }
  }

  /** The engine client, after a version handshake and a sweep of a killed run's leftovers. */
  async engine(): Promise<Docker> {
    this.docker ??= (async () => {
      const d = await connectEngine(this.address())
      await d.version().catch((e: unknown) => { throw engineUnreachable(this.address(), e) })
      return d
    })()
    const d = await this.docker.catch((e: unknown) => {
      this.docker = undefined
      throw e
    })
    if (!this.swept) {
      this.swept = true
      await removeLeftovers(d)
    }
    return d
  }

  async probe(): Promise<{ ok: true } | { ok: false; reason: string; hint: string }> {
    try {
      await this.engine()
      return { ok: true }
    } catch (e) {
      return { ok: false, reason: e instanceof Error ? e.message : String(e), hint: e instanceof GlrunError && e.hint ? e.hint : `Start the Docker engine at ${engineLabel(this.address())}.` }
    }
  }

  async resolveFromJob(host: string, job: JobPayload): Promise<ProbeResult> {
    const image = withDefaultTag(job.image?.name || this.opts.image || '')
    const inconclusive = (summary: string): ProbeResult => ({ kind: 'dns', target: host, from: 'job', ok: false, summary, detail: { inconclusive: true } })
    try {
      const docker = await this.engine()
      if (!image || !(await docker.getImage(image).inspect().then(() => true, () => false))) return inconclusive(`could not check from a job container: the job image ${image || '(none)'} is not on the engine`)
      return await resolveFromContainer(docker, this.opts, { host, image })
    } catch (e) {
      return inconclusive(`could not check from a job container: ${(e as Error).message.split('\n')[0]}`)
    }
  }

  async open(job: JobPayload, ctx: OpenContext): Promise<ExecutorSession> {
    const docker = await this.engine()
    const image = job.image?.name || this.opts.image
    if (!image) {
      throw new ExecutorFailure('GLRUN_DOCKER_NO_IMAGE', `job "${job.job_info.name}" has no image and the runner has no default image`, 'runner_configuration_error',
        'Add `image:` to the job (or `default:`), or set `image = "…"` under [runners.docker] in config.toml.')
    }
    const session = new DockerSession(docker, this.opts, job, ctx, randomBytes(6).toString('hex'))
    try {
      await session.prepare(image)
      return session
    } catch (e) {
      await session.close()
      throw e
    }
  }
}

class DockerSession implements ExecutorSession {
  /** The pull lines already said which image; nothing more to add. */
  readonly description = ''
  readonly projectDir: string
  readonly files: JobFiles
  /** Whether the project directory exists in /builds yet (made by the first archive put there). */
  private projectDirMade = false
  private build: Docker.Container | undefined
  private helper: Docker.Container | undefined
  private network: string | undefined
  private readonly services: StartedService[] = []
  private readonly labels: Record<string, string>
  private readonly name: string

  constructor(private readonly docker: Docker, private readonly opts: DockerExecutorOptions, private readonly job: JobPayload, private readonly ctx: OpenContext, readonly id: string) {
    const path = job.job_info.project_full_path ?? job.job_info.project_name
    this.projectDir = `${BUILDS}/${path}`
    this.labels = resourceLabels(job.id, id)
    this.name = `glrun-${job.id}-${id}`
    this.files = new ContainerFiles(() => {
      if (!this.build) throw new Error('job files used before the build container exists')
      return this.build
    }, this.projectDir, async () => this.makeProjectDir())
  }

  /** For JobFiles: the project directory must exist before an archive is put into it. */
  private async makeProjectDir(): Promise<string> {
    const rel = this.projectDir.slice(BUILDS.length + 1)
    if (!this.projectDirMade) {
      if (!this.build) throw new Error('job files used before the build container exists')
      await this.build.putArchive(await smallTar([rel]), { path: BUILDS })
      this.projectDirMade = true
    }
    return rel
  }

  private get auth(): ReturnType<typeof collectAuth> {
    const dac = this.job.variables.find((v) => v.key === 'DOCKER_AUTH_CONFIG')?.value ?? process.env.DOCKER_AUTH_CONFIG
    return collectAuth(this.job.credentials ?? [], dac)
  }

  private pull(image: string, jobPolicies: readonly PullPolicy[], what: 'image' | 'service'): Promise<string> {
    return ensureImage(this.docker, {
      image, jobPolicies, what, auth: this.auth,
      configPolicies: this.opts.pullPolicy ?? [],
      allowedPolicies: this.opts.allowedPullPolicies ?? [],
      allowedImages: (what === 'image' ? this.opts.allowedImages : this.opts.allowedServices) ?? [],
    }, this.ctx.out)
  }

  async prepare(image: string): Promise<void> {
    const out = this.ctx.out
    out.write(`Using Docker executor with image ${image} ...\n`)
    const imageId = await this.pull(image, this.job.image?.pull_policy ?? [], 'image')
    const services = servicesOf(this.job.services ?? [], this.opts.services ?? [])
    if (services.length > 0 && this.opts.networkMode === undefined) {
      this.network = this.name
      out.write(`Creating network ${this.network} for the job's services...\n`)
      await this.docker.createNetwork({ Name: this.network, Driver: 'bridge', Labels: this.labels, CheckDuplicate: true })
    }
    await this.startServices(services)
    this.build = await this.createContainer('build', imageId, this.job.image ?? undefined, this.opts.disableEntrypointOverwrite ? undefined : this.job.image?.entrypoint)
    this.prepared = true
  }

  /** Set once every resource of prepare() is known (a failed prepare is swept by label). */
  private prepared = false

  private async startServices(services: JobImage[]): Promise<void> {
    if (services.length === 0) return
    const out = this.ctx.out
    const taken = new Set<string>()
    const hosts: string[] = []
    for (const [i, svc] of services.entries()) {
      out.write(`Starting service ${svc.name} ...\n`)
      const id = await this.pull(svc.name, svc.pull_policy ?? [], 'service')
      const aliases = aliasesFor(svc, i, taken, out)
      const user = userNetwork(this.network ?? this.opts.networkMode)
      const c = await this.docker.createContainer({
        name: `${this.name}-svc-${i}`,
        Image: id,
        Labels: this.labels,
        Env: [...this.job.variables.filter((v) => !v.file).map((v) => `${v.key}=${v.value}`), ...(svc.variables ?? []).map((v) => `${v.key}=${v.value}`)],
        ...(svc.command ? { Cmd: svc.command } : {}),
        ...(svc.entrypoint ? { Entrypoint: svc.entrypoint } : {}),
        HostConfig: {
          ...(this.network ?? this.opts.networkMode ? { NetworkMode: this.network ?? this.opts.networkMode } : {}),
          Privileged: this.opts.servicesPrivileged ?? this.opts.privileged ?? false,
          ...(this.opts.dns?.length ? { Dns: this.opts.dns } : {}),
        },
        ...(user ? { NetworkingConfig: { EndpointsConfig: { [user]: { Aliases: aliases } } } } : {}),
      })
      await c.start()
      const info = await c.inspect()
      const address = user ? info.NetworkSettings.Networks[user]?.IPAddress : this.opts.networkMode === 'host' ? '127.0.0.1' : info.NetworkSettings.Networks[this.opts.networkMode ?? 'bridge']?.IPAddress
      // On the default bridge there are no network aliases: the job gets them as host entries.
      if (!user && address && this.opts.networkMode !== 'host') hosts.push(...aliases.map((a) => `${a}:${address}`))
      const started: StartedService = { name: svc.name, container: c, aliases, ports: await exposedPorts(this.docker, svc, id) }
      this.services.push(started)
      const timeout = this.opts.waitForServicesTimeout
      await waitForService(started, address || undefined, timeout === undefined || timeout === 0 ? 30_000 : timeout * 1000, out)
    }
    this.serviceHosts = hosts
  }

  private serviceHosts: string[] = []

  private async createContainer(kind: 'build' | 'helper', imageId: string, image: JobImage | undefined, entrypoint: string[] | undefined): Promise<Docker.Container> {
    const platform = image?.executor_opts?.docker?.platform
    const user = kind === 'build' ? image?.executor_opts?.docker?.user ?? this.opts.user : undefined
    const script = `${this.projectDir}.tmp/.glrun-stage-${kind}.sh`
    return this.docker.createContainer({
      name: `${this.name}-${kind}`,
      Image: imageId,
      Cmd: ['sh', '-c', DETECT_SHELL, script],
      ...(entrypoint ? { Entrypoint: entrypoint.length === 1 && entrypoint[0] === '' ? [] : entrypoint } : {}),
      ...(user ? { User: user } : {}),
      ...(platform ? { platform } : {}),
      Hostname: this.opts.hostname ?? `runner-glrun-project-${this.job.job_info.project_id}-concurrent-0`,
      Labels: this.labels,
      // Volumes without a host path (e.g. "/cache") are anonymous, removed with the container.
      // /builds is an anonymous volume of the build container (the helper takes it with
      // VolumesFrom), removed with it; so are config volumes without a host path ("/cache").
      Volumes: Object.fromEntries([...(kind === 'build' ? [BUILDS] : []), ...(this.opts.volumes ?? []).filter((v) => !v.includes(':'))].map((v) => [v, {}])),
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      // stdin carries each stage's script and closes after it (reopened at the next start).
      OpenStdin: true,
      StdinOnce: true,
      HostConfig: hostConfigFor(this.opts, { kind, ...(kind === 'helper' && this.build ? { volumesFrom: this.build.id } : {}), network: this.network, serviceHosts: this.serviceHosts }),
    })
  }

  async run(script: StageScript, out: TraceOutput, signal: AbortSignal): Promise<ExitStatus> {
    const helperStage = runsInHelper(script.stage)
    const kind = helperStage ? 'helper' : 'build'
    const container = helperStage ? await this.helperContainer() : this.build
    if (!container) throw new Error('DockerSession.run() before prepare()')
    try {
      const st = await runContainerStage(container, out, signal, script.timeoutMs, script.script)
      this.projectDirMade = true
      return st
    } catch (e) {
      const why = e instanceof Error ? e.message.replace(/^\(HTTP code \d+\)[^-]*- /, '') : String(e)
      throw new ExecutorFailure('GLRUN_DOCKER_START', `the ${kind} container could not run the ${script.stage} script: ${why}`, 'runner_system_failure',
        /executable file not found|no such file/.test(why)
          ? 'The image has no shell (sh or bash) to run the job script. Use an image with a shell, or a debug variant of it.'
          : /entrypoint|exec format/.test(why) ? 'The image\'s entrypoint does not run a shell command. Set `image: { name: …, entrypoint: [""] }` in the job.' : undefined)
    }
  }

  private async helperContainer(): Promise<Docker.Container> {
    if (this.helper) return this.helper
    const image = this.opts.helperImage ?? 'registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v17.5.0'
    const id = await ensureImage(this.docker, { image, what: 'image', jobPolicies: [], configPolicies: ['if-not-present'], allowedPolicies: [], allowedImages: [], auth: this.auth }, this.ctx.out)
    this.helper = await this.createContainer('helper', id, undefined, undefined)
    return this.helper
  }

  async close(): Promise<void> {
    // What this session made, removed directly; the label sweep catches anything half-made.
    const made = [this.build, this.helper, ...this.services.map((x) => x.container)].filter((c): c is Docker.Container => c !== undefined)
    await Promise.all(made.map((c) => c.remove({ force: true, v: true }).catch(() => undefined)))
    if (this.network) await this.docker.getNetwork(this.network).remove().catch(() => undefined)
    if (!this.prepared) await removeSession(this.docker, this.id)
  }
}

/** A network name that supports aliases (user-defined), or undefined for host/bridge/none/container:. */
function userNetwork(mode: string | undefined): string | undefined {
  if (!mode || ['host', 'bridge', 'default', 'none'].includes(mode) || mode.startsWith('container:')) return undefined
  return mode
}
