import type { Json } from './pod-spec-patch.js'

/**
 * The parts of gitlab-runner's pod that config.toml spells as the Kubernetes API does, only in
 * snake_case: `[runners.kubernetes.affinity]` (node_affinity, pod_affinity, pod_anti_affinity,
 * as common/config.go's KubernetesAffinity mirrors the API's Affinity) and
 * `[runners.kubernetes.container_lifecycle]` (post_start / pre_stop with exec, http_get or
 * tcp_socket, set on every container as buildContainer does). The keys are turned into the API's
 * camelCase; the API (and glrun's schema-checked tests) judge the values.
 */


const camel = (k: string): string => k.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase())

// Tables whose keys are the user's data (label keys), never field names.
const DATA_MAPS = new Set(['match_labels'])

/** snake_case keys to camelCase, all the way down (not inside label maps); empty tables and lists dropped (Go's omitempty). */
export function apiKeys(v: unknown, data = false): Json | undefined {
  if (Array.isArray(v)) {
    const items = v.map((x) => apiKeys(x)).filter((x): x is Json => x !== undefined)
    return items.length ? items : undefined
  }
  if (v && typeof v === 'object') {
    const out: Record<string, Json> = {}
    for (const [k, x] of Object.entries(v)) {
      const c = data ? (typeof x === 'string' ? x : undefined) : apiKeys(x, DATA_MAPS.has(k))
      if (c !== undefined) out[data ? k : camel(k)] = c
    }
    return Object.keys(out).length ? out : undefined
  }
  if (typeof v === 'string') return v === '' ? undefined : v
  if (typeof v === 'number' || typeof v === 'boolean') return v
  return undefined
}

const AFFINITY_KINDS = ['node_affinity', 'pod_affinity', 'pod_anti_affinity']

/** spec.affinity, or undefined when [runners.kubernetes.affinity] sets nothing. */
export function podAffinity(raw: unknown): Json | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined
  const known = Object.fromEntries(Object.entries(raw).filter(([k]) => AFFINITY_KINDS.includes(k)))
  return apiKeys(known)
}

/** A container's lifecycle (postStart / preStop), or undefined when container_lifecycle sets nothing. */
export function containerLifecycle(raw: unknown): Json | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined
  const known = Object.fromEntries(Object.entries(raw).filter(([k]) => k === 'post_start' || k === 'pre_stop'))
  return apiKeys(known)
}
