/**
 * A container's environment as the kubelet makes it: envFrom first, then env in order, each
 * value with `$(VAR)` references to variables defined before it expanded (`$$` is a literal
 * `$`); command and args expanded with the whole environment. A secret or config map that is
 * missing (and not optional) is a CreateContainerConfigError with the kubelet's message.
 */

type KeyRef = { name: string; key: string; optional?: boolean }
export interface EnvVar {
  name: string
  value?: string
  valueFrom?: { secretKeyRef?: KeyRef; configMapKeyRef?: KeyRef; fieldRef?: { fieldPath: string }; resourceFieldRef?: { resource: string } }
}
export interface EnvFrom { prefix?: string; secretRef?: { name: string; optional?: boolean }; configMapRef?: { name: string; optional?: boolean } }

export interface EnvContext {
  namespace: string
  read(kind: 'secrets' | 'configmaps', name: string): Record<string, unknown> | undefined
  /** The pod's own fields for fieldRef: metadata.name, metadata.labels['k'], status.podIP, spec.nodeName, … */
  field(path: string): string | undefined
}

export type ResolvedEnv = { env: [string, string][]; command?: string[]; args?: string[] } | { error: string }

export function resolveEnv(c: { env?: EnvVar[]; envFrom?: EnvFrom[]; command?: string[]; args?: string[] }, ctx: EnvContext): ResolvedEnv {
  const vars = new Map<string, string>()
  for (const from of c.envFrom ?? []) {
    const ref = from.secretRef ?? from.configMapRef
    if (!ref) continue
    const data = objectData(ctx, from.secretRef ? 'secrets' : 'configmaps', ref.name)
    if (!data) {
      if (ref.optional) continue
      return { error: `${from.secretRef ? 'secret' : 'configmap'} "${ref.name}" not found` }
    }
    for (const [k, v] of data) vars.set(`${from.prefix ?? ''}${k}`, v)
  }
  for (const e of c.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef
    if (ref) {
      const secret = e.valueFrom?.secretKeyRef !== undefined
      const data = objectData(ctx, secret ? 'secrets' : 'configmaps', ref.name)
      const value = data?.get(ref.key)
      if (value === undefined) {
        if (ref.optional) continue
        if (!data) return { error: `${secret ? 'secret' : 'configmap'} "${ref.name}" not found` }
        return { error: `couldn't find key ${ref.key} in ${secret ? 'Secret' : 'ConfigMap'} ${ctx.namespace}/${ref.name}` }
      }
      vars.set(e.name, value)
    } else if (e.valueFrom?.fieldRef) {
      const value = ctx.field(e.valueFrom.fieldRef.fieldPath)
      if (value === undefined) return { error: `unsupported fieldPath: ${e.valueFrom.fieldRef.fieldPath}` }
      vars.set(e.name, value)
    } else if (e.valueFrom?.resourceFieldRef) {
      return { error: `resourceFieldRef ${e.valueFrom.resourceFieldRef.resource} is not supported by the API double's node` }
    } else {
      vars.set(e.name, expand(e.value ?? '', vars))
    }
  }
  const out: ResolvedEnv = { env: [...vars] }
  if (c.command) out.command = c.command.map((a) => expand(a, vars))
  if (c.args) out.args = c.args.map((a) => expand(a, vars))
  return out
}

function objectData(ctx: EnvContext, kind: 'secrets' | 'configmaps', name: string): Map<string, string> | undefined {
  const obj = ctx.read(kind, name) as { data?: Record<string, string>; stringData?: Record<string, string> } | undefined
  if (!obj) return undefined
  const decode = (v: string): string => (kind === 'secrets' ? Buffer.from(v, 'base64').toString('utf8') : v)
  return new Map([...Object.entries(obj.data ?? {}).map(([k, v]): [string, string] => [k, decode(v)]), ...Object.entries(obj.stringData ?? {})])
}

/** Kubernetes' `$(VAR)` expansion: defined names are replaced, others kept as written; `$$` is `$`. */
export function expand(input: string, vars: ReadonlyMap<string, string>): string {
  let out = ''
  for (let i = 0; i < input.length; i++) {
    if (input[i] !== '$' || i + 1 >= input.length) {
      out += input[i]
      continue
    }
    const next = input[i + 1]
    if (next === '$') {
      out += '$'
      i++
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2)
      if (close < 0) {
        out += input.slice(i)
        break
      }
      const name = input.slice(i + 2, close)
      out += vars.get(name) ?? `$(${name})`
      i = close
    } else {
      out += `$${next}`
      i++
    }
  }
  return out
}
