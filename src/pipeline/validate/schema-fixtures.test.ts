import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadYaml } from '../yaml/load.js'
import { validateSchema } from './schema.js'

/**
 * GitLab's own schema fixtures (test/fixtures/schema-tests), run with the harness semantics of
 * GitLab's ci_schema_spec.js: each top-level key is validated on its own as `{ [key]: value }`;
 * in workflow/auto_cancel/*.yml each top-level key names a test whose value is a whole document.
 * Every positive case must validate clean, every negative case must be rejected.
 */
const root = new URL('../../../test/fixtures/schema-tests/', import.meta.url).pathname

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n)
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.yml') ? [p] : []
  }).sort()
}

type Case = [name: string, doc: unknown, positive: boolean]

function cases(kind: 'positive' | 'negative'): Case[] {
  return files(join(root, kind)).flatMap((file) => {
    const rel = relative(root, file)
    const loaded = loadYaml(readFileSync(file, 'utf8'), rel)
    expect(loaded.errors, rel).toEqual([])
    const doc = (loaded.documents[0]?.value ?? {}) as Record<string, unknown>
    const global = /workflow\/auto_cancel\//.test(rel)
    return Object.entries(doc).map(([key, value]): Case => [`${rel} :: ${key}`, global ? value : { [key]: value }, kind === 'positive'])
  })
}

const all = [...cases('positive'), ...cases('negative')]

describe('GitLab schema fixtures', () => {
  it('has all 411 cases', () => expect(all).toHaveLength(411))
  it.each(all)('%s', async (_name, doc, positive) => {
    const errors = await validateSchema(doc)
    if (positive) expect(errors.map((e) => e.message)).toEqual([])
    else expect(errors.length).toBeGreaterThan(0)
  })
})
