import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { RULES, diagnose } from '../../src/diagnose/engine.js'
import { FALLBACK_CATEGORIES } from '../../src/diagnose/fallback.js'
import { parseTrace } from '../../src/diagnose/trace.js'

/**
 * The tools' own error wordings, catalogued from their source code (test/fixtures/diagnose/wordings:
 * gitlab-runner, git/curl/ssh, the Docker engine and image builders, Kubernetes, shells and package
 * managers). Each case fills a format string the way the tool fills it, shows it where a job log
 * would show it, and names the file it comes from. These are not corpus entries (nobody posted
 * them): they make the rules cover a tool's whole vocabulary for a failure rather than the few
 * lines people happened to paste, which is what a log from outside the corpus needs.
 *
 * A case passes when its category is the first answer; `rank: 3` marks a wording that honestly
 * fits more than one cause (the category must then be among the first three).
 */
interface WordingCase { name: string; source: string; log: string; category: string; executor?: string; rank?: 1 | 3 }
interface Catalogue { tool: string; cases: WordingCase[] }

const dir = new URL('../fixtures/diagnose/wordings/', import.meta.url).pathname
const catalogues: Catalogue[] = readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
  .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Catalogue)

describe.each(catalogues.map((c) => [c.tool, c] as const))('%s wordings', (_tool, c) => {
  it.each(c.cases.map((w) => [w.name, w] as const))('%s', (_name, w) => {
    expect(w.source, 'every case names where its wording comes from').toMatch(/\S/)
    const report = diagnose({ trace: parseTrace(w.log), ...(w.executor ? { executor: w.executor } : {}) })
    const got = report.diagnoses.map((d) => d.category)
    if ((w.rank ?? 1) === 1) expect(got[0], `got ${got.slice(0, 3).join(', ')}`).toBe(w.category)
    else expect(got.slice(0, 3), `got ${got.slice(0, 3).join(', ')}`).toContain(w.category)
  })
})

// Categories are stable ids of docs/failure-taxonomy.md: every rule's and every catalogue case's.
const taxonomy = new Set([...readFileSync(new URL('../../docs/failure-taxonomy.md', import.meta.url), 'utf8').matchAll(/^### `([a-z0-9_]+)`/gm)].map((m) => m[1] ?? ''))

describe('taxonomy ids', () => {
  it('every category a rule can answer is a taxonomy class', () => {
    const missing = RULES.flatMap((r) => r.categories.filter((c) => !taxonomy.has(c)).map((c) => `${r.id}: ${c}`))
    expect(missing).toEqual([])
  })

  it('every catalogue case names a taxonomy class (or a kind of failure)', () => {
    const missing = catalogues.flatMap((c) => c.cases.filter((w) => !taxonomy.has(w.category) && !FALLBACK_CATEGORIES.has(w.category)).map((w) => `${c.tool}: ${w.name} → ${w.category}`))
    expect(missing).toEqual([])
  })
})
