import { ApiError, badRequest, failure } from './status.js'

/**
 * PATCH bodies by Content-Type, as the apiserver's patch handler tells them apart:
 * JSON merge patch (RFC 7386), strategic merge patch (merge patch whose lists of named items —
 * containers, volumes, env, … — merge by `name`, with `$patch: delete`), JSON patch (RFC 6902).
 * Server-side apply (application/apply-patch+yaml) is not served.
 */
export const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json']

export function applyPatch(type: string, original: any, patch: unknown): any {
  if (type === 'application/json-patch+json') return jsonPatch(original, patch)
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) throw badRequest('json: cannot unmarshal array into Go value of type map[string]interface {}')
  return mergePatch(structuredClone(original), patch, type === 'application/strategic-merge-patch+json')
}

function mergePatch(target: any, patch: any, strategic: boolean): any {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch)
  const out = target !== null && typeof target === 'object' && !Array.isArray(target) ? target : {}
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]
    else if (strategic && Array.isArray(v) && Array.isArray(out[k]) && isNamedList(v) && isNamedList(out[k])) out[k] = mergeNamed(out[k], v)
    else out[k] = mergePatch(out[k], v, strategic)
  }
  return out
}

function isNamedList(list: unknown[]): boolean {
  return list.every((x) => x !== null && typeof x === 'object' && typeof (x as { name?: unknown }).name === 'string')
}

function mergeNamed(base: any[], patch: any[]): any[] {
  const out = base.map((x) => structuredClone(x))
  for (const item of patch) {
    const i = out.findIndex((x) => x.name === item.name)
    if (item.$patch === 'delete') { if (i >= 0) out.splice(i, 1); continue }
    if (i >= 0) out[i] = mergePatch(out[i], item, true)
    else out.push(structuredClone(item))
  }
  return out
}

function jsonPatch(original: any, ops: unknown): any {
  if (!Array.isArray(ops)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch')
  let doc = structuredClone(original)
  for (const op of ops as { op: string; path: string; value?: unknown; from?: string }[]) {
    const parts = op.path.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    const last = parts.pop()!
    const parent = parts.reduce((o: any, k) => (o == null ? undefined : o[k]), doc)
    if (parent === undefined || parent === null) throw invalidPatch(`doc is missing path: "${op.path}": missing value`)
    const isArr = Array.isArray(parent)
    const idx = isArr ? (last === '-' ? parent.length : Number(last)) : -1
    switch (op.op) {
      case 'add': if (isArr) parent.splice(idx, 0, op.value); else parent[last] = op.value; break
      case 'replace':
        if (!(last in parent)) throw invalidPatch(`replace operation does not apply: doc is missing key: ${op.path}: missing value`)
        parent[last] = op.value; break
      case 'remove':
        if (!(last in parent)) throw invalidPatch(`remove operation does not apply: doc is missing path: "${op.path}": missing value`)
        if (isArr) parent.splice(idx, 1); else delete parent[last]
        break
      case 'test':
        if (JSON.stringify(parent[last]) !== JSON.stringify(op.value)) throw invalidPatch(`testing value ${op.path} failed: test failed`)
        break
      default: throw badRequest(`Unexpected kind: ${op.op}`)
    }
    doc = structuredClone(doc)
  }
  return doc
}

function invalidPatch(message: string): ApiError {
  return new ApiError(failure(422, 'Invalid', `the server rejected our request due to an error in our request: ${message}`))
}
