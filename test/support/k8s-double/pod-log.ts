import type { Call, DoubleContext } from './context.js'
import { badRequest, notFound } from './status.js'

/**
 * The container a pods/log, exec or attach request means: `container=` or the only one; the
 * apiserver's 400s otherwise (pkg/registry/core/pod/strategy.go).
 */
export function containerFor(pod: any, requested: string | null): string {
  const names: string[] = [...(pod.spec.containers ?? []), ...(pod.spec.initContainers ?? []), ...(pod.spec.ephemeralContainers ?? [])].map((c: any) => c.name)
  if (requested) {
    if (!names.includes(requested)) throw badRequest(`container ${requested} is not valid for pod ${pod.metadata.name}`)
    return requested
  }
  if (pod.spec.containers.length === 1) return pod.spec.containers[0].name
  const inits: string[] = (pod.spec.initContainers ?? []).map((c: any) => c.name)
  const tail = inits.length > 0 ? ` or one of the init containers: [${inits.join(' ')}]` : ''
  throw badRequest(`a container name must be specified for pod ${pod.metadata.name}, choose one of: [${pod.spec.containers.map((c: any) => c.name).join(' ')}]${tail}`)
}

/** GET pods/{name}/log: the kubelet's text for the container, `tailLines` and `limitBytes` applied. */
export async function podLog(ctx: DoubleContext, call: Call, namespace: string, name: string): Promise<void> {
  const pod = ctx.store.get('pods', namespace, name)
  if (!pod) throw notFound('pods', name)
  const q = call.url.searchParams
  const container = containerFor(pod, q.get('container'))
  let text: string
  try {
    text = await ctx.kubelet.logs(namespace, name, container)
  } catch (e) {
    throw badRequest((e as Error).message)
  }
  const tail = q.get('tailLines')
  if (tail !== null) {
    const lines = text.split(/(?<=\n)/)
    text = lines.slice(Math.max(0, lines.length - Number(tail))).join('')
  }
  const limit = q.get('limitBytes')
  let body = Buffer.from(text)
  if (limit !== null) body = body.subarray(0, Number(limit))
  call.res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length })
  call.res.end(body)
}
