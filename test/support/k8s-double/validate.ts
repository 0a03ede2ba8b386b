import * as client from '@kubernetes/client-node'
import { type KindDef, apiVersionOf } from './kinds.js'
import { semanticErrors } from './semantics.js'
import { type Cause, badRequest, invalid } from './status.js'

/**
 * What the apiserver does to a create/update body before storing it: decode (unknown fields ⇒
 * warning or, with `fieldValidation=Strict`, 400 `strict decoding error`), type-check (a JSON
 * type mismatch is a 400 decoding error, as Go's json.Unmarshal fails), then validate (422 Invalid
 * with `details.causes`). The schema check is kubernetes-models' ajv validator; the semantic rules
 * the OpenAPI schemas do not carry are in semantics.ts.
 */
export interface Decoded {
  obj: any
  warnings: string[]
  /** The schema's 422 findings, reported by `validate` with the semantic ones (after admission, as the apiserver orders them). */
  schemaCauses: Cause[]
}

export const QUANTITY_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"

export function decode(def: KindDef, body: unknown, fieldValidation: string | null): Decoded {
  const prefix = `${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}`
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest(`${prefix}: json: cannot unmarshal ${jsonType(body)} into Go value of type ${goPkg(def)}.${def.kind}`)
  }
  const obj = structuredClone(body) as any
  if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersionOf(def)) {
    throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersionOf(def)})`)
  }
  if (obj.kind !== undefined && obj.kind !== def.kind) {
    throw badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${def.kind})`)
  }
  const unknown: string[] = []
  dropUnknown(obj, def.clientType, '', unknown)
  const mode = (fieldValidation ?? 'Warn')
  if (!['Strict', 'Warn', 'Ignore'].includes(mode)) {
    throw badRequest(`fieldValidation parameter "${mode}" is not one of Ignore, Warn, Strict`)
  }
  if (unknown.length > 0 && mode === 'Strict') {
    throw badRequest(`${prefix}: strict decoding error: ${unknown.map((u) => `unknown field "${u}"`).join(', ')}`)
  }
  obj.apiVersion = apiVersionOf(def)
  obj.kind = def.kind
  const schemaCauses = schemaCheck(def, obj, prefix)
  return { obj, warnings: mode === 'Warn' ? unknown.map((u) => `unknown field "${u}"`) : [], schemaCauses }
}

/** 422 Invalid with every cause, schema and semantic, in one Status. */
export function validate(def: KindDef, d: Decoded): void {
  const causes = [...d.schemaCauses, ...semanticErrors(def, d.obj)]
  const md = d.obj.metadata ?? {}
  if (causes.length > 0) throw invalid(def.kind, md.name || md.generateName || '', causes, def.group)
}

interface AjvError { instancePath: string; keyword: string; params: Record<string, any>; message?: string }

function schemaCheck(def: KindDef, obj: any, prefix: string): Cause[] {
  let errors: AjvError[] = []
  try {
    new def.model(obj).validate()
  } catch (e) {
    errors = ((e as { errors?: AjvError[] }).errors ?? [])
    if (errors.length === 0) throw e
  }
  if (errors.length === 0) return []
  const byPath = new Map<string, AjvError[]>()
  for (const e of errors) byPath.set(e.instancePath, [...(byPath.get(e.instancePath) ?? []), e])
  // A bad quantity or a JSON type mismatch fails decoding (400) before validation would run.
  for (const [path, errs] of byPath) {
    if (errs.some((e) => e.keyword === 'format' && e.params.format === 'quantity')) throw badRequest(`${prefix}: ${QUANTITY_ERROR}`)
    const typeErr = errs.find((e) => e.keyword === 'type')
    if (typeErr && !errs.some((e) => e.keyword === 'required' || e.keyword === 'enum')) {
      throw badRequest(`${prefix}: json: cannot unmarshal ${jsonType(valueAt(obj, path))} into Go struct field ${goField(def, path)} of type ${goType(typeErr.params.type)}`)
    }
  }
  const causes: Cause[] = []
  for (const [path, errs] of byPath) {
    for (const e of errs) {
      if (e.keyword === 'required') {
        causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: fieldPath(path, e.params.missingProperty) })
      } else if (e.keyword === 'enum') {
        const allowed = (e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')
        causes.push({ reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(valueAt(obj, path))}: supported values: ${allowed}`, field: fieldPath(path) })
      } else if (e.keyword !== 'oneOf' && e.keyword !== 'type') {
        causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(valueAt(obj, path))}: ${e.message ?? e.keyword}`, field: fieldPath(path) })
      }
    }
  }
  return causes
}

/** `/spec/containers/0/name` ⇒ `spec.containers[0].name`, the apiserver's field path form. */
export function fieldPath(pointer: string, child?: string): string {
  const parts = pointer.split('/').slice(1)
  if (child !== undefined) parts.push(child)
  let out = ''
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out === '' ? p : `.${p}`
  return out
}

function valueAt(obj: any, pointer: string): unknown {
  return pointer.split('/').slice(1).reduce((o, k) => (o == null ? undefined : o[k]), obj)
}

function jsonType(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  return typeof v === 'object' ? 'object' : typeof v === 'boolean' ? 'bool' : typeof v
}

function goType(t: unknown): string {
  return ({ boolean: 'bool', integer: 'int32', number: 'float64', string: 'string', object: 'map[string]interface {}', array: '[]interface {}' } as Record<string, string>)[String(t)] ?? String(t)
}

function goPkg(def: KindDef): string {
  return def.group ? def.group.split('.')[0]! : 'v1'
}

/** Go's json error names the innermost struct and the field path without indices: `Container.spec.containers.stdin`. */
function goField(def: KindDef, pointer: string): string {
  const parts = pointer.split('/').slice(1).filter((p) => !/^\d+$/.test(p))
  let type = def.clientType
  let struct = def.kind
  for (const p of parts.slice(0, -1)) {
    const attr = attributes(type)?.find((a) => a.baseName === p)
    const inner = attr ? elementType(attr.type) : undefined
    if (!inner || !attributes(inner)) break
    type = inner
    struct = inner.replace(/^(Core)?V\d\w*?(?=[A-Z])/, '')
  }
  return `${struct}.${parts.join('.')}`
}

type Attr = { baseName: string; type: string }

function attributes(type: string): Attr[] | undefined {
  const cls = (client as unknown as Record<string, { getAttributeTypeMap?: () => Attr[] }>)[type]
  return typeof cls?.getAttributeTypeMap === 'function' ? cls.getAttributeTypeMap() : undefined
}

/** `Array<V1Container>` ⇒ V1Container; `{ [key: string]: V1X; }` ⇒ V1X; otherwise the type itself. */
function elementType(t: string): string {
  const arr = /^Array<(.+)>$/.exec(t)
  if (arr) return arr[1]!
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(t)
  return map ? map[1]! : t
}

/** Removes the fields the API does not know (the apiserver drops them when decoding) and lists their paths. */
function dropUnknown(value: any, type: string, path: string, out: string[]): void {
  if (value === null || typeof value !== 'object') return
  const arr = /^Array<(.+)>$/.exec(type)
  if (arr) {
    if (Array.isArray(value)) value.forEach((v, i) => dropUnknown(v, arr[1]!, `${path}[${i}]`, out))
    return
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type)
  if (map) {
    if (!Array.isArray(value)) for (const [k, v] of Object.entries(value)) dropUnknown(v, map[1]!, `${path}[${k}]`, out)
    return
  }
  const attrs = attributes(type)
  if (!attrs || Array.isArray(value)) return
  for (const key of Object.keys(value)) {
    const attr = attrs.find((a) => a.baseName === key)
    const child = path ? `${path}.${key}` : key
    if (!attr) {
      out.push(child)
      delete value[key]
    } else {
      dropUnknown(value[key], attr.type, child, out)
    }
  }
}

