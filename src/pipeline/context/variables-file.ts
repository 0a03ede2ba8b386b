import { existsSync } from 'node:fs'
import { readSourceFile } from '../../support/read-source-file.js'
import { unmaskableError, unmaskableReason } from './maskable.js'
import { GlrunError, GlrunErrors } from '../../diagnostics/errors.js'
import { isPlainObject } from '../model/keywords.js'
import { loadYaml } from '../yaml/load.js'
import { valueSpan } from '../yaml/positions.js'
import type { PipelineVariable } from './types.js'

/**
 * Reads a variables file (default `.glrun/variables.yml`; format in VARIABLES.md):
 *
 *   DEPLOY_ENV: staging              # a plain variable
 *   API_TOKEN: { value: s3cr3t-value, masked: true }
 *   KUBECONFIG: { value: "...", file: true }
 *   LITERAL: { value: "$NOT_EXPANDED", raw: true }
 */
export function readVariablesFile(path: string, root?: string): PipelineVariable[] {
  if (!existsSync(path)) {
    throw new GlrunError('GLRUN_VARIABLES_FILE_MISSING', `variables file ${path} does not exist`, { hint: 'Check the path given to --variables-file.' })
  }
  // The default file is the repository's (.glrun/variables.yml): it must stay inside it.
  const text = readSourceFile(path, { display: path, ...(root !== undefined ? { root } : {}) })
  const loaded = loadYaml(text, path, { cache: false })
  // A file of secrets: a YAML mistake is reported by line and column, but its line is not shown
  // (it may be the line of a masked value).
  if (loaded.errors.length > 0) throw new GlrunErrors(loaded.errors.map(withoutExcerpt))
  const doc = loaded.documents[0]?.value ?? {}
  if (doc === null) return []
  if (!isPlainObject(doc)) {
    throw new GlrunError('GLRUN_VARIABLES_FILE_SHAPE', `${path} must be a mapping of variable names to values`, {
      where: loaded.documents[0]?.span, hint: 'Write one `NAME: value` per line.',
    })
  }
  const out: PipelineVariable[] = []
  const errors: GlrunError[] = []
  for (const [key, raw] of Object.entries(doc)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      const masked = isPlainObject(raw) && raw['masked'] === true
      errors.push(new GlrunError('GLRUN_VARIABLES_FILE_KEY', `"${key}" is not a valid variable name${masked ? ` (in ${path})` : ''}`, {
        ...(masked ? {} : { where: valueSpan(doc, key) }), hint: 'Variable names use letters, digits and underscores, and do not start with a digit.',
      }))
      continue
    }
    if (isPlainObject(raw)) {
      // A masked entry's line holds the secret: its errors name the file and the key, never
      // point at the line (a diagnostic would print it).
      const masked = raw['masked'] === true
      const where = masked ? undefined : valueSpan(doc, key)
      const given = masked ? `${path}, variable ${key}` : path
      const unknown = Object.keys(raw).filter((k) => !['value', 'masked', 'file', 'raw', 'description'].includes(k))
      if (unknown.length > 0 || raw['value'] === undefined) {
        errors.push(new GlrunError('GLRUN_VARIABLES_FILE_ENTRY', unknown.length > 0 ? `variable ${key} has unknown keys: ${unknown.join(', ')}${masked ? ` (in ${path})` : ''}` : `variable ${key} has no value`, {
          ...(where ? { where } : {}), hint: 'Use `{ value: ..., masked: true|false, file: true|false, raw: true|false }`.',
        }))
        continue
      }
      const value = toText(raw['value'])
      const reason = masked ? unmaskableReason(value, raw['raw'] === true) : undefined
      if (reason) {
        errors.push(unmaskableError(key, reason, given, raw['raw'] === true))
        continue
      }
      out.push({
        key, value,
        ...(masked ? { masked: true } : {}),
        ...(raw['file'] === true ? { file: true } : {}),
        ...(raw['raw'] === true ? { raw: true } : {}),
      })
    } else {
      out.push({ key, value: toText(raw) })
    }
  }
  if (errors.length > 0) throw new GlrunErrors(errors)
  return out
}

function withoutExcerpt(e: GlrunError): GlrunError {
  const at = e.where ? ` (line ${e.where.line}, column ${e.where.col})` : ''
  return new GlrunError(e.code, `${e.message}${at}`, { ...(e.hint ? { hint: e.hint } : {}) })
}

function toText(v: unknown): string {
  if (v === null || v === undefined) return ''
  return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v)
}
