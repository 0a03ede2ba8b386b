import type { SourceSpan } from '../../diagnostics/source.js'
import { isPlainObject } from '../model/keywords.js'
import { flattenStrings, scalarString } from '../model/job.js'
import { spanOf, valueSpan } from '../yaml/positions.js'

/** One `include:` entry, normalised (the string shorthand is local or remote by its prefix). */
export type IncludeEntry =
  | { kind: 'local'; path: string }
  | { kind: 'project'; project: string; ref?: string; files: string[] }
  | { kind: 'remote'; url: string; integrity?: string }
  | { kind: 'template'; name: string }
  | { kind: 'component'; ref: string }
  | { kind: 'invalid'; what: string }

export interface LocatedEntry {
  entry: IncludeEntry
  inputs?: Record<string, unknown>
  rules?: unknown
  where: SourceSpan | undefined
  /** How the user wrote it, for messages. */
  label: string
}

export function readEntries(include: unknown, fallback: SourceSpan | undefined): LocatedEntry[] {
  const list = Array.isArray(include) ? include : [include]
  const out: LocatedEntry[] = []
  list.forEach((item, i) => {
    const where = (Array.isArray(include) ? valueSpan(include, i) : undefined) ?? spanOf(item) ?? fallback
    out.push({ ...readEntry(item), where })
  })
  return out
}

function readEntry(item: unknown): Omit<LocatedEntry, 'where'> {
  if (typeof item === 'string') {
    const entry: IncludeEntry = /^https?:\/\//.test(item) ? { kind: 'remote', url: item } : { kind: 'local', path: item }
    return { entry, label: item }
  }
  if (!isPlainObject(item)) return { entry: { kind: 'invalid', what: JSON.stringify(item) }, label: JSON.stringify(item) }
  const extras: Pick<LocatedEntry, 'inputs' | 'rules'> = {}
  if (isPlainObject(item['inputs'])) extras.inputs = item['inputs']
  if (item['rules'] !== undefined) extras.rules = item['rules']
  const label = JSON.stringify(Object.fromEntries(Object.entries(item).filter(([k]) => k !== 'inputs' && k !== 'rules')))
  if (item['local'] !== undefined) return { entry: { kind: 'local', path: scalarString(item['local']) }, label, ...extras }
  if (item['project'] !== undefined) {
    const e: IncludeEntry = { kind: 'project', project: scalarString(item['project']), files: flattenStrings(item['file']) }
    if (item['ref'] !== undefined) e.ref = scalarString(item['ref'])
    return { entry: e, label, ...extras }
  }
  if (item['remote'] !== undefined) {
    const e: IncludeEntry = { kind: 'remote', url: scalarString(item['remote']) }
    if (item['integrity'] !== undefined) e.integrity = scalarString(item['integrity'])
    return { entry: e, label, ...extras }
  }
  if (item['template'] !== undefined) return { entry: { kind: 'template', name: scalarString(item['template']) }, label, ...extras }
  if (item['component'] !== undefined) return { entry: { kind: 'component', ref: scalarString(item['component']) }, label, ...extras }
  return { entry: { kind: 'invalid', what: label }, label, ...extras }
}
