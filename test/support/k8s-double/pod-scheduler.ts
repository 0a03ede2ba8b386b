import { type Resources, podRequests } from './quantity.js'

/**
 * The default scheduler's verdict for one pod on the double's single node, with its message
 * form: filters run in the scheduler's order (TaintToleration, NodeAffinity, NodeResourcesFit)
 * and a node stops at its first failing filter, so one node gives one reason (Insufficient
 * resources are listed together). Volume binding (a claim that does not exist) fails first.
 */
export interface NodeSpec {
  name: string
  labels: Record<string, string>
  allocatable: Resources
  taints: { key: string; value?: string; effect: string }[]
}

interface Toleration { key?: string; operator?: string; value?: string; effect?: string }
interface Requirement { key: string; operator: string; values?: string[] }

export interface PodSchedulingSpec {
  nodeSelector?: Record<string, string>
  tolerations?: Toleration[]
  affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: { matchExpressions?: Requirement[] }[] } } }
  containers?: { resources?: { requests?: Record<string, string>; limits?: Record<string, string> } }[]
  initContainers?: { resources?: { requests?: Record<string, string>; limits?: Record<string, string> } }[]
  volumes?: { persistentVolumeClaim?: { claimName: string } }[]
}

const NOT_HELPFUL = 'preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.'
const NO_VICTIMS = 'preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.'

/**
 * Why the pod cannot go on `node` (the FailedScheduling message), or undefined when it fits.
 * `used` is what the pods already on the node request; `claimExists` answers for PVCs.
 */
export function unschedulable(spec: PodSchedulingSpec, node: NodeSpec, used: Resources, claimExists: (claim: string) => boolean): string | undefined {
  for (const v of spec.volumes ?? []) {
    const claim = v.persistentVolumeClaim?.claimName
    if (claim !== undefined && !claimExists(claim)) return `0/1 nodes are available: persistentvolumeclaim "${claim}" not found. ${NOT_HELPFUL}`
  }
  const taint = node.taints.find((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !(spec.tolerations ?? []).some((tol) => tolerates(tol, t)))
  if (taint) return `0/1 nodes are available: 1 node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}. ${NOT_HELPFUL}`
  if (!matchesNode(spec, node.labels)) return `0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. ${NOT_HELPFUL}`
  const want = podRequests(spec)
  const short = (['cpu', 'memory'] as const).filter((r) => want[r] > 0 && used[r] + want[r] > node.allocatable[r])
  // A request larger than the whole node cannot be helped by evicting anyone.
  if (short.length > 0) {
    const tail = short.some((r) => want[r] > node.allocatable[r]) ? NOT_HELPFUL : NO_VICTIMS
    return `0/1 nodes are available: ${short.map((r) => `1 Insufficient ${r}`).join(', ')}. ${tail}`
  }
  return undefined
}

function tolerates(tol: Toleration, t: NodeSpec['taints'][number]): boolean {
  if (tol.effect && tol.effect !== t.effect) return false
  if (tol.operator === 'Exists') return tol.key === undefined || tol.key === '' || tol.key === t.key
  return tol.key === t.key && (tol.value ?? '') === (t.value ?? '')
}

function matchesNode(spec: PodSchedulingSpec, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) if (labels[k] !== v) return false
  const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms
  // Terms are ORed, the expressions of one term ANDed.
  if (terms && terms.length > 0 && !terms.some((term) => (term.matchExpressions ?? []).every((r) => requirementHolds(r, labels)))) return false
  return true
}

function requirementHolds(r: Requirement, labels: Record<string, string>): boolean {
  const v = labels[r.key]
  switch (r.operator) {
    case 'In': return v !== undefined && (r.values ?? []).includes(v)
    case 'NotIn': return v === undefined || !(r.values ?? []).includes(v)
    case 'Exists': return v !== undefined
    case 'DoesNotExist': return v === undefined
    case 'Gt': return v !== undefined && Number(v) > Number(r.values?.[0])
    case 'Lt': return v !== undefined && Number(v) < Number(r.values?.[0])
    default: return false
  }
}
