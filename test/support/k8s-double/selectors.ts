import { badRequest } from './status.js'

/**
 * Label and field selectors as the apiserver parses them (k8s.io/apimachinery pkg/labels and
 * pkg/fields): `a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x)` joined by commas;
 * field selectors only `=`, `==`, `!=` on the fields a kind supports.
 */
export type Matcher = (obj: any) => boolean

export function labelSelector(text: string | null): Matcher {
  if (!text) return () => true
  const reqs = splitTopLevel(text).map(parseRequirement)
  return (obj) => {
    const labels: Record<string, string> = obj?.metadata?.labels ?? {}
    return reqs.every((r) => r(labels))
  }
}

function parseRequirement(raw: string): (labels: Record<string, string>) => boolean {
  const s = raw.trim()
  let m: RegExpExecArray | null
  if ((m = /^!\s*([A-Za-z0-9._/-]+)$/.exec(s))) { const k = m[1]!; return (l) => !(k in l) }
  if ((m = /^([A-Za-z0-9._/-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(s))) {
    const [, k, op, list] = m as unknown as [string, string, string, string]
    const values = list.split(',').map((v) => v.trim())
    return op === 'in' ? (l) => k in l && values.includes(l[k]!) : (l) => !(k in l) || !values.includes(l[k]!)
  }
  if ((m = /^([A-Za-z0-9._/-]+)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)$/.exec(s))) {
    const [, k, op, v] = m as unknown as [string, string, string, string]
    return op === '!=' ? (l) => l[k] !== v : (l) => l[k] === v
  }
  if ((m = /^([A-Za-z0-9._/-]+)$/.exec(s))) { const k = m[1]!; return (l) => k in l }
  throw badRequest(`unable to parse requirement: ${describeParseError(s)}`)
}

function describeParseError(s: string): string {
  return `found '${s}', expected: identifier`
}

/** Splits on commas that are not inside `( … )`. */
function splitTopLevel(text: string): string[] {
  const out: string[] = []
  let depth = 0
  let cur = ''
  for (const ch of text) {
    if (ch === '(') depth++
    if (ch === ')') depth--
    if (ch === ',' && depth === 0) { out.push(cur); cur = '' } else cur += ch
  }
  out.push(cur)
  return out.filter((p) => p.trim() !== '')
}

/** Field getters per kind: what the apiserver's field label conversion functions accept. */
const FIELDS: Record<string, Record<string, (o: any) => string>> = {
  pods: {
    'metadata.name': (o) => o.metadata?.name ?? '',
    'metadata.namespace': (o) => o.metadata?.namespace ?? '',
    'spec.nodeName': (o) => o.spec?.nodeName ?? '',
    'spec.restartPolicy': (o) => o.spec?.restartPolicy ?? '',
    'spec.schedulerName': (o) => o.spec?.schedulerName ?? '',
    'spec.serviceAccountName': (o) => o.spec?.serviceAccountName ?? '',
    'status.phase': (o) => o.status?.phase ?? '',
    'status.podIP': (o) => o.status?.podIP ?? '',
    'status.nominatedNodeName': (o) => o.status?.nominatedNodeName ?? '',
  },
  events: {
    'metadata.name': (o) => o.metadata?.name ?? '',
    'metadata.namespace': (o) => o.metadata?.namespace ?? '',
    'involvedObject.kind': (o) => o.involvedObject?.kind ?? '',
    'involvedObject.namespace': (o) => o.involvedObject?.namespace ?? '',
    'involvedObject.name': (o) => o.involvedObject?.name ?? '',
    'involvedObject.uid': (o) => o.involvedObject?.uid ?? '',
    'involvedObject.apiVersion': (o) => o.involvedObject?.apiVersion ?? '',
    'involvedObject.resourceVersion': (o) => o.involvedObject?.resourceVersion ?? '',
    'involvedObject.fieldPath': (o) => o.involvedObject?.fieldPath ?? '',
    reason: (o) => o.reason ?? '',
    reportingComponent: (o) => o.reportingComponent ?? '',
    source: (o) => o.source?.component ?? '',
    type: (o) => o.type ?? '',
  },
  secrets: { type: (o) => o.type ?? '' },
  namespaces: { 'status.phase': (o) => o.status?.phase ?? '' },
}

const COMMON: Record<string, (o: any) => string> = {
  'metadata.name': (o) => o.metadata?.name ?? '',
  'metadata.namespace': (o) => o.metadata?.namespace ?? '',
}

export function fieldSelector(kind: string, text: string | null): Matcher {
  if (!text) return () => true
  const getters = { ...COMMON, ...FIELDS[kind] }
  const reqs = splitTopLevel(text).map((raw) => {
    const m = /^\s*([A-Za-z0-9._]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(raw)
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${raw}'`)
    const [, field, op, value] = m as unknown as [string, string, string, string]
    const get = getters[field]
    if (!get) throw badRequest(`field label not supported: ${field}`)
    return op === '!=' ? (o: any) => get(o) !== value : (o: any) => get(o) === value
  })
  return (obj) => reqs.every((r) => r(obj))
}
