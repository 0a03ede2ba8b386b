import type { SourceSpan } from '../../diagnostics/source.js'
import { readVariables, scalarString } from '../model/job.js'
import { isPlainObject } from '../model/keywords.js'
import type { JobSource } from '../plan/types.js'
import { expandExisting } from '../variables/expand.js'
import { valueSpan } from '../yaml/positions.js'
import { type ImageRef, parseImageRef } from './image-ref.js'

/**
 * What the pitfall checks read from a job's mapping, each piece with the place it is written:
 * the image, the services, the script lines and the tags.
 */

/** A job's `image:` or one of its `services:`. */
export interface ImageUse {
  /** The name after the runner's expansion with the job's variables. */
  readonly name: string
  /** undefined when the name still holds a variable the job does not define. */
  readonly ref: ImageRef | undefined
  readonly entrypoint: readonly string[] | undefined
  readonly command: readonly string[] | undefined
  readonly alias: string | undefined
  /** A service's own `variables:` (they override the job's inside that container). */
  readonly variables: ReadonlyMap<string, string>
  /** Where the name is written. */
  readonly where: SourceSpan | undefined
  readonly entrypointWhere: SourceSpan | undefined
}

export function jobImage(src: JobSource): ImageUse | undefined {
  const def = src.definition
  return def['image'] === undefined || def['image'] === null ? undefined : imageUse(def, 'image', src)
}

export function jobServices(src: JobSource): ImageUse[] {
  const list = src.definition['services']
  if (!Array.isArray(list)) return []
  return list.map((_, i) => imageUse(list, i, src)).filter((s): s is ImageUse => s !== undefined)
}

function imageUse(container: object, key: string | number, src: JobSource): ImageUse | undefined {
  const v = (container as Record<string | number, unknown>)[key]
  const strings = (x: unknown): string[] | undefined => (Array.isArray(x) ? x.map(scalarString) : x === undefined || x === null ? undefined : [scalarString(x)])
  if (typeof v === 'string') {
    const name = expandExisting(v, (n) => src.variable(n))
    return { name, ref: parseImageRef(name), entrypoint: undefined, command: undefined, alias: undefined, variables: new Map(), where: valueSpan(container, key), entrypointWhere: undefined }
  }
  if (!isPlainObject(v) || typeof v['name'] !== 'string') return undefined
  const name = expandExisting(v['name'], (n) => src.variable(n))
  return {
    name,
    ref: parseImageRef(name),
    entrypoint: strings(v['entrypoint']),
    command: strings(v['command']),
    alias: v['alias'] === undefined || v['alias'] === null ? undefined : scalarString(v['alias']),
    variables: new Map(readVariables(v['variables']).map((x) => [x.key, x.value])),
    where: valueSpan(v, 'name'),
    entrypointWhere: v['entrypoint'] === undefined ? undefined : valueSpan(v, 'entrypoint'),
  }
}

/** One entry of a job's script sections, as written (a block scalar is one entry). */
export interface ScriptLine {
  readonly text: string
  readonly section: 'before_script' | 'script' | 'after_script'
  readonly where: SourceSpan | undefined
}

/** The entries of the given sections in the order they run, nested `!reference` lists flattened. */
export function scriptLines(src: JobSource, sections: readonly ScriptLine['section'][] = ['before_script', 'script']): ScriptLine[] {
  const out: ScriptLine[] = []
  const walk = (container: object, key: string | number, section: ScriptLine['section'], depth: number): void => {
    const v = (container as Record<string | number, unknown>)[key]
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out.push({ text: String(v), section, where: valueSpan(container, key) })
    else if (Array.isArray(v) && depth <= 10) v.forEach((_, i) => walk(v, i, section, depth + 1))
  }
  for (const section of sections) walk(src.definition, section, section, 0)
  return out
}

/** The job's `tags:`, expanded like GitLab does when it matches runners. */
export function jobTags(src: JobSource): string[] {
  const tags = src.definition['tags']
  const list = Array.isArray(tags) ? tags : tags === undefined || tags === null ? [] : [tags]
  return list.map((t) => expandExisting(scalarString(t), (n) => src.variable(n)))
}
