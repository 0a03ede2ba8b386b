import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import type { JobPayload } from '../../payload/types.js'
import { ExecutorFailure } from '../failure.js'
import { featureFlag } from '../../job/feature-flag.js'

/**
 * gitlab-runner's advanced pod spec configuration (FF_USE_ADVANCED_POD_SPEC_CONFIGURATION):
 * each `[[runners.kubernetes.pod_spec]]` patches the generated PodSpec in order, its `patch` (or
 * the file at `patch_path`, never both) in YAML or JSON, by `patch_type`: `strategic` (the
 * default: Kubernetes' strategic merge patch, lists of containers, volumes, env… merged by their
 * key), `merge` (RFC 7386 JSON merge patch) or `json` (RFC 6902 JSON patch).
 */

export interface PodSpecPatch { name: string; patch?: string; patchPath?: string; patchType?: string }

/** A JSON value (what a pod spec, a patch and config.toml's tables turned into the API's form hold). */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json }
type Obj = { [k: string]: Json }

export const ADVANCED_POD_SPEC = 'FF_USE_ADVANCED_POD_SPEC_CONFIGURATION'
export const ADVANCED_POD_SPEC_WARNING = 'Advanced Pod Spec configuration enabled, merging the provided PodSpec to the generated one. This is a beta feature and is subject to change. Feedback is collected in this issue: https://gitlab.com/gitlab-org/gitlab-runner/-/issues/29659 ...'

/** The flag for this job: [runners.feature_flags] when it sets it, else the job variable. */
export function advancedPodSpec(job: Pick<JobPayload, 'variables'>, featureFlags: Record<string, boolean>): boolean {
  return featureFlag(ADVANCED_POD_SPEC, job, featureFlags)
}

// Keys no PodSpec has that would reach a JavaScript object's prototype.
const UNSAFE = new Set(['__proto__', 'constructor', 'prototype'])
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const clone = <T>(v: T): T => structuredClone(v)

const refuse = (p: PodSpecPatch, why: string): ExecutorFailure =>
  new ExecutorFailure('GLRUN_K8S_POD_SPEC', `pod_spec "${p.name}": ${why}`, 'runner_configuration_error',
    'Fix the [[runners.kubernetes.pod_spec]] entry in config.toml (`glrun compile JOB --pod --config config.toml` shows the patched pod).')

/** Applies every patch in order to a copy of the pod's spec. */
export function patchPodSpec(spec: object, patches: readonly PodSpecPatch[]): Obj {
  // A JSON copy: the generated spec holds only JSON values.
  let out = JSON.parse(JSON.stringify(spec)) as Obj
  for (const p of patches) {
    if (p.patch && p.patchPath) throw refuse(p, 'patch and patch_path are both set: use one')
    let text = p.patch ?? ''
    if (p.patchPath) {
      try {
        text = readFileSync(p.patchPath, 'utf8')
      } catch (e) {
        throw refuse(p, `cannot read patch_path ${p.patchPath}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
      }
    }
    let patch: Json
    try {
      patch = (parseYaml(text) ?? {}) as Json
    } catch (e) {
      throw refuse(p, `the patch is not YAML or JSON: ${(e as Error).message.split('\n')[0]}`)
    }
    const type = p.patchType || 'strategic'
    if (type === 'strategic') out = strategic(out, patch, 'PodSpec', p) as Obj
    else if (type === 'merge') out = mergePatch(out, patch) as Obj
    else if (type === 'json') out = jsonPatch(out, patch, p)
    else throw refuse(p, `unsupported patch type ${type} (strategic, merge or json)`)
    if (!isObj(out)) throw refuse(p, 'the patched spec is not an object')
  }
  return out
}

/** RFC 7386: objects merge, null removes, anything else replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObj(patch)) return clone(patch)
  const out: Obj = isObj(target) ? clone(target) : {}
  for (const [k, v] of Object.entries(patch)) {
    if (UNSAFE.has(k)) continue
    if (v === null) delete out[k]
    else out[k] = mergePatch(out[k] ?? null, v)
  }
  return out
}

// The merge keys of the PodSpec's lists (k8s.io/api core/v1 patchMergeKey tags); a list not named
// here is replaced whole, as the strategic merge patch does for lists without one.
const MERGE_KEYS: Record<string, Record<string, string>> = {
  PodSpec: { containers: 'name', initContainers: 'name', ephemeralContainers: 'name', volumes: 'name', imagePullSecrets: 'name', hostAliases: 'ip', topologySpreadConstraints: 'topologyKey', resourceClaims: 'name', schedulingGates: 'name' },
  Container: { env: 'name', volumeMounts: 'mountPath', ports: 'containerPort', volumeDevices: 'devicePath' },
}
const ELEMENT_TYPE: Record<string, string> = { containers: 'Container', initContainers: 'Container', ephemeralContainers: 'Container' }

/** Kubernetes' strategic merge patch for a PodSpec: lists with a merge key merge item by item; `$patch: delete|replace` as the API does. */
function strategic(target: Json, patch: Json, type: string | undefined, p: PodSpecPatch): Json {
  if (!isObj(patch)) return clone(patch)
  if (patch['$patch'] === 'replace') {
    const rest = clone(patch)
    delete rest['$patch']
    return rest
  }
  // apimachinery's handleDirectiveInMergeMap: a map deleted this way is an empty map.
  if (patch['$patch'] === 'delete') return {}
  const out: Obj = isObj(target) ? clone(target) : {}
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$') || UNSAFE.has(k)) continue
    if (v === null) {
      delete out[k]
      continue
    }
    const key = type ? MERGE_KEYS[type]?.[k] : undefined
    if (Array.isArray(v) && key) out[k] = mergeList(Array.isArray(out[k]) ? (out[k] as Json[]) : [], v, key, ELEMENT_TYPE[k], p)
    else if (isObj(v)) out[k] = strategic(out[k] ?? null, v, undefined, p)
    else out[k] = clone(v)
  }
  return out
}

function mergeList(current: Json[], patch: Json[], key: string, type: string | undefined, p: PodSpecPatch): Json[] {
  if (patch.some((x) => isObj(x) && x['$patch'] === 'replace')) return patch.filter((x) => !(isObj(x) && x['$patch'] === 'replace')).map((x) => clone(x))
  const out = current.map((c) => clone(c))
  for (const item of patch) {
    if (!isObj(item) || item[key] === undefined) throw refuse(p, `a list item has no ${key}, the key the list merges by`)
    const at = out.findIndex((c) => isObj(c) && c[key] === item[key])
    if (item['$patch'] === 'delete') {
      if (at >= 0) out.splice(at, 1)
      continue
    }
    if (at >= 0) out[at] = strategic(out[at]!, item, type, p)
    else out.push(strategic(null, item, type, p))
  }
  return out
}

/** RFC 6902 on a copy: add, remove, replace, move, copy, test; any failing operation fails the patch. */
function jsonPatch(doc: Obj, ops: Json, p: PodSpecPatch): Obj {
  if (!Array.isArray(ops)) throw refuse(p, 'a json patch is a list of operations')
  let root: Json = clone(doc)
  const path = (ptr: unknown): string[] => {
    if (typeof ptr !== 'string' || (ptr !== '' && !ptr.startsWith('/'))) throw refuse(p, `invalid JSON pointer ${JSON.stringify(ptr)}`)
    const parts = ptr === '' ? [] : ptr.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))
    // A PodSpec has no such keys; on a JavaScript object they would reach its prototype.
    if (parts.some((t) => UNSAFE.has(t))) throw refuse(p, `invalid path ${String(ptr)}`)
    return parts
  }
  const parentOf = (parts: string[]): { parent: Json; last: string } => {
    let cur: Json = root
    for (const t of parts.slice(0, -1)) {
      const next: Json | undefined = Array.isArray(cur) ? cur[Number(t)] : isObj(cur) ? cur[t] : undefined
      if (next === undefined) throw refuse(p, `path /${parts.join('/')} does not exist`)
      cur = next
    }
    return { parent: cur, last: parts.at(-1) ?? '' }
  }
  const get = (parts: string[]): Json => {
    if (!parts.length) return root
    const { parent, last } = parentOf(parts)
    const v = Array.isArray(parent) ? parent[Number(last)] : isObj(parent) ? parent[last] : undefined
    if (v === undefined) throw refuse(p, `path /${parts.join('/')} does not exist`)
    return v
  }
  const remove = (parts: string[]): Json => {
    const v = get(parts)
    const { parent, last } = parentOf(parts)
    if (Array.isArray(parent)) parent.splice(Number(last), 1)
    else delete (parent as Obj)[last]
    return v
  }
  const add = (parts: string[], value: Json): void => {
    if (!parts.length) {
      root = value
      return
    }
    const { parent, last } = parentOf(parts)
    if (Array.isArray(parent)) {
      const i = last === '-' ? parent.length : Number(last)
      if (!Number.isInteger(i) || i < 0 || i > parent.length) throw refuse(p, `index ${last} is out of range`)
      parent.splice(i, 0, value)
    } else if (isObj(parent)) parent[last] = value
    else throw refuse(p, `cannot add under a ${typeof parent}`)
  }
  for (const op of ops) {
    if (!isObj(op)) throw refuse(p, 'a json patch operation is an object')
    const at = path(op['path'])
    if (['add', 'replace', 'test'].includes(String(op['op'])) && !('value' in op)) throw refuse(p, `the ${String(op['op'])} operation at ${String(op['path'])} has no value`)
    switch (op['op']) {
      case 'add': add(at, clone(op['value'] ?? null)); break
      case 'remove': remove(at); break
      case 'replace': get(at); remove(at); add(at, clone(op['value'] ?? null)); break
      case 'move': add(at, remove(path(op['from']))); break
      case 'copy': add(at, clone(get(path(op['from'])))); break
      case 'test':
        if (!deepEqual(get(at), op['value']!)) throw refuse(p, `test failed at ${String(op['path'])}`)
        break
      default: throw refuse(p, `unknown json patch operation ${JSON.stringify(op['op'])}`)
    }
  }
  if (!isObj(root)) throw refuse(p, 'the patched spec is not an object')
  return root
}

/** RFC 6902's equality: objects by their members in any order, arrays element by element. */
function deepEqual(a: Json, b: Json): boolean {
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]!))
  if (isObj(a) || isObj(b)) {
    if (!isObj(a) || !isObj(b)) return false
    const keys = Object.keys(a)
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k]!, b[k]!))
  }
  return a === b
}
