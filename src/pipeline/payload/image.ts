import type { JobImage, JobVariable, PullPolicy } from '../../payload/types.js'
import { isPlainObject } from '../model/keywords.js'
import { flattenStrings, readVariables, scalarString } from '../model/job.js'

/**
 * `image:` / `services:` entries in string or object form → the payload's `Image`.
 * Names are sent unexpanded: the runner expands them against the job's variables.
 */
export function toImage(v: unknown): JobImage | null {
  if (typeof v === 'string') return { name: v }
  if (!isPlainObject(v)) return null
  const img: JobImage = { name: scalarString(v['name']) }
  if (v['alias'] !== undefined) img.alias = scalarString(v['alias'])
  if (v['command'] !== undefined) img.command = flattenStrings(v['command'])
  if (v['entrypoint'] !== undefined) img.entrypoint = flattenStrings(v['entrypoint'])
  if (Array.isArray(v['ports'])) {
    img.ports = v['ports'].map((p) =>
      isPlainObject(p)
        ? { number: Number(p['number']), ...(p['protocol'] ? { protocol: scalarString(p['protocol']) } : {}), ...(p['name'] ? { name: scalarString(p['name']) } : {}) }
        : { number: Number(p) },
    )
  }
  if (isPlainObject(v['variables'])) {
    img.variables = readVariables(v['variables']).map((x): JobVariable => ({ key: x.key, value: x.value, public: true, ...(x.raw ? { raw: true } : {}) }))
  }
  if (v['pull_policy'] !== undefined) img.pull_policy = flattenStrings(v['pull_policy']) as PullPolicy[]
  const docker = v['docker']
  const kube = v['kubernetes']
  if (isPlainObject(docker) || isPlainObject(kube)) {
    img.executor_opts = {}
    if (isPlainObject(docker)) {
      img.executor_opts.docker = {}
      if (docker['platform'] !== undefined) img.executor_opts.docker.platform = scalarString(docker['platform'])
      if (docker['user'] !== undefined) img.executor_opts.docker.user = scalarString(docker['user'])
    }
    if (isPlainObject(kube)) {
      img.executor_opts.kubernetes = {}
      if (kube['user'] !== undefined) img.executor_opts.kubernetes.user = scalarString(kube['user'])
    }
  }
  return img
}

export function toServices(v: unknown): JobImage[] {
  if (!Array.isArray(v)) return []
  return v.map(toImage).filter((x): x is JobImage => x !== null)
}
