/**
 * Kubernetes resource quantities ("500m", "2", "32Mi", "1G", "1e3") as plain numbers: cores for
 * cpu, bytes for memory. The scheduler compares requests with allocatable, the kubelet turns
 * limits into Docker's Memory / NanoCpus.
 */
const SUFFIX: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
}

/** The value of `q`, or undefined when it is not a quantity (the API double validates before this). */
export function parseQuantity(q: string | number | undefined): number | undefined {
  if (q === undefined) return undefined
  if (typeof q === 'number') return q
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/.exec(q.trim())
  if (!m) return undefined
  const base = Number(m[1])
  if (m[2]) return base * 10 ** Number(m[2].slice(1))
  return base * SUFFIX[m[3] ?? '']!
}

export interface Resources {
  cpu: number
  memory: number
}

type ContainerResources = { resources?: { requests?: Record<string, string>; limits?: Record<string, string> } }

/** A container's requests; a limit without a request counts as the request, as the API server defaults it. */
function requestsOf(c: ContainerResources): Resources {
  const r = c.resources ?? {}
  const pick = (k: string): number => parseQuantity(r.requests?.[k] ?? r.limits?.[k]) ?? 0
  return { cpu: pick('cpu'), memory: pick('memory') }
}

/** What the scheduler charges a pod: the sum over containers, or the largest init container if more. */
export function podRequests(spec: { containers?: ContainerResources[]; initContainers?: ContainerResources[] }): Resources {
  const sum = (spec.containers ?? []).map(requestsOf).reduce((a, b) => ({ cpu: a.cpu + b.cpu, memory: a.memory + b.memory }), { cpu: 0, memory: 0 })
  for (const i of (spec.initContainers ?? []).map(requestsOf)) {
    sum.cpu = Math.max(sum.cpu, i.cpu)
    sum.memory = Math.max(sum.memory, i.memory)
  }
  return sum
}
