import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

/** ajv's error object, the fields glrun reads. */
export interface SchemaError {
  instancePath: string
  schemaPath: string
  keyword: string
  params: Record<string, unknown>
  message?: string
}

export type Validator = ((data: unknown) => boolean) & { errors?: SchemaError[] | null }

let validator: Validator | undefined

/**
 * The compiled validator for GitLab's schema. The build generates it ahead of time
 * (scripts/build-schema-validator.mjs) because compiling the schema takes ~400 ms; when the
 * generated module is missing (running from sources without a build) it is compiled here.
 */
export async function schemaValidator(): Promise<Validator> {
  if (validator) return validator
  try {
    const mod = (await import(new URL('./schema-validator.generated.js', import.meta.url).href)) as { default: Validator }
    validator = mod.default
  } catch {
    const overlay = (await import(new URL('../../../schema/overlay.mjs', import.meta.url).href)) as { applyOverlay(s: unknown): unknown }
    validator = compileAtRuntime(overlay.applyOverlay(gitlabSchema()))
  }
  return validator
}

function compileAtRuntime(schema: unknown): Validator {
  const require = createRequire(import.meta.url)
  const Ajv = require('ajv').default as new (o: object) => { compile(s: unknown): Validator; addKeyword(k: string): void }
  const addFormats = require('ajv-formats').default as (a: unknown) => void
  const ajv = new Ajv({ allErrors: true, strict: false, strictTypes: false, strictTuples: false, allowMatchingProperties: true })
  addFormats(ajv)
  ajv.addKeyword('markdownDescription')
  return ajv.compile(schema)
}

let schemaJson: Record<string, unknown> | undefined

/** GitLab's schema as JSON (for key lists in did-you-mean hints). */
export function gitlabSchema(): Record<string, unknown> {
  schemaJson ??= JSON.parse(readFileSync(new URL('../../../schema/gitlab-ci.json', import.meta.url), 'utf8')) as Record<string, unknown>
  return schemaJson
}
