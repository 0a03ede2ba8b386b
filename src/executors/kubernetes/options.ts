import type { PullPolicy } from '../../payload/types.js'
import type { KubernetesSettings } from '../../runner-config/types.js'
import type { OverwriteLimits } from './overwrites.js'
import type { ContainerKind } from './security-context.js'
import type { PodSpecPatch } from './pod-spec-patch.js'

type Table = Record<string, unknown>

/** One `[[runners.kubernetes.volumes.<kind>]]` entry, as gitlab-runner names the keys. */
export interface VolumeOption {
  kind: 'empty_dir' | 'config_map' | 'secret' | 'pvc' | 'host_path'
  name: string
  mountPath: string
  subPath?: string
  readOnly?: boolean
  /** host_path: the path on the node (defaults to mount_path, as gitlab-runner does). */
  hostPath?: string
  /** empty_dir */
  medium?: string
  sizeLimit?: string
  /** config_map / secret: key → path */
  items?: Record<string, string>
}

export interface ServiceOption {
  name: string
  alias?: string
  command?: string[]
  entrypoint?: string[]
}

/** Requests and limits of one kind of container (build, helper, service). */
export interface Resources { cpuLimit?: string; cpuRequest?: string; memoryLimit?: string; memoryRequest?: string; ephemeralStorageLimit?: string; ephemeralStorageRequest?: string }

/**
 * [runners.kubernetes] with the keys glrun's kubernetes executor uses, typed. Keys it does not
 * use stay in `raw` (gitlab-runner ignores unknown keys; the config loader already warned).
 */
export interface KubernetesOptions {
  host?: string
  context?: string
  caFile?: string
  certFile?: string
  keyFile?: string
  bearerToken?: string
  namespace: string
  /** namespace_per_job: each job in its own namespace ci-job-<job id>, made before the pod and deleted after. */
  namespacePerJob?: boolean
  image?: string
  helperImage?: string
  privileged?: boolean
  allowPrivilegeEscalation?: boolean
  serviceAccount?: string
  automountServiceAccountToken?: boolean
  imagePullSecrets: string[]
  pullPolicy: PullPolicy[]
  allowedPullPolicies: PullPolicy[]
  allowedImages: string[]
  allowedServices: string[]
  nodeSelector: Record<string, string>
  nodeTolerations: Record<string, string>
  hostAliases: { ip: string; hostnames: string[] }[]
  dnsPolicy?: string
  dnsConfig?: { nameservers?: string[]; searches?: string[]; options?: { name: string; value?: string }[] }
  build: Resources
  helper: Resources
  service: Resources
  pollIntervalS: number
  pollTimeoutS: number
  podLabels: Record<string, string>
  podAnnotations: Record<string, string>
  volumes: VolumeOption[]
  services: ServiceOption[]
  podTerminationGracePeriodSeconds?: number
  cleanupGracePeriodSeconds?: number
  capAdd: string[]
  capDrop: string[]
  /** [runners.kubernetes.affinity] and [runners.kubernetes.container_lifecycle], as written (pod-placement.ts reads them). */
  affinity?: unknown
  containerLifecycle?: unknown
  priorityClassName?: string
  schedulerName?: string
  runtimeClassName?: string
  /** [[runners.kubernetes.pod_spec]]: patches of the pod spec, applied with FF_USE_ADVANCED_POD_SPEC_CONFIGURATION. */
  podSpecPatches: PodSpecPatch[]
  /** allowed_users / allowed_groups: the ids a job's `image: kubernetes: user` may ask for. */
  allowedUsers: string[]
  allowedGroups: string[]
  /** [runners.kubernetes.pod_security_context], as written (security-context.ts reads it). */
  podSecurityContext?: unknown
  /** [runners.kubernetes.<kind>_container_security_context] tables, as written. */
  securityContexts: Partial<Record<ContainerKind, unknown>>
  /** [runners.feature_flags] (FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY chooses exec over attach). */
  featureFlags: Record<string, boolean>
  /** Resources of the job's services (by index in the job's services) that their own KUBERNETES_SERVICE_* variables set (overwrites.ts). */
  jobServiceResources?: Record<number, Resources>
  /** What jobs may change with KUBERNETES_* variables (overwrites.ts). */
  overwrite: OverwriteLimits
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined)
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [])
const table = (v: unknown): Table => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Table) : {})
const tables = (v: unknown): Table[] => (Array.isArray(v) ? v.filter((x): x is Table => !!x && typeof x === 'object' && !Array.isArray(x)) : [])
const stringMap = (v: unknown): Record<string, string> => Object.fromEntries(Object.entries(table(v)).filter(([, x]) => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean').map(([k, x]) => [k, String(x)]))
const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T

function resources(k: Table, prefix: string): Resources {
  return defined({
    cpuLimit: str(k[`${prefix}cpu_limit`]), cpuRequest: str(k[`${prefix}cpu_request`]),
    memoryLimit: str(k[`${prefix}memory_limit`]), memoryRequest: str(k[`${prefix}memory_request`]),
    ephemeralStorageLimit: str(k[`${prefix}ephemeral_storage_limit`]), ephemeralStorageRequest: str(k[`${prefix}ephemeral_storage_request`]),
  })
}

function resourceMaxima(k: Table, prefix: string): Resources {
  const max = (what: string): string | undefined => str(k[`${prefix}${what}_overwrite_max_allowed`])
  return defined({
    cpuLimit: max('cpu_limit'), cpuRequest: max('cpu_request'), memoryLimit: max('memory_limit'), memoryRequest: max('memory_request'),
    ephemeralStorageLimit: max('ephemeral_storage_limit'), ephemeralStorageRequest: max('ephemeral_storage_request'),
  })
}

function volumes(v: unknown): VolumeOption[] {
  const all = table(v)
  const out: VolumeOption[] = []
  for (const kind of ['empty_dir', 'config_map', 'secret', 'pvc', 'host_path'] as const) {
    for (const t of tables(all[kind])) {
      out.push(defined({
        kind, name: str(t['name']) ?? '', mountPath: str(t['mount_path']) ?? '', subPath: str(t['sub_path']),
        readOnly: typeof t['read_only'] === 'boolean' ? t['read_only'] : undefined,
        hostPath: kind === 'host_path' ? str(t['host_path']) ?? str(t['mount_path']) : undefined,
        medium: str(t['medium']), sizeLimit: str(t['size_limit']),
        items: t['items'] !== undefined ? stringMap(t['items']) : undefined,
      }))
    }
  }
  return out
}

/** The typed view of [runners.kubernetes] (none given: everything at gitlab-runner's defaults). */
export function kubernetesOptions(settings: KubernetesSettings | undefined, featureFlags: Record<string, boolean> = {}): KubernetesOptions {
  const k: Table = settings?.raw ?? {}
  const dns = table(k['dns_config'])
  return defined({
    host: str(k['host']), context: str(k['context']), caFile: str(k['ca_file']), certFile: str(k['cert_file']), keyFile: str(k['key_file']),
    bearerToken: str(k['bearer_token']),
    // gitlab-runner: an empty namespace is "default" (the Helm chart sets KUBERNETES_NAMESPACE).
    namespace: str(k['namespace']) ?? process.env['KUBERNETES_NAMESPACE'] ?? 'default',
    namespacePerJob: k['namespace_per_job'] === true ? true : undefined,
    image: str(k['image']), helperImage: str(k['helper_image']),
    privileged: typeof k['privileged'] === 'boolean' ? k['privileged'] : undefined,
    allowPrivilegeEscalation: typeof k['allow_privilege_escalation'] === 'boolean' ? k['allow_privilege_escalation'] : undefined,
    serviceAccount: str(k['service_account']),
    automountServiceAccountToken: typeof k['automount_service_account_token'] === 'boolean' ? k['automount_service_account_token'] : undefined,
    imagePullSecrets: strs(k['image_pull_secrets']),
    pullPolicy: settings?.pullPolicy ?? [],
    allowedPullPolicies: strs(k['allowed_pull_policies']) as PullPolicy[],
    allowedImages: strs(k['allowed_images']), allowedServices: strs(k['allowed_services']),
    nodeSelector: stringMap(k['node_selector']), nodeTolerations: stringMap(k['node_tolerations']),
    hostAliases: settings?.hostAliases ?? [],
    dnsPolicy: str(k['dns_policy']),
    dnsConfig: Object.keys(dns).length === 0 ? undefined : defined({
      nameservers: dns['nameservers'] !== undefined ? strs(dns['nameservers']) : undefined,
      searches: dns['searches'] !== undefined ? strs(dns['searches']) : undefined,
      options: dns['options'] !== undefined ? tables(dns['options']).map((o) => defined({ name: str(o['name']) ?? '', value: str(o['value']) })) : undefined,
    }),
    build: resources(k, ''), helper: resources(k, 'helper_'), service: resources(k, 'service_'),
    pollIntervalS: num(k['poll_interval']) ?? 3,
    pollTimeoutS: num(k['poll_timeout']) ?? 180,
    podLabels: stringMap(k['pod_labels']), podAnnotations: stringMap(k['pod_annotations']),
    volumes: volumes(k['volumes']),
    services: tables(k['services']).map((s) => defined({
      name: str(s['name']) ?? '', alias: str(s['alias']),
      command: s['command'] !== undefined ? strs(s['command']) : undefined,
      entrypoint: s['entrypoint'] !== undefined ? strs(s['entrypoint']) : undefined,
    })),
    podTerminationGracePeriodSeconds: num(k['pod_termination_grace_period_seconds']),
    cleanupGracePeriodSeconds: num(k['cleanup_grace_period_seconds']),
    capAdd: strs(k['cap_add']), capDrop: strs(k['cap_drop']),
    podSecurityContext: k['pod_security_context'],
    allowedUsers: typeof k['allowed_users'] === 'string' ? [k['allowed_users']] : strs(k['allowed_users']),
    allowedGroups: typeof k['allowed_groups'] === 'string' ? [k['allowed_groups']] : strs(k['allowed_groups']),
    podSpecPatches: tables(k['pod_spec']).map((t) => defined({ name: str(t['name']) ?? '', patch: str(t['patch']), patchPath: str(t['patch_path']), patchType: str(t['patch_type']) })),
    affinity: k['affinity'], containerLifecycle: k['container_lifecycle'],
    priorityClassName: str(k['priority_class_name']), schedulerName: str(k['scheduler_name']), runtimeClassName: str(k['runtime_class_name']),
    securityContexts: defined({
      build: k['build_container_security_context'], helper: k['helper_container_security_context'],
      service: k['service_container_security_context'], init_permissions: k['init_permissions_container_security_context'],
    }),
    featureFlags,
    overwrite: defined({
      namespace: str(k['namespace_overwrite_allowed']), serviceAccount: str(k['service_account_overwrite_allowed']),
      bearerToken: k['bearer_token_overwrite_allowed'] === true ? true : undefined,
      podLabels: str(k['pod_labels_overwrite_allowed']), podAnnotations: str(k['pod_annotations_overwrite_allowed']),
      nodeSelector: str(k['node_selector_overwrite_allowed']), nodeTolerations: str(k['node_tolerations_overwrite_allowed']),
      build: resourceMaxima(k, ''), helper: resourceMaxima(k, 'helper_'), service: resourceMaxima(k, 'service_'),
    }),
  })
}
