import { PassThrough, Writable } from 'node:stream'
import type { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node'
import type { JobPayload } from '../../payload/types.js'
import { DETECT_SHELL } from '../detect-shell.js'
import { checkAllowedImage } from '../allowed-images.js'
import { ExecutorFailure } from '../failure.js'
import type { ExecutorSession, ExitStatus, JobFiles, OpenContext, StageScript, TraceOutput } from '../types.js'
import { apiErrorText, apiStatus } from './client.js'
import { execInPod } from './exec-socket.js'
import { type ExecutionStrategy, StageOutput, attachInput, executionStrategy, killStageCommand, newNonce, readLogCommand, stageCommand } from './attach-stage.js'
import { denialHint, parseDenial } from './forbidden.js'
import type { KubernetesOptions } from './options.js'
import { PodFiles } from './pod-files.js'
import { ADVANCED_POD_SPEC_WARNING, advancedPodSpec } from './pod-spec-patch.js'
import { featureFlag } from '../../job/feature-flag.js'
import { formatGoDuration } from '../../job/go-duration.js'
import { HONOR_ENTRYPOINT, LABEL_HOST, LABEL_MANAGED, LABEL_PID, LABEL_SESSION, type PodIdentity, type PodPlan, PULL, buildPod, hostLabel, pullPolicies } from './pod-spec.js'
import { waitForPodRunning } from './pod-wait.js'
import { runsInHelper } from '../helper-stages.js'

const YELLOW = '\x1b[0;33m'
const RESET = '\x1b[0;m'

/** Ends every process of a stage: all but the container's main process (PID 1) and this script. */
const KILL_STAGE = 'for d in /proc/[0-9]*; do p=${d#/proc/}; [ "$p" = 1 ] || [ "$p" = $$ ] || kill -9 "$p" 2>/dev/null; done; exit 0'

export interface SessionDeps {
  kc: KubeConfig
  api: CoreV1Api
  /** The runner's options after the job's overwrites (overwrites.ts). */
  opts: KubernetesOptions
  id: PodIdentity
  helperImage: string
  /** gitlab-runner's lines for the overwrites the job made, printed first in prepare. */
  overwrites?: string[]
}

/** An API failure while setting the pod up, with the apiserver's words and, for a 403, the missing rule. */
export function setupFailure(step: string, e: unknown): ExecutorFailure {
  const text = apiErrorText(e)
  const status = apiStatus(e)
  const denial = parseDenial(text)
  return new ExecutorFailure(status?.code === 403 ? 'GLRUN_K8S_FORBIDDEN' : 'GLRUN_K8S_API', `prepare environment: ${step}: ${text}`,
    status?.code === 403 || status?.code === 422 ? 'runner_configuration_error' : 'runner_system_failure',
    denial ? denialHint(denial) : status?.code === 422 ? 'The cluster refused the pod glrun built from config.toml: `glrun compile JOB --pod --config config.toml` shows it.' : undefined)
}

/**
 * One job's pod: created and awaited in prepare(), each stage run in the build container
 * (get_sources and the artifact steps in the helper, which has git) by gitlab-runner's attach
 * strategy (attach-stage.ts: a command on the container's stdin) or, with
 * FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY, its exec strategy (an exec of the shell, the script
 * on the exec's stdin); the job's files cross through the helper's tar. close() deletes the pod
 * and what was made for it.
 */
export class PodSession implements ExecutorSession {
  readonly description = ''
  readonly projectDir: string
  readonly files: JobFiles
  private plan: PodPlan
  /** The pod's name: a new one for each pull-policy attempt (the old one may still be terminating). */
  private name: string
  private created = false
  private namespaceCreated = false
  private entrypointShown = false
  private pullSecret: string | undefined
  private readonly strategy: ExecutionStrategy

  constructor(private readonly d: SessionDeps, private readonly job: JobPayload, private readonly ctx: OpenContext, readonly image: string) {
    this.name = d.id.name
    this.strategy = executionStrategy(job, d.opts.featureFlags)
    this.plan = buildPod(job, d.opts, d.id, image, d.helperImage)
    this.projectDir = this.plan.projectDir
    this.files = new PodFiles(() => ({ kc: d.kc, namespace: d.opts.namespace, pod: this.name, container: 'helper' }), this.projectDir)
  }

  get pod(): Record<string, unknown> {
    return this.plan.pod
  }

  private checkAllowed(): void {
    checkAllowedImage(this.image, [this.image], this.d.opts.allowedImages, 'image', this.ctx.out)
    for (const s of this.plan.containers.services) checkAllowedImage(s.image, [s.image], this.d.opts.allowedServices, 'service', this.ctx.out)
    const allowed = this.d.opts.allowedPullPolicies.length ? this.d.opts.allowedPullPolicies : this.d.opts.pullPolicy
    const wanted = this.job.image?.pull_policy ?? []
    if (allowed.length && wanted.length && !wanted.some((p) => allowed.includes(p))) {
      throw new ExecutorFailure('GLRUN_PULL_POLICY_NOT_ALLOWED', `invalid pull policy for image "${this.image}": pull_policy ([${wanted.join(' ')}]) defined in GitLab pipeline config is not one of the allowed_pull_policies ([${allowed.join(' ')}])`,
      'runner_configuration_error', `Use one of ${allowed.join(', ')} in the job's pull_policy, or add the policy to allowed_pull_policies in config.toml.`)
    }
  }

  async prepare(): Promise<void> {
    const { opts, id } = this.d
    const out = this.ctx.out
    this.checkAllowed()
    for (const line of [...(this.d.overwrites ?? []), ...this.plan.notes]) out.write(`${line}\n`)
    out.write(`Using Kubernetes namespace: ${opts.namespace}\n`)
    out.write(`Using Kubernetes executor with image ${this.image} ...\n`)
    if (this.strategy === 'attach') out.write('Using attach strategy to execute scripts...\n')
    if (advancedPodSpec(this.job, opts.featureFlags)) out.write(`${YELLOW}WARNING: ${ADVANCED_POD_SPEC_WARNING}${RESET}\n`)
    out.write(`Using FF_USE_POD_ACTIVE_DEADLINE_SECONDS, the Pod activeDeadlineSeconds will be set to the job timeout: ${formatGoDuration(this.job.runner_info.timeout)}...\n`)
    if (opts.namespacePerJob) await this.createNamespace()
    await this.createPullSecret()
    const policies = pullPolicies(this.job.image?.pull_policy, opts)
    for (let attempt = 0; ; attempt++) {
      try {
        await this.startPod()
        return
      } catch (e) {
        // gitlab-runner: a failed pull with more policies left deletes the pod and tries the next.
        const next = policies[attempt + 1]
        if (!(e instanceof ExecutorFailure) || !/pulling image ".*" for container build:/.test(e.message) || next === undefined) throw e
        out.write(`${YELLOW}WARNING: Failed to pull image "${this.image}" for container "build" with policy "${PULL[policies[attempt]!]}": ${e.message.replace(/^.*for container build: /, '')}${RESET}\n`)
        out.write(`Attempt #${attempt + 2}: Trying "${PULL[next]}" pull policy for "${this.image}" image for container "build"\n`)
        await this.deletePod(0)
        this.name = `${id.name.slice(0, 63 - 3)}-${attempt + 2}`.replace(/^(.{0,63}).*$/, '$1')
        this.plan = buildPod(this.job, opts, { ...id, name: this.name }, this.image, this.d.helperImage, attempt + 1)
        this.addPullSecret()
      }
    }
  }

  private async startPod(): Promise<void> {
    const { api, opts } = this.d
    const out = this.ctx.out
    try {
      await api.createNamespacedPod({ namespace: opts.namespace, body: this.plan.pod as V1Pod })
      this.created = true
    } catch (e) {
      throw setupFailure('setting up build pod', e)
    }
    const images = new Map<string, string>([['build', this.image], ['helper', this.d.helperImage], ...this.plan.containers.services.map((s): [string, string] => [s.container, s.image])])
    try {
      await waitForPodRunning({ api, kc: this.d.kc, namespace: opts.namespace, pod: this.name, pollIntervalS: opts.pollIntervalS, pollTimeoutS: opts.pollTimeoutS, out, signal: this.ctx.signal }, images)
    } catch (e) {
      await this.warningEvents(out)
      throw e
    }
  }

  /** namespace_per_job: the job's own namespace (gitlab-runner's setupBuildNamespace), deleted at close. */
  private async createNamespace(): Promise<void> {
    try {
      await this.d.api.createNamespace({ body: { metadata: { name: this.d.opts.namespace, labels: { [LABEL_MANAGED]: 'true', [LABEL_SESSION]: this.d.id.session, ...(this.d.id.owner ? { [LABEL_HOST]: hostLabel(this.d.id.owner.host), [LABEL_PID]: String(this.d.id.owner.pid) } : {}) } } } })
      this.namespaceCreated = true
    } catch (e) {
      throw setupFailure('failed to create namespace', e)
    }
  }

  /** The job's registry credentials as a pull secret, as gitlab-runner makes one (deleted at close). */
  private async createPullSecret(): Promise<void> {
    const creds = (this.job.credentials ?? []).filter((c) => c.type === 'registry' && c.username)
    if (creds.length === 0) return
    const auths = Object.fromEntries(creds.map((c) => [c.url, { username: c.username, password: c.password, auth: Buffer.from(`${c.username}:${c.password}`).toString('base64') }]))
    try {
      const s = await this.d.api.createNamespacedSecret({ namespace: this.d.opts.namespace, body: {
        metadata: { generateName: `${this.d.id.name.slice(0, 50)}-`, labels: { [LABEL_MANAGED]: 'true', [LABEL_SESSION]: this.d.id.session, ...(this.d.id.owner ? { [LABEL_HOST]: hostLabel(this.d.id.owner.host), [LABEL_PID]: String(this.d.id.owner.pid) } : {}) } },
        type: 'kubernetes.io/dockerconfigjson',
        data: { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths })).toString('base64') },
      } })
      this.pullSecret = s.metadata?.name
    } catch (e) {
      throw setupFailure('setting up credentials', e)
    }
    this.addPullSecret()
  }

  private addPullSecret(): void {
    if (!this.pullSecret) return
    const spec = (this.plan.pod as { spec: { imagePullSecrets?: { name: string }[] } }).spec
    spec.imagePullSecrets = [...(spec.imagePullSecrets ?? []), { name: this.pullSecret }]
  }

  /** gitlab-runner's print_pod_warning_events: the pod's Warning events, when it failed to start. */
  private async warningEvents(out: TraceOutput): Promise<void> {
    try {
      const list = await this.d.api.listNamespacedEvent({ namespace: this.d.opts.namespace, fieldSelector: `involvedObject.name=${this.name},type=Warning` })
      for (const e of list.items) out.write(`${YELLOW}WARNING: Event retrieved from the cluster: ${e.message ?? e.reason ?? ''}${RESET}\n`)
    } catch {
      /* events are evidence, not a requirement (the role may not list them) */
    }
  }

  async run(script: StageScript, out: TraceOutput, signal: AbortSignal): Promise<ExitStatus> {
    const container = runsInHelper(script.stage) ? 'helper' : 'build'
    if (container === 'build' && !this.entrypointShown && featureFlag(HONOR_ENTRYPOINT, this.job, this.d.opts.featureFlags)) await this.showEntrypointOutput(out)
    const path = `${this.projectDir}.tmp/.glrun-stage-${container}.sh`
    const attach = this.strategy === 'attach'
    const nonce = newNonce()
    const stop = new AbortController()
    let ending: ExitStatus | undefined
    const end = (why: ExitStatus): void => {
      if (ending) return
      ending = why
      // Kill the stage's processes in the container; its exec or attach then ends with their exit.
      void execInPod(this.d.kc, this.d.opts.namespace, this.name, container, ['sh', '-c', attach ? killStageCommand(path, nonce) : KILL_STAGE], { stdout: new PassThrough().resume() }).then(() => {
        setTimeout(() => stop.abort(), 5000).unref()
      })
    }
    const onAbort = (): void => end({ kind: 'canceled' })
    if (signal.aborted) onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    const timer = script.timeoutMs ? setTimeout(() => end({ kind: 'timed-out' }), script.timeoutMs) : undefined
    try {
      let r
      if (attach) {
        const log = this.plan.logFile!
        let status: number | undefined
        const onStatus = (code: number): void => {
          status = code
          stop.abort()
        }
        const output = new StageOutput(nonce, out, onStatus)
        const errors = new Writable({ write: (c: Buffer, _e, cb) => { out.write(c); cb() } })
        r = await execInPod(this.d.kc, this.d.opts.namespace, this.name, container, 'attach', { stdin: attachInput(stageCommand(path, script.script, nonce, log)), stdout: output, stderr: errors }, stop.signal)
        // A session that broke after it opened (no HTTP refusal) while the pod still runs: the
        // stage goes on; its output and status are in the log file, read from the helper as
        // gitlab-runner's read-logs does, from where the session stopped.
        let passed = output.passed
        let last = output.lastByte
        const breaks: string[] = []
        for (let tries = 0; status === undefined && !ending && r.kind === 'error' && r.httpCode === undefined && tries < 3; tries++) {
          if (await this.podFate(container)) break
          breaks.push(r.message)
          const resumed = new StageOutput(nonce, out, onStatus, { skip: passed })
          r = await execInPod(this.d.kc, this.d.opts.namespace, this.name, 'helper', readLogCommand(log), { stdout: resumed }, stop.signal)
          passed += resumed.passed
          last = resumed.lastByte ?? last
        }
        // Said after the stage's output, never inside it (the output resumes mid-line).
        if (breaks.length) out.write(`${last !== undefined && last !== 0x0a ? '\n' : ''}${YELLOW}WARNING: the attach session to the ${container} container broke (${breaks.join('; ')}): the stage's output after that was read from ${log}${RESET}\n`)
        // Without the status line the stage did not end by itself, whatever the session says
        // (an attach to a main process that died ends with Success): ask the pod what happened.
        if (status !== undefined) r = { kind: 'exited' as const, code: status }
        else if (r.kind === 'exited') r = { kind: 'error' as const, message: 'the attach session ended before the stage did' }
      } else {
        const output = new PassThrough()
        output.on('data', (b: Buffer) => out.write(b))
        r = await execInPod(this.d.kc, this.d.opts.namespace, this.name, container, ['sh', '-c', DETECT_SHELL, path], { stdin: streamOf(script.script), stdout: output, stderr: output }, stop.signal)
      }
      if (ending) return ending
      // A kill (137, 143) may be the job's own, or the cluster's ending the pod; a broken stream
      // always asks: what happened to the pod (gitlab-runner's watchPodStatus words).
      if (r.kind === 'exited' && r.code < 128) return { kind: 'exited', code: r.code }
      const fate = await this.podFate(container)
      if (fate) {
        await this.warningEvents(out)
        throw new ExecutorFailure('GLRUN_K8S_POD_LOST', fate, 'runner_system_failure', 'The cluster stopped the job\'s pod: its events above say why (eviction, node pressure, a deletion, activeDeadlineSeconds).')
      }
      if (r.kind === 'exited') return { kind: 'exited', code: r.code }
      const denial = r.httpCode === 403 ? parseDenial(r.message) : undefined
      throw new ExecutorFailure(r.httpCode === 403 ? 'GLRUN_K8S_FORBIDDEN' : 'GLRUN_K8S_EXEC', `the ${container} container could not run the ${script.stage} script: ${r.message}`,
        r.httpCode === 403 ? 'runner_configuration_error' : 'runner_system_failure', denial ? denialHint(denial) : 'The connection to the pod through the Kubernetes API failed and the pod still runs: check the API server\'s reachability and its streaming limits; `glrun doctor --config config.toml` checks the connection and the permissions.')
    } finally {
      if (timer) clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
    }
  }

  /**
   * FF_KUBERNETES_HONOR_ENTRYPOINT: what the image's ENTRYPOINT printed before the job's shell took
   * over (the build container's log so far), shown once before the first build stage, as
   * gitlab-runner forwards it. What it prints later reaches the trace through the stages' session.
   */
  private async showEntrypointOutput(out: TraceOutput): Promise<void> {
    this.entrypointShown = true
    const text = await this.d.api.readNamespacedPodLog({ name: this.name, namespace: this.d.opts.namespace, container: 'build' }).catch(() => '')
    if (typeof text === 'string' && text !== '') out.write(text.endsWith('\n') ? text : `${text}\n`)
  }

  private async deletePod(gracePeriodSeconds?: number): Promise<void> {
    if (!this.created) return
    this.created = false
    await this.d.api.deleteNamespacedPod({ name: this.name, namespace: this.d.opts.namespace, ...(gracePeriodSeconds !== undefined ? { gracePeriodSeconds } : {}) })
      .catch((e: unknown) => { if (apiStatus(e)?.code !== 404) this.ctx.out.write(`\x1b[31;1mERROR: Error cleaning up pod: ${apiErrorText(e)}\x1b[0;m\n`) })
  }

  /** Why the pod can no longer run the job, or undefined when it still runs. */
  private async podFate(container: string): Promise<string | undefined> {
    let pod: V1Pod
    try {
      pod = await this.d.api.readNamespacedPod({ name: this.name, namespace: this.d.opts.namespace })
    } catch (e) {
      return apiStatus(e)?.code === 404 ? `pods "${this.name}" not found: the job's pod was deleted` : undefined
    }
    const dead = (pod.status?.containerStatuses ?? []).find((c) => (c.name === container || c.name === 'build' || c.name === 'helper') && c.state?.terminated)
    const t = dead?.state?.terminated
    if (dead && t) return `Error in container ${dead.name}: exit code: ${t.exitCode}, reason: '${t.reason ?? ''}'`
    if (pod.metadata?.deletionTimestamp) return `pod "${this.d.opts.namespace}/${this.name}" is being deleted`
    const phase = pod.status?.phase
    if (phase && phase !== 'Running') return `pod "${this.name}" status is "${phase}"${pod.status?.reason ? ` (${pod.status.reason}: ${pod.status.message ?? ''})` : ''}`
    return undefined
  }

  async close(): Promise<void> {
    await this.deletePod(this.d.opts.cleanupGracePeriodSeconds)
    if (this.pullSecret) {
      await this.d.api.deleteNamespacedSecret({ name: this.pullSecret, namespace: this.d.opts.namespace }).catch(() => undefined)
    }
    if (this.namespaceCreated) {
      this.namespaceCreated = false
      await this.d.api.deleteNamespace({ name: this.d.opts.namespace }).catch((e: unknown) => {
        if (apiStatus(e)?.code !== 404) this.ctx.out.write(`\x1b[31;1mERROR: Error cleaning up namespace: failed to delete namespace: ${apiErrorText(e)}\x1b[0;m\n`)
      })
    }
  }
}

function streamOf(text: string): PassThrough {
  const s = new PassThrough()
  s.end(text)
  return s
}
