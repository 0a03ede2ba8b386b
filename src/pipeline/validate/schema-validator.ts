import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { packageRoot } from '../../support/package-root.js'
import generated from './schema-validator.generated.js'

/** ajv's error object, the fields glrun reads. */
export interface SchemaError {
  instancePath: string
  schemaPath: string
  keyword: string
  params: Record<string, unknown>
  message?: string
}

export type Validator = ((data: unknown) => boolean) & { errors?: SchemaError[] | null }

/**
 * The validator for GitLab's schema (plus glrun's overlay, schema/overlay.mjs), compiled to code
 * at build time by scripts/build-schema-validator.mjs: compiling the 128 KB schema at run time
 * would take ~400 ms of every `glrun lint`/`list`.
 */
export function schemaValidator(): Validator {
  return generated
}

let schemaJson: Record<string, unknown> | undefined

/** GitLab's schema as JSON (for key lists in did-you-mean hints). */
export function gitlabSchema(): Record<string, unknown> {
  schemaJson ??= JSON.parse(readFileSync(join(packageRoot(), 'schema', 'gitlab-ci.json'), 'utf8')) as Record<string, unknown>
  return schemaJson
}
