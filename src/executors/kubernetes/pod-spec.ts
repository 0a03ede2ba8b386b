import { formatGoDuration } from '../../job/go-duration.js'
import type { JobImage, JobPayload, JobVariable, PullPolicy } from '../../payload/types.js'
import { serviceHostnames } from '../docker/image-ref.js'
import type { KubernetesOptions, Resources, VolumeOption } from './options.js'
import { ATTACH_MAIN, executionStrategy } from './attach-stage.js'
import { type ContainerKind, containerContextWithIds, containerSecurityContext, podSecurityContext } from './security-context.js'
import { expandValue } from '../../job/variables/runner-expand.js'
import { containerLifecycle, podAffinity } from './pod-placement.js'
import { advancedPodSpec, patchPodSpec } from './pod-spec-patch.js'
import { featureFlag } from '../../job/feature-flag.js'

/** gitlab-runner's flag that lets the image's ENTRYPOINT run before the job's shell. */
export const HONOR_ENTRYPOINT = 'FF_KUBERNETES_HONOR_ENTRYPOINT'

/** gitlab-runner's helper image: has git and tar (sources, artifacts and caches go through it). */
export const DEFAULT_HELPER_IMAGE = 'registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v17.5.0'

/** Where job directories are in every container (an emptyDir shared by build and helper). */
export const BUILDS_ROOT = '/builds'

/** Labels that find glrun's pods again: a killed glrun's leftovers are swept by them. */
export const LABEL_MANAGED = 'glrun.dev/managed'
export const LABEL_HOST = 'glrun.dev/host'
export const LABEL_PID = 'glrun.dev/pid'
export const LABEL_SESSION = 'glrun.dev/session'

/**
 * The main process of the build and helper containers: it only keeps the container up (scripts
 * come through exec, gitlab-runner's exec strategy), and ends at once when the pod is deleted
 * instead of holding it for the whole grace period.
 */
export const KEEP_ALIVE = 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'

export interface PodIdentity {
  /** The pod's name (≤ 63 characters, RFC 1123). */
  name: string
  /** glrun's session id, on the pod's labels. */
  session: string
  /** The runner's name and short token when glrun runs for GitLab; "local" otherwise. */
  runnerName?: string
  shortToken?: string
  /**
   * This glrun's host and process, on the pod's labels, so the next glrun on the host deletes
   * what a killed one left. Absent in `compile --pod` (the manifest stays the same everywhere).
   */
  owner?: { host: string; pid: number }
}

/** A container of the pod and what it is for. */
export interface PodContainers { build: string; helper: string; services: { container: string; image: string; aliases: string[] }[] }

export interface PodPlan {
  /** The Pod, as JSON for POST /api/v1/namespaces/<ns>/pods. */
  pod: Record<string, unknown>
  containers: PodContainers
  /** CI_PROJECT_DIR inside the containers. */
  projectDir: string
  /** Attach strategy: the file every stage's output is appended to (in build and helper). */
  logFile?: string
  /** What gitlab-runner says while building the pod (a job's `image: kubernetes: user` it did not get), for the job log. */
  notes: string[]
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

/** gitlab-runner's pod name: runner-<token>-project-<id>-concurrent-<n>-<random>, RFC 1123, ≤ 63. */
export function podName(job: JobPayload, shortToken: string, random: string): string {
  const base = `runner-${shortToken}-project-${job.job_info.project_id}-concurrent-0`.toLowerCase().replace(/[^a-z0-9-]/g, '-')
  return `${base.slice(0, 63 - random.length - 1)}-${random}`
}

/** This host's name as a label value (the sweep selects on it). */
export const hostLabel = (host: string): string => labelValue(host) || 'unknown'

/** A value Kubernetes accepts as a label value: ≤ 63 of [A-Za-z0-9_.-], alphanumeric at both ends. */
export function labelValue(v: string): string {
  return v.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '')
}

/** gitlab-runner's pull policy names → Kubernetes' imagePullPolicy. */
export const PULL: Record<PullPolicy, string> = { always: 'Always', 'if-not-present': 'IfNotPresent', never: 'Never' }

const DNS_POLICY: Record<string, string> = { none: 'None', default: 'Default', 'cluster-first': 'ClusterFirst', 'cluster-first-with-host-net': 'ClusterFirstWithHostNet' }

function resourceRequirements(r: Resources): Record<string, unknown> | undefined {
  const pick = (cpu?: string, memory?: string, eph?: string): Record<string, string> | undefined => {
    const m = { ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}), ...(eph ? { 'ephemeral-storage': eph } : {}) }
    return Object.keys(m).length ? m : undefined
  }
  const limits = pick(r.cpuLimit, r.memoryLimit, r.ephemeralStorageLimit)
  const requests = pick(r.cpuRequest, r.memoryRequest, r.ephemeralStorageRequest)
  return limits || requests ? { ...(limits ? { limits } : {}), ...(requests ? { requests } : {}) } : undefined
}

function volumeSource(v: VolumeOption): Record<string, unknown> {
  const items = v.items ? Object.entries(v.items).map(([key, path]) => ({ key, path })) : undefined
  switch (v.kind) {
    case 'empty_dir': return { emptyDir: { ...(v.medium ? { medium: v.medium } : {}), ...(v.sizeLimit ? { sizeLimit: v.sizeLimit } : {}) } }
    case 'config_map': return { configMap: { name: v.name, ...(items ? { items } : {}) } }
    case 'secret': return { secret: { secretName: v.name, ...(items ? { items } : {}) } }
    case 'pvc': return { persistentVolumeClaim: { claimName: v.name, ...(v.readOnly ? { readOnly: true } : {}) } }
    case 'host_path': return { hostPath: { path: v.hostPath ?? v.mountPath } }
  }
}

const envOf = (vars: readonly JobVariable[]): { name: string; value: string }[] =>
  vars.filter((v) => !v.file && v.public !== false && /^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(v.key)).map((v) => ({ name: v.key, value: v.value }))

/** Config services first, then the job's (gitlab-runner's order). */
function allServices(job: JobPayload, opts: KubernetesOptions): JobImage[] {
  return [...opts.services.map((s): JobImage => ({ name: s.name, ...(s.alias ? { alias: s.alias } : {}), ...(s.command ? { command: s.command } : {}), ...(s.entrypoint ? { entrypoint: s.entrypoint } : {}) })), ...(job.services ?? [])]
}

/** The pull policies to try in turn: the job's, else the config's; none = the cluster's default. */
export function pullPolicies(jobPolicies: readonly PullPolicy[] | undefined, opts: KubernetesOptions): readonly PullPolicy[] {
  return jobPolicies && jobPolicies.length > 0 ? jobPolicies : opts.pullPolicy
}

/** The policy of one attempt (gitlab-runner recreates the pod with the next policy after a failed pull). */
export function pullPolicyFor(jobPolicies: readonly PullPolicy[] | undefined, opts: KubernetesOptions, attempt = 0): PullPolicy | undefined {
  const wanted = pullPolicies(jobPolicies, opts)
  return wanted[Math.min(attempt, wanted.length - 1)]
}

/**
 * The pod gitlab-runner would create for the job (executors/kubernetes preparePodConfig, exec
 * strategy): containers build, helper, then the services; an emptyDir at /builds that build and
 * helper share; host aliases for the services' names on 127.0.0.1, then the configured ones;
 * gitlab-runner's labels and annotations plus glrun's own (for the sweep). Pure: no API call.
 */
export function buildPod(job: JobPayload, opts: KubernetesOptions, id: PodIdentity, image: string, helperImage: string, attempt = 0): PodPlan {
  // Attach: build and helper read their stages from stdin and every stage's output also goes to
  // a log file on a volume of their own (gitlab-runner's logs volume); exec: they only keep the
  // pod alive.
  const attach = executionStrategy(job, opts.featureFlags) === 'attach'
  const main = attach ? ATTACH_MAIN : KEEP_ALIVE
  const logsDir = attach ? `/logs-${job.job_info.project_id}-${job.id}` : undefined
  const projectDir = `${BUILDS_ROOT}/${job.job_info.project_full_path ?? job.job_info.project_name}`
  const mounts = [
    ...(opts.volumes.some((v) => v.mountPath === BUILDS_ROOT) ? [] : [{ name: 'repo', mountPath: BUILDS_ROOT }]),
    ...opts.volumes.map((v) => ({ name: v.name, mountPath: v.mountPath, ...(v.subPath ? { subPath: v.subPath } : {}), ...(v.readOnly ? { readOnly: true } : {}) })),
    ...(logsDir ? [{ name: 'logs', mountPath: logsDir }] : []),
  ]
  const lifecycle = containerLifecycle(opts.containerLifecycle)
  const honorEntrypoint = featureFlag(HONOR_ENTRYPOINT, job, opts.featureFlags)
  const security = (kind: ContainerKind): Record<string, unknown> => {
    const sc = containerSecurityContext(opts, kind)
    return sc ? { securityContext: sc } : {}
  }
  // build, helper and services take their user and group as gitlab-runner decides (the job's
  // `image: kubernetes: user`, expanded, where config.toml does not set one); the helper never the job's.
  const notes: string[] = []
  const vars = new Map(job.variables.map((v) => [v.key, v.value]))
  const withIds = (kind: ContainerKind, name: string, image?: JobImage): Record<string, unknown> => {
    // GitLab may send the user as a number (StringOrInt64).
    const user = image?.executor_opts?.kubernetes?.user
    const r = containerContextWithIds(opts, kind, name, expandValue(user === undefined || user === null ? '' : String(user), (k) => vars.get(k)))
    notes.push(...r.lines)
    return r.context ? { securityContext: r.context } : {}
  }
  const container = (name: 'build' | 'helper', img: string, policy: PullPolicy | undefined, res: Resources, env: { name: string; value: string }[], entrypoint?: string[]): Record<string, unknown> => {
    const resources = resourceRequirements(res)
    const ep = entrypoint && !(entrypoint.length === 1 && entrypoint[0] === '') ? entrypoint : undefined
    return {
      name, image: img,
      ...(policy ? { imagePullPolicy: PULL[policy] } : {}),
      // gitlab-runner: an image entrypoint is the command and the shell its arguments; with
      // FF_KUBERNETES_HONOR_ENTRYPOINT the image's own ENTRYPOINT runs, the shell as its arguments.
      ...(honorEntrypoint ? { args: ['sh', '-c', main] } : ep ? { command: ep, args: ['sh', '-c', main] } : { command: ['sh', '-c', main] }),
      ...(env.length ? { env } : {}),
      ...(resources ? { resources } : {}),
      volumeMounts: mounts,
      ...(lifecycle ? { lifecycle } : {}),
      ...withIds(name, name, name === 'build' ? job.image ?? undefined : undefined),
      stdin: true,
    }
  }
  const build = container('build', image, pullPolicyFor(job.image?.pull_policy, opts, attempt), opts.build, envOf(job.variables), job.image?.entrypoint)
  const helper = container('helper', helperImage, opts.pullPolicy[0], opts.helper, [])

  const used = new Set(['build', 'helper'])
  const services = allServices(job, opts).map((svc, i) => {
    const aliases = serviceHostnames(svc.name, svc.alias).filter((a) => DNS_SUBDOMAIN.test(a))
    // Named after the first of the user's own aliases that is a DNS-1123 label, else svc-<index>.
    const own = (svc.alias ?? '').split(/[\s,]+/).filter(Boolean)
    const name = own.find((a) => DNS_LABEL.test(a) && a.length <= 63 && !used.has(a)) ?? `svc-${i}`
    used.add(name)
    return { container: name, image: svc.name, aliases, svc }
  })
  const serviceContainers = services.map(({ container: name, svc }, i) => {
    const resources = resourceRequirements(opts.jobServiceResources?.[i - opts.services.length] ?? opts.service)
    const policy = pullPolicyFor(svc.pull_policy, opts)
    const env = [...envOf(job.variables), ...envOf(svc.variables ?? [])]
    return {
      name, image: svc.name,
      ...(policy ? { imagePullPolicy: PULL[policy] } : {}),
      ...(svc.entrypoint ? { command: svc.entrypoint } : {}),
      ...(svc.command ? { args: svc.command } : {}),
      ...(env.length ? { env } : {}),
      ...(svc.ports?.length ? { ports: svc.ports.map((p) => ({ containerPort: p.number, ...(p.protocol ? { protocol: p.protocol.toUpperCase() } : {}), ...(p.name ? { name: p.name } : {}) })) } : {}),
      ...(resources ? { resources } : {}),
      ...(lifecycle ? { lifecycle } : {}),
      ...withIds('service', name, svc),
      stdin: true,
    }
  })

  const serviceHosts = [...new Set(services.filter((s) => !s.svc.ports?.length).flatMap((s) => s.aliases))]
  const hostAliases = [
    ...(serviceHosts.length ? [{ ip: '127.0.0.1', hostnames: serviceHosts }] : []),
    ...opts.hostAliases.map((h) => ({ ip: h.ip, hostnames: h.hostnames })),
  ]
  const path = job.job_info.project_full_path ?? job.job_info.project_name
  const ns = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : ''
  const reserved = (k: string): boolean => /(^|\.)runner\.gitlab\.com\//.test(k) || k.startsWith('glrun.dev/')
  const labels: Record<string, string> = {
    ...Object.fromEntries(Object.entries(opts.podLabels).filter(([k]) => !reserved(k))),
    pod: labelValue(id.name),
    'project.runner.gitlab.com/id': String(job.job_info.project_id),
    'project.runner.gitlab.com/name': labelValue(job.job_info.project_name),
    ...(ns ? { 'project.runner.gitlab.com/namespace': labelValue(ns) } : {}),
    ...(job.job_info.namespace_id !== undefined ? { 'project.runner.gitlab.com/namespace-id': String(job.job_info.namespace_id) } : {}),
    ...(job.job_info.root_namespace_id !== undefined ? { 'project.runner.gitlab.com/root-namespace-id': String(job.job_info.root_namespace_id) } : {}),
    'job.runner.gitlab.com/pod': labelValue(id.name),
    'manager.runner.gitlab.com/name': labelValue(id.runnerName ?? 'local'),
    'manager.runner.gitlab.com/id-short': labelValue(id.shortToken ?? 'glrun'),
    [LABEL_MANAGED]: 'true',
    ...(id.owner ? { [LABEL_HOST]: hostLabel(id.owner.host), [LABEL_PID]: String(id.owner.pid) } : {}),
    [LABEL_SESSION]: id.session,
  }
  const variable = (k: string): string | undefined => job.variables.find((v) => v.key === k)?.value
  const annotations: Record<string, string> = {
    ...Object.fromEntries(Object.entries(opts.podAnnotations).filter(([k]) => !reserved(k))),
    'job.runner.gitlab.com/id': String(job.id),
    ...(variable('CI_JOB_URL') ? { 'job.runner.gitlab.com/url': variable('CI_JOB_URL')! } : {}),
    'job.runner.gitlab.com/sha': job.git_info.sha,
    'job.runner.gitlab.com/before_sha': job.git_info.before_sha,
    'job.runner.gitlab.com/ref': job.git_info.ref,
    'job.runner.gitlab.com/name': job.job_info.name,
    'job.runner.gitlab.com/timeout': formatGoDuration(job.runner_info.timeout),
    'project.runner.gitlab.com/id': String(job.job_info.project_id),
  }
  const tolerations = Object.entries(opts.nodeTolerations).map(([key, effect]) => {
    const eq = key.indexOf('=')
    return eq >= 0 ? { key: key.slice(0, eq), value: key.slice(eq + 1), operator: 'Equal', ...(effect ? { effect } : {}) } : { key, operator: 'Exists', ...(effect ? { effect } : {}) }
  })
  const dnsPolicy = opts.dnsPolicy ? DNS_POLICY[opts.dnsPolicy] : undefined
  const pullSecrets = opts.imagePullSecrets.map((name) => ({ name }))
  const volumes = [
    ...(mounts.some((m) => m.name === 'repo') ? [{ name: 'repo', emptyDir: {} }] : []),
    ...opts.volumes.map((v) => ({ name: v.name, ...volumeSource(v) })),
    ...(logsDir ? [{ name: 'logs', emptyDir: {} }] : []),
  ]
  // gitlab-runner's init-permissions (attach mode): the log file exists and any user may write it.
  // Its pull policy and resources are the helper's (buildPermissionsInitContainer).
  const helperResources = resourceRequirements(opts.helper)
  const initContainers = logsDir ? [{
    name: 'init-permissions', image: helperImage,
    ...(opts.pullPolicy[0] ? { imagePullPolicy: PULL[opts.pullPolicy[0]] } : {}),
    command: ['sh', '-c', `touch ${logsDir}/output.log && (chmod 777 ${logsDir}/output.log || exit 0)`],
    ...(helperResources ? { resources: helperResources } : {}),
    volumeMounts: mounts,
    ...security('init_permissions'),
  }] : []
  const podSecurity = podSecurityContext(opts.podSecurityContext)
  const affinity = podAffinity(opts.affinity)
  const pod = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: id.name, namespace: opts.namespace, labels, annotations },
    spec: {
      restartPolicy: 'Never',
      // gitlab-runner's FF_USE_POD_ACTIVE_DEADLINE_SECONDS (on by default): the cluster ends the pod after the job's timeout.
      activeDeadlineSeconds: job.runner_info.timeout + 1,
      ...(opts.podTerminationGracePeriodSeconds !== undefined ? { terminationGracePeriodSeconds: opts.podTerminationGracePeriodSeconds } : {}),
      ...(Object.keys(opts.nodeSelector).length ? { nodeSelector: opts.nodeSelector } : {}),
      ...(tolerations.length ? { tolerations } : {}),
      ...(opts.serviceAccount ? { serviceAccountName: opts.serviceAccount } : {}),
      ...(opts.automountServiceAccountToken !== undefined ? { automountServiceAccountToken: opts.automountServiceAccountToken } : {}),
      ...(podSecurity ? { securityContext: podSecurity } : {}),
      ...(affinity ? { affinity } : {}),
      ...(opts.schedulerName ? { schedulerName: opts.schedulerName } : {}),
      ...(opts.priorityClassName ? { priorityClassName: opts.priorityClassName } : {}),
      ...(opts.runtimeClassName ? { runtimeClassName: opts.runtimeClassName } : {}),
      ...(pullSecrets.length ? { imagePullSecrets: pullSecrets } : {}),
      ...(hostAliases.length ? { hostAliases } : {}),
      ...(dnsPolicy ? { dnsPolicy } : {}),
      ...(opts.dnsConfig ? { dnsConfig: opts.dnsConfig } : {}),
      ...(initContainers.length ? { initContainers } : {}),
      containers: [build, helper, ...serviceContainers],
      volumes,
    },
  }
  // gitlab-runner patches the spec it generated, last of all, when the flag is on.
  if (advancedPodSpec(job, opts.featureFlags) && opts.podSpecPatches.length) pod.spec = patchPodSpec(pod.spec, opts.podSpecPatches) as typeof pod.spec
  return { pod, projectDir, notes, ...(logsDir ? { logFile: `${logsDir}/output.log` } : {}), containers: { build: 'build', helper: 'helper', services: services.map((s) => ({ container: s.container, image: s.image, aliases: s.aliases })) } }
}
