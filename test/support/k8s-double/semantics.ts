import { isIP } from 'node:net'
import type { KindDef } from './kinds.js'
import type { Cause } from './status.js'

/**
 * The apiserver's semantic validation (pkg/apis/core/validation) for the rules a runner's
 * objects can break and the OpenAPI schemas do not carry. Messages are the apiserver's
 * (k8s.io/apimachinery/pkg/util/validation and validation/field).
 */

const LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const ENV_RE = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/
const CONFIG_KEY_RE = /^[-._a-zA-Z0-9]+$/

export const LABEL_MSG = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
export const SUBDOMAIN_MSG = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
const ENV_MSG = "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')"
const KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"

const inv = (field: string, value: unknown, detail: string): Cause => ({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: ${detail}`, field })
const req = (field: string, detail?: string): Cause => ({ reason: 'FieldValueRequired', message: detail ? `Required value: ${detail}` : 'Required value', field })
const dup = (field: string, value: unknown): Cause => ({ reason: 'FieldValueDuplicate', message: `Duplicate value: ${JSON.stringify(value)}`, field })
const notFound = (field: string, value: unknown): Cause => ({ reason: 'FieldValueNotFound', message: `Not found: ${JSON.stringify(value)}`, field })
const unsupported = (field: string, value: unknown, allowed: string[]): Cause => ({
  reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${allowed.map((a) => `"${a}"`).join(', ')}`, field,
})

export function label(field: string, v: string, out: Cause[]): void {
  if (v.length > 63) out.push(inv(field, v, 'must be no more than 63 characters'))
  if (!LABEL_RE.test(v)) out.push(inv(field, v, LABEL_MSG))
}

function subdomain(field: string, v: string, out: Cause[]): void {
  if (v.length > 253) out.push(inv(field, v, 'must be no more than 253 characters'))
  if (!SUBDOMAIN_RE.test(v)) out.push(inv(field, v, SUBDOMAIN_MSG))
}

const NAME_PART_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/
const LABEL_VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/
const NAME_PART_MSG = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
const LABEL_VALUE_MSG = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

/** A label or annotation key: `[prefix/]name`, prefix a DNS subdomain, name ≤ 63 (IsQualifiedName). */
function qualifiedName(field: string, key: string, out: Cause[]): void {
  const parts = key.split('/')
  const name = parts.at(-1)!
  if (parts.length > 2) {
    out.push(inv(field, key, "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"))
    return
  }
  if (parts.length === 2) {
    const prefix = parts[0]!
    if (prefix.length === 0) out.push(inv(field, key, 'prefix part must be non-empty'))
    else if (prefix.length > 253) out.push(inv(field, key, 'prefix part must be no more than 253 characters'))
    else if (!SUBDOMAIN_RE.test(prefix)) out.push(inv(field, key, `prefix part ${SUBDOMAIN_MSG}`))
  }
  if (name.length === 0) out.push(inv(field, key, 'name part must be non-empty'))
  else if (name.length > 63) out.push(inv(field, key, 'name part must be no more than 63 characters'))
  else if (!NAME_PART_RE.test(name)) out.push(inv(field, key, NAME_PART_MSG))
}

function metadata(md: any, out: Cause[]): void {
  for (const [k, v] of Object.entries(md.labels ?? {})) {
    qualifiedName('metadata.labels', k, out)
    const value = String(v)
    if (value.length > 63) out.push(inv('metadata.labels', value, 'must be no more than 63 characters'))
    if (!LABEL_VALUE_RE.test(value)) out.push(inv('metadata.labels', value, LABEL_VALUE_MSG))
  }
  for (const k of Object.keys(md.annotations ?? {})) qualifiedName('metadata.annotations', k.toLowerCase(), out)
  const size = Object.entries(md.annotations ?? {}).reduce((n, [k, v]) => n + k.length + String(v).length, 0)
  if (size > 256 * 1024) out.push({ reason: 'FieldValueTooLong', message: `Too long: may not be more than 262144 bytes`, field: 'metadata.annotations' })
}

export function semanticErrors(def: KindDef, obj: any): Cause[] {
  const out: Cause[] = []
  const md = obj.metadata ?? {}
  metadata(md, out)
  if (!md.name && !md.generateName) out.push(req('metadata.name', 'name or generateName is required'))
  // generateName is checked with a placeholder suffix, as the apiserver validates the prefix.
  const name: string | undefined = md.name ?? (md.generateName ? `${md.generateName}x` : undefined)
  if (name !== undefined) {
    if (def.resource === 'namespaces' || def.resource === 'services') label('metadata.name', name, out)
    else subdomain('metadata.name', name, out)
  }
  if (def.resource === 'pods') podSpec(obj.spec ?? {}, out)
  if (def.resource === 'secrets' || def.resource === 'configmaps') {
    for (const k of [...Object.keys(obj.data ?? {}), ...Object.keys(obj.stringData ?? {}), ...Object.keys(obj.binaryData ?? {})]) {
      if (!CONFIG_KEY_RE.test(k)) out.push(inv(`data[${k}]`, k, KEY_MSG))
    }
  }
  if (def.resource === 'secrets') secret(obj, out)
  return out
}

function secret(obj: any, out: Cause[]): void {
  for (const [k, v] of Object.entries(obj.data ?? {})) {
    if (typeof v === 'string' && !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) out.push(inv(`data[${k}]`, '<secret contents redacted>', 'must be base64'))
  }
  const keys = new Set([...Object.keys(obj.data ?? {}), ...Object.keys(obj.stringData ?? {})])
  if (obj.type === 'kubernetes.io/dockerconfigjson' && !keys.has('.dockerconfigjson')) out.push(req('data[.dockerconfigjson]'))
  if (obj.type === 'kubernetes.io/dockercfg' && !keys.has('.dockercfg')) out.push(req('data[.dockercfg]'))
}

function podSpec(spec: any, out: Cause[]): void {
  const volumes: any[] = spec.volumes ?? []
  const volumeNames = new Set<string>()
  volumes.forEach((v, i) => {
    const f = `spec.volumes[${i}].name`
    if (!v.name) out.push(req(f))
    else {
      label(f, v.name, out)
      if (volumeNames.has(v.name)) out.push(dup(f, v.name))
      volumeNames.add(v.name)
    }
  })
  const seen = new Set<string>()
  const groups: [string, any[]][] = [['initContainers', spec.initContainers ?? []], ['containers', spec.containers ?? []]]
  if ((spec.containers ?? []).length === 0) out.push(req('spec.containers'))
  for (const [key, list] of groups) {
    list.forEach((c, i) => container(`spec.${key}[${i}]`, c, seen, volumeNames, out))
  }
  const rp = spec.restartPolicy
  if (rp !== undefined && !['Always', 'OnFailure', 'Never'].includes(rp)) out.push(unsupported('spec.restartPolicy', rp, ['Always', 'Never', 'OnFailure']))
  const dp = spec.dnsPolicy
  if (dp !== undefined && !['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'].includes(dp)) {
    out.push(unsupported('spec.dnsPolicy', dp, ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None']))
  }
  if (dp === 'None' && !spec.dnsConfig) out.push(req('spec.dnsConfig', 'must provide `dnsConfig` when `dnsPolicy` is None'))
  ;(spec.hostAliases ?? []).forEach((h: any, i: number) => {
    if (!isIP(h.ip ?? '')) out.push(inv(`spec.hostAliases[${i}].ip`, h.ip ?? '', 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'))
    ;(h.hostnames ?? []).forEach((n: string, j: number) => subdomain(`spec.hostAliases[${i}].hostnames[${j}]`, n, out))
  })
  ;(spec.tolerations ?? []).forEach((t: any, i: number) => {
    const f = `spec.tolerations[${i}]`
    if (t.operator === 'Exists' && t.value) out.push(inv(`${f}.operator`, t.value, 'value must be empty when `operator` is \'Exists\''))
    if (t.operator !== undefined && !['Exists', 'Equal'].includes(t.operator)) out.push(unsupported(`${f}.operator`, t.operator, ['Equal', 'Exists']))
    if (t.effect && !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(t.effect)) out.push(unsupported(`${f}.effect`, t.effect, ['NoSchedule', 'PreferNoSchedule', 'NoExecute']))
    if (!t.key && t.operator !== 'Exists') out.push(inv(`${f}.operator`, t.operator ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'))
  })
  for (const [i, s] of (spec.imagePullSecrets ?? []).entries()) if (!s.name) out.push(req(`spec.imagePullSecrets[${i}].name`))
  if (spec.activeDeadlineSeconds !== undefined && !(spec.activeDeadlineSeconds > 0)) {
    out.push(inv('spec.activeDeadlineSeconds', spec.activeDeadlineSeconds, 'must be between 1 and 2147483647, inclusive'))
  }
}

function container(f: string, c: any, seen: Set<string>, volumes: Set<string>, out: Cause[]): void {
  if (!c.name) out.push(req(`${f}.name`))
  else {
    label(`${f}.name`, c.name, out)
    if (seen.has(c.name)) out.push(dup(`${f}.name`, c.name))
    seen.add(c.name)
  }
  if (!c.image || String(c.image).trim() === '') out.push(req(`${f}.image`))
  if (c.imagePullPolicy !== undefined && !['Always', 'IfNotPresent', 'Never'].includes(c.imagePullPolicy)) {
    out.push(unsupported(`${f}.imagePullPolicy`, c.imagePullPolicy, ['Always', 'IfNotPresent', 'Never']))
  }
  ;(c.env ?? []).forEach((e: any, i: number) => {
    if (!e.name) out.push(req(`${f}.env[${i}].name`))
    else if (!ENV_RE.test(e.name)) out.push(inv(`${f}.env[${i}].name`, e.name, ENV_MSG))
  })
  const mountPaths = new Set<string>()
  ;(c.volumeMounts ?? []).forEach((m: any, i: number) => {
    if (!m.name) out.push(req(`${f}.volumeMounts[${i}].name`))
    else if (!volumes.has(m.name)) out.push(notFound(`${f}.volumeMounts[${i}].name`, m.name))
    if (!m.mountPath) out.push(req(`${f}.volumeMounts[${i}].mountPath`))
    else if (mountPaths.has(m.mountPath)) out.push(inv(`${f}.volumeMounts[${i}].mountPath`, m.mountPath, 'must be unique'))
    mountPaths.add(m.mountPath)
  })
  const limits = c.resources?.limits ?? {}
  const requests = c.resources?.requests ?? {}
  for (const [res, q] of Object.entries(requests)) {
    const l = limits[res]
    if (l === undefined) continue
    const rv = quantityValue(q as string | number)
    const lv = quantityValue(l as string | number)
    if (rv !== undefined && lv !== undefined && rv > lv) {
      out.push(inv(`${f}.resources.requests[${res}]`, String(q), `must be less than or equal to ${res} limit of ${String(l)}`))
    }
  }
  ;(c.ports ?? []).forEach((p: any, i: number) => {
    if (!(p.containerPort >= 1 && p.containerPort <= 65535)) out.push(inv(`${f}.ports[${i}].containerPort`, p.containerPort, 'must be between 1 and 65535, inclusive'))
  })
}

const SUFFIX: Record<string, number> = {
  '': 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
}

/** A resource.Quantity's value, or undefined when it does not parse (the decoder rejects those first). */
export function quantityValue(q: string | number): number | undefined {
  if (typeof q === 'number') return q
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)$/.exec(q)
  if (!m) return undefined
  const base = Number(m[1])
  if (m[2]) return base * 10 ** Number(m[2].slice(1))
  return base * SUFFIX[m[3] ?? '']!
}
