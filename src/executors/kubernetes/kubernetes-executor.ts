import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { type CoreV1Api, type KubeConfig, VersionApi } from '@kubernetes/client-node'
import type { ProbeResult } from '../../diagnose/types.js'
import { GlrunError } from '../../diagnostics/errors.js'
import type { JobPayload } from '../../payload/types.js'
import { ExecutorFailure } from '../failure.js'
import type { Executor, ExecutorSession, OpenContext } from '../types.js'
import { apiErrorText, coreApi, kubeConfigFor, withBearerToken } from './client.js'
import type { KubernetesOptions } from './options.js'
import { applyOverwrites } from './overwrites.js'
import { resolveFromPod } from './pod-resolve.js'
import { PodSession } from './pod-session.js'
import { DEFAULT_HELPER_IMAGE, LABEL_HOST, LABEL_MANAGED, LABEL_PID, type PodIdentity, hostLabel, podName } from './pod-spec.js'
import { alive } from '../../process-alive.js'


/** Who runs the jobs, for the pod's labels (runner mode passes its own). */
export interface KubernetesIdentity { runnerName?: string; shortToken?: string }

/**
 * The Kubernetes executor: a pod per job in `namespace`, built as gitlab-runner builds it
 * (pod-spec.ts), through the Kubernetes API (@kubernetes/client-node, WebSocket exec).
 * Everything it makes carries glrun's labels; the pods a killed glrun on this host left are
 * deleted before the first job.
 */
export class KubernetesExecutor implements Executor {
  readonly name = 'kubernetes'
  private client: { kc: KubeConfig; api: CoreV1Api; source: string } | undefined
  private swept: Promise<void> | undefined

  constructor(private readonly opts: KubernetesOptions, private readonly identity: KubernetesIdentity = {}) {}

  connection(): { kc: KubeConfig; api: CoreV1Api; source: string } {
    if (!this.client) {
      const { kc, source } = kubeConfigFor(this.opts)
      this.client = { kc, api: coreApi(kc), source }
    }
    return this.client
  }

  async probe(): Promise<{ ok: true } | { ok: false; reason: string; hint: string }> {
    try {
      const { kc, source } = this.connection()
      await kc.makeApiClient(VersionApi).getCode().catch((e: unknown) => {
        throw new GlrunError('GLRUN_K8S_UNREACHABLE', `the Kubernetes API (${source}, ${kc.getCurrentCluster()?.server}) does not answer: ${apiErrorText(e)}`)
      })
      return { ok: true }
    } catch (e) {
      return { ok: false, reason: (e as Error).message, hint: e instanceof GlrunError && e.hint ? e.hint : 'Check host, ca_file and bearer_token under [runners.kubernetes] (or the kubeconfig); `glrun doctor --config config.toml` says which part fails.' }
    }
  }

  /**
   * What glrun runs on this host left behind when their process is gone — pods, pull secrets, and
   * per-job namespaces — deleted once per executor. Jobs may have run in other namespaces
   * (overwrites, namespace_per_job): the cluster-wide lists are tried first, and a role that may
   * not list across namespaces falls back to the runner's own namespace.
   */
  private sweep(): Promise<void> {
    this.swept ??= (async () => {
      const { api } = this.connection()
      const labelSelector = `${LABEL_MANAGED}=true,${LABEL_HOST}=${hostLabel(hostname())}`
      const orphan = (labels: Record<string, string> | undefined): boolean => {
        const pid = Number(labels?.[LABEL_PID])
        return pid > 0 && pid !== process.pid && !alive(pid)
      }
      const pods = (await api.listPodForAllNamespaces({ labelSelector }).catch(() => undefined)) ?? (await api.listNamespacedPod({ namespace: this.opts.namespace, labelSelector }).catch(() => undefined))
      for (const p of pods?.items ?? []) {
        if (!orphan(p.metadata?.labels) || !p.metadata?.name) continue
        await api.deleteNamespacedPod({ name: p.metadata.name, namespace: p.metadata.namespace ?? this.opts.namespace, gracePeriodSeconds: 0 }).catch(() => undefined)
      }
      // The pull secrets of those jobs too (a role without secrets list simply skips this).
      const secrets = (await api.listSecretForAllNamespaces({ labelSelector }).catch(() => undefined)) ?? (await api.listNamespacedSecret({ namespace: this.opts.namespace, labelSelector }).catch(() => undefined))
      for (const sec of secrets?.items ?? []) {
        if (orphan(sec.metadata?.labels) && sec.metadata?.name) await api.deleteNamespacedSecret({ name: sec.metadata.name, namespace: sec.metadata.namespace ?? this.opts.namespace }).catch(() => undefined)
      }
      if (this.opts.namespacePerJob) {
        const namespaces = await api.listNamespace({ labelSelector }).catch(() => undefined)
        for (const n of namespaces?.items ?? []) {
          if (orphan(n.metadata?.labels) && n.metadata?.name) await api.deleteNamespace({ name: n.metadata.name }).catch(() => undefined)
        }
      }
    })()
    return this.swept
  }

  private imageOf(job: JobPayload): string {
    const image = job.image?.name || this.opts.image
    if (!image) {
      throw new ExecutorFailure('GLRUN_K8S_NO_IMAGE', `job "${job.job_info.name}" has no image and the runner has no default image`, 'runner_configuration_error',
        'Add `image:` to the job (or `default:`), or set `image = "…"` under [runners.kubernetes] in config.toml.')
    }
    return image
  }

  identityFor(job: JobPayload): PodIdentity {
    const shortToken = this.identity.shortToken ?? 'glrun'
    return { name: podName(job, shortToken, randomBytes(4).toString('hex')), session: randomBytes(6).toString('hex'), shortToken, owner: { host: hostname(), pid: process.pid }, ...(this.identity.runnerName ? { runnerName: this.identity.runnerName } : {}) }
  }

  /** The session for a job without touching the cluster: its pod is what `compile --pod` prints. */
  plan(job: JobPayload, ctx: OpenContext, id: PodIdentity): PodSession {
    const { opts, lines, bearerToken } = applyOverwrites(this.opts, job, this.identity.shortToken ? undefined : id.session.slice(0, 8))
    return new PodSession({ ...this.connectionFor(bearerToken), opts, id, helperImage: this.opts.helperImage ?? DEFAULT_HELPER_IMAGE, overwrites: lines }, job, ctx, this.imageOf(job))
  }

  /** The runner's connection, or one with the job's KUBERNETES_BEARER_TOKEN when config.toml allows it. */
  private connectionFor(bearerToken: string | undefined): { kc: KubeConfig; api: CoreV1Api } {
    const { kc, api } = this.connection()
    if (bearerToken === undefined) return { kc, api }
    const own = withBearerToken(kc, bearerToken)
    return { kc: own, api: coreApi(own) }
  }

  async open(job: JobPayload, ctx: OpenContext): Promise<ExecutorSession> {
    const session = this.plan(job, ctx, this.identityFor(job))
    await this.sweep()
    try {
      await session.prepare()
      return session
    } catch (e) {
      await session.close()
      throw e
    }
  }

  async resolveFromJob(host: string, job: JobPayload): Promise<ProbeResult> {
    try {
      const over = applyOverwrites(this.opts, job)
      // The job's own namespace is gone after the job with namespace_per_job: check from the runner's.
      const opts = this.opts.namespacePerJob ? { ...over.opts, namespace: this.opts.namespace } : over.opts
      const bearerToken = over.bearerToken
      return await resolveFromPod({ ...this.connectionFor(bearerToken), opts, id: this.identityFor(job), helperImage: this.opts.helperImage ?? DEFAULT_HELPER_IMAGE }, job, this.imageOf(job), host)
    } catch (e) {
      return { kind: 'dns', target: host, from: 'job', ok: false, summary: `could not check from a job pod: ${(e as Error).message.split('\n')[0]}`, detail: { inconclusive: true } }
    }
  }
}
