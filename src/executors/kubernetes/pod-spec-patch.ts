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

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }
type Obj = { [k: string]: Json }

export const ADVANCED_POD_SPEC = 'FF_USE_ADVANCED_POD_SPEC_CONFIGURATION'
export const ADVANCED_POD_SPEC_WARNING = 'Advanced Pod Spec configuration enabled, merging the provided PodSpec to the generated one. This is a beta feature and is subject to change. Feedback is collected in this issue: https://gitlab.com/gitlab-org/gitlab-runner/-/issues/29659 ...'

/** The flag for this job: [runners.feature_flags] when it sets it, else the job variable. */
export function advancedPodSpec(job: Pick<JobPayload, 'variables'>, featureFlags: Record<string, boolean>): boolean {
  return featureFlag(ADVANCED_POD_SPEC, job, featureFlags)
}

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
    if (type === 'strategic') out = strategic(out, patch, 'PodSpec') as Obj
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
    if (v === null) delete out[k]
    else out[k] = mergePatch(out[k] ?? null, v)
  }
  return out
}

// The merge keys of the PodSpec's lists (k8s.io/api core/v1 patchMergeKey tags); a list not named
// here is replaced whole, as the strategic merge patch does for lists without one.
const MERGE_KEYS: Record<string, Record<string, string>> = {
  PodSpec: { containers: 'name', initContainers: 'name', ephemeralContainers: 'name', volumes: 'name', imagePullSecrets: 'name', hostAliases: 'ip', topologySpreadConstraints: 'topologyKey', resourceClaims: 'name', schedulingGates: 'name' },
  Container: { env: 'name', volumeMounts: 'mountPath', ports: 'containerPort', volumeDevices: 'devicePath', resizePolicy: 'resourceName' },
}
const ELEMENT_TYPE: Record<string, string> = { containers: 'Container', initContainers: 'Container', ephemeralContainers: 'Container' }

/** Kubernetes' strategic merge patch for a PodSpec: lists with a merge key merge item by item; `$patch: delete|replace` as the API does. */
function strategic(target: Json, patch: Json, type: string | undefined): Json {
  if (!isObj(patch)) return clone(patch)
  if (patch['$patch'] === 'replace') {
    const rest = clone(patch)
    delete rest['$patch']
    return rest
  }
  if (patch['$patch'] === 'delete') return null
  const out: Obj = isObj(target) ? clone(target) : {}
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue
    if (v === null) {
      delete out[k]
      continue
    }
    const key = type ? MERGE_KEYS[type]?.[k] : undefined
    if (Array.isArray(v) && key) out[k] = mergeList(Array.isArray(out[k]) ? (out[k] as Json[]) : [], v, key, ELEMENT_TYPE[k])
    else if (isObj(v)) out[k] = strategic(out[k] ?? null, v, undefined)
    else out[k] = clone(v)
  }
  return out
}

function mergeList(current: Json[], patch: Json[], key: string, type: string | undefined): Json[] {
  if (patch.some((p) => isObj(p) && p['$patch'] === 'replace')) return patch.filter((p) => !(isObj(p) && p['$patch'] === 'replace')).map((p) => clone(p))
  const out = current.map((c) => clone(c))
  for (const p of patch) {
    if (!isObj(p) || p[key] === undefined) {
      out.push(clone(p))
      continue
    }
    const at = out.findIndex((c) => isObj(c) && c[key] === p[key])
    if (p['$patch'] === 'delete') {
      if (at >= 0) out.splice(at, 1)
      continue
    }
    if (at >= 0) out[at] = strategic(out[at]!, p, type)
    else out.push(strategic(null, p, type))
  }
  return out
}

/** RFC 6902 on a copy: add, remove, replace, move, copy, test; any failing operation fails the patch. */
function jsonPatch(doc: Obj, ops: Json, p: PodSpecPatch): Obj {
  if (!Array.isArray(ops)) throw refuse(p, 'a json patch is a list of operations')
  let root: Json = clone(doc)
  const path = (ptr: unknown): string[] => {
    if (typeof ptr !== 'string' || (ptr !== '' && !ptr.startsWith('/'))) throw refuse(p, `invalid JSON pointer ${JSON.stringify(ptr)}`)
    return ptr === '' ? [] : ptr.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))
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
    switch (op['op']) {
      case 'add': add(at, clone(op['value'] ?? null)); break
      case 'remove': remove(at); break
      case 'replace': get(at); remove(at); add(at, clone(op['value'] ?? null)); break
      case 'move': add(at, remove(path(op['from']))); break
      case 'copy': add(at, clone(get(path(op['from'])))); break
      case 'test':
        if (JSON.stringify(get(at)) !== JSON.stringify(op['value'])) throw refuse(p, `test failed at ${String(op['path'])}`)
        break
      default: throw refuse(p, `unknown json patch operation ${JSON.stringify(op['op'])}`)
    }
  }
  if (!isObj(root)) throw refuse(p, 'the patched spec is not an object')
  return root
}
