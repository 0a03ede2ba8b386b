import type { KubernetesOptions } from './options.js'

/**
 * The pod's and each container's securityContext as gitlab-runner builds them
 * (common/config.go GetPodSecurityContext / GetContainerSecurityContext) from
 * `[runners.kubernetes.pod_security_context]` and `[runners.kubernetes.<kind>_container_security_context]`
 * (`build`, `helper`, `service`, `init_permissions`). A container's own `privileged` and
 * `allow_privilege_escalation` win over the runner-wide keys; its `capabilities.add` / `.drop`,
 * when given, replace the runner-wide lists, which come from `cap_add` / `cap_drop` over a
 * default drop of NET_RAW.
 */

export type ContainerKind = 'build' | 'helper' | 'service' | 'init_permissions'
type Table = Record<string, unknown>

const table = (v: unknown): Table | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Table) : undefined)
const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) ? v : undefined)
const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined)
const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined)
const strs = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined)
const defined = (o: Table): Table => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))

/** seccomp_profile / app_armor_profile: a known type, and Localhost only with its profile (else left out, as gitlab-runner logs and drops it). */
function profile(v: unknown): Table | undefined {
  const t = table(v)
  const type = text(t?.['type'])
  if (!t || !type || !['RuntimeDefault', 'Unconfined', 'Localhost'].includes(type)) return undefined
  if (type !== 'Localhost') return { type }
  const local = text(t['localhost_profile'])
  return local ? { type, localhostProfile: local } : undefined
}

const seLinux = (v: unknown): Table | undefined => (text(v) ? { type: text(v) } : undefined)

/** The pod's securityContext, or undefined when pod_security_context sets nothing. */
export function podSecurityContext(raw: unknown): Table | undefined {
  const t = table(raw)
  if (!t) return undefined
  const groups = Array.isArray(t['supplemental_groups']) ? t['supplemental_groups'].filter((g): g is number => Number.isInteger(g)) : []
  const out = defined({
    fsGroup: int(t['fs_group']), runAsGroup: int(t['run_as_group']), runAsNonRoot: bool(t['run_as_non_root']), runAsUser: int(t['run_as_user']),
    supplementalGroups: groups.length ? groups : undefined,
    seLinuxOptions: seLinux(t['selinux_type']), seccompProfile: profile(t['seccomp_profile']), appArmorProfile: profile(t['app_armor_profile']),
  })
  return Object.keys(out).length ? out : undefined
}

/** One container's securityContext: the runner-wide keys, then that kind's own table over them. */
type ContextOptions = Pick<KubernetesOptions, 'privileged' | 'allowPrivilegeEscalation' | 'capAdd' | 'capDrop' | 'securityContexts' | 'podSecurityContext' | 'allowedUsers' | 'allowedGroups'>

export function containerSecurityContext(opts: Pick<KubernetesOptions, 'privileged' | 'allowPrivilegeEscalation' | 'capAdd' | 'capDrop' | 'securityContexts'>, kind: ContainerKind): Table | undefined {
  const own = table(opts.securityContexts[kind]) ?? {}
  const caps = table(own['capabilities'])
  // gitlab-runner's getCapabilities: NET_RAW dropped by default, cap_add takes a capability out
  // of the drop list, cap_drop puts one in (last word wins), each capability once.
  const enabled = new Map<string, boolean>([['NET_RAW', false]])
  for (const c of opts.capAdd) enabled.set(c, true)
  for (const c of opts.capDrop) enabled.set(c, false)
  const runnerAdd = [...enabled].filter(([, on]) => on).map(([c]) => c)
  const runnerDrop = [...enabled].filter(([, on]) => !on).map(([c]) => c)
  // A kind's own capabilities.add / .drop, when given, replace the runner-wide list (mergeCapabilitiesAddDrop).
  const add = strs(caps?.['add']) ?? (runnerAdd.length ? runnerAdd : undefined)
  const drop = strs(caps?.['drop']) ?? (runnerDrop.length ? runnerDrop : undefined)
  const procMount = text(own['proc_mount'])
  const pm = procMount ? procMount[0]!.toUpperCase() + procMount.slice(1).toLowerCase() : undefined
  const out = defined({
    privileged: bool(own['privileged']) ?? opts.privileged,
    allowPrivilegeEscalation: bool(own['allow_privilege_escalation']) ?? opts.allowPrivilegeEscalation,
    capabilities: add || drop ? defined({ add, drop }) : undefined,
    runAsUser: int(own['run_as_user']), runAsGroup: int(own['run_as_group']), runAsNonRoot: bool(own['run_as_non_root']),
    readOnlyRootFilesystem: bool(own['read_only_root_filesystem']),
    procMount: pm === 'Default' || pm === 'Unmasked' ? pm : undefined,
    seLinuxOptions: seLinux(own['selinux_type']), seccompProfile: profile(own['seccomp_profile']), appArmorProfile: profile(own['app_armor_profile']),
  })
  return Object.keys(out).length ? out : undefined
}

/**
 * gitlab-runner's getSecurityContextWithUIDGID for build, helper and service containers: the
 * user and group come from the container's own security context, else the pod's, else the job's
 * `image: kubernetes: user: "uid[:gid]"` — numeric, not negative, and in allowed_users /
 * allowed_groups when those are set (root only when listed). What the job asked for and did not
 * get is said in the job log with gitlab-runner's words (`lines`).
 */
export function containerContextWithIds(opts: ContextOptions, kind: ContainerKind, container: string, jobUser: string): { context: Table | undefined; lines: string[] } {
  const base: Table = { ...(containerSecurityContext(opts, kind) ?? {}) }
  const own = table(opts.securityContexts[kind]) ?? {}
  const pod = table(opts.podSecurityContext) ?? {}
  const colon = jobUser.indexOf(':')
  const [uidStr, gidStr] = colon < 0 ? [jobUser, ''] : [jobUser.slice(0, colon), jobUser.slice(colon + 1)]
  const lines: string[] = []
  const pick = (field: 'runAsUser' | 'runAsGroup', key: string, idStr: string, what: 'uid' | 'gid', allowed: string[]): void => {
    const fromContainer = int(own[key])
    const fromPod = int(pod[key])
    let id = -1
    let source = 'job configuration'
    if (fromContainer !== undefined) [id, source] = [fromContainer, 'container security context']
    else if (fromPod !== undefined) [id, source] = [fromPod, 'pod security context']
    else {
      const parsed = parseId(what === 'uid' ? 'UID' : 'GID', idStr, what === 'uid' ? 'user' : 'group', allowed)
      if ('error' in parsed) lines.push(`\x1b[0;33mWARNING: Error parsing '${what}' from image options for container "${container}", using the configured security context: ${parsed.error}\x1b[0;m`)
      else id = parsed.id
    }
    if (source !== 'job configuration' && idStr !== '') lines.push(`Overriding ${what === 'uid' ? 'user' : 'group'} for container "${container}" to "${idStr}" is not allowed: ${what === 'uid' ? 'user' : 'group'} is set to ${id} in ${source}`)
    if (id > -1) base[field] = id
  }
  pick('runAsUser', 'run_as_user', uidStr, 'uid', opts.allowedUsers)
  pick('runAsGroup', 'run_as_group', gidStr, 'gid', opts.allowedGroups)
  return { context: Object.keys(base).length ? base : undefined, lines }
}

/** parseAndValidateID: "" is none; a base-10 integer, not negative, allowed (root only when listed). */
function parseId(kind: 'UID' | 'GID', idStr: string, listKind: 'user' | 'group', allowed: string[]): { id: number } | { error: string } {
  if (idStr === '') return { id: -1 }
  if (!/^[+-]?\d+$/.test(idStr)) return { error: `failed to parse ${kind}: strconv.ParseInt: parsing ${JSON.stringify(idStr)}: invalid syntax` }
  const big = BigInt(idStr)
  if (big > 9223372036854775807n || big < -9223372036854775808n) return { error: `failed to parse ${kind}: strconv.ParseInt: parsing ${JSON.stringify(idStr)}: value out of range` }
  // Kubernetes takes a uid/gid up to 2^31-1 in practice; beyond 2^53 a JavaScript number would lose digits.
  if (big > 2147483647n) return { error: `validating ${kind}: ${listKind} ${JSON.stringify(idStr)} is out of the range a container user can have` }
  const id = Number(big)
  if (id < 0) return { error: `failed to parse ${kind}: negative values not allowed` }
  const listed = allowed.some((a) => /^[+-]?\d+$/.test(a) && Number(a) === id)
  if ((id === 0 || allowed.length > 0) && !listed) return { error: `validating ${kind}: ${listKind} ${JSON.stringify(idStr)} is not in the allowed list: [${allowed.join(' ')}]` }
  return { id }
}
