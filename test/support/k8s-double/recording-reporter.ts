import type { NodeReporter, PodEvent } from './kubelet.js'

/**
 * A NodeReporter for tests of the kubelet alone: keeps every status and event it is given and
 * serves the objects a test puts in, as the API double's store would.
 */
export class RecordingReporter implements NodeReporter {
  readonly statuses = new Map<string, Record<string, any>[]>()
  readonly events: (PodEvent & { pod: string })[] = []
  readonly objects = new Map<string, Record<string, unknown>>()

  setStatus(namespace: string, name: string, status: Record<string, unknown>): void {
    const key = `${namespace}/${name}`
    this.statuses.set(key, [...(this.statuses.get(key) ?? []), structuredClone(status)])
  }

  event(namespace: string, name: string, e: PodEvent): void {
    this.events.push({ pod: `${namespace}/${name}`, ...e })
  }

  read(kind: 'secrets' | 'configmaps' | 'persistentvolumeclaims', namespace: string, name: string): Record<string, unknown> | undefined {
    return this.objects.get(`${kind}/${namespace}/${name}`)
  }

  put(kind: 'secrets' | 'configmaps' | 'persistentvolumeclaims', namespace: string, name: string, obj: Record<string, unknown>): void {
    this.objects.set(`${kind}/${namespace}/${name}`, obj)
  }

  last(namespace: string, name: string): Record<string, any> | undefined {
    return this.statuses.get(`${namespace}/${name}`)?.at(-1)
  }

  /** Events of one pod as `reason: message` lines, in order. */
  eventLines(namespace: string, name: string): string[] {
    return this.events.filter((e) => e.pod === `${namespace}/${name}`).map((e) => `${e.type} ${e.reason}: ${e.message}`)
  }

  /** Resolves with the first status of the pod that satisfies `pred` (polling what was reported). */
  async until(namespace: string, name: string, pred: (s: Record<string, any>) => boolean, timeoutMs = 60_000): Promise<Record<string, any>> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const hit = this.statuses.get(`${namespace}/${name}`)?.find(pred)
      if (hit) return hit
      if (Date.now() > deadline) throw new Error(`no status of ${namespace}/${name} matched within ${timeoutMs} ms; last: ${JSON.stringify(this.last(namespace, name))}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }
}
