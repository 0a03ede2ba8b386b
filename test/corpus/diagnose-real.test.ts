import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { diagnose } from '../../src/diagnose/engine.js'
import { parseTrace } from '../../src/diagnose/trace.js'

/**
 * The explain engine over the corpus of real failure logs people posted (test/fixtures/diagnose/real).
 * Every entry is a failed job: each must get an answer with a next step, never "no pattern matched"
 * alone. Accuracy is guarded on the development split only; the held-out split is measured by
 * bench/diagnose-accuracy.mjs and is never a tuning target, so no test pins its figures.
 */
interface Entry { id: string; log: string; executor: string; category: string; ci?: string }

const corpus = new URL('../fixtures/diagnose/real/', import.meta.url).pathname
const split = JSON.parse(readFileSync(join(corpus, 'split.json'), 'utf8')) as { dev: string[]; heldout: string[] }
const entries: Entry[] = readdirSync(corpus).filter((f) => /^\d+.*\.json$/.test(f)).sort()
  .map((f) => JSON.parse(readFileSync(join(corpus, f), 'utf8')) as Entry)

// With the job's .gitlab-ci.yml when the entry has it (from batch 22 on), as the bench and `glrun explain --ci` read it.
function categories(e: Entry): string[] {
  const report = diagnose({ trace: parseTrace(e.log), ...(e.executor !== 'unknown' ? { executor: e.executor } : {}), ...(e.ci !== undefined ? { ciYaml: e.ci } : {}) })
  return report.diagnoses.map((d) => d.category)
}

// Reached with the 197-entry corpus after issue 14 (125/131 and 130/131 on the dev split, which
// included the 22 dev entries of the third collection pass); with the fourth and fifth passes' 48
// dev entries 168/179 and 175/179 (170/181, 177/181 with the sixth pass's two); with the seventh
// to tenth passes' 100 dev entries 259/281 and 267/281 (92.2 %, 95.0 %; before their own rule passes
// those entries scored 17/29, 19/26, 25/33 and 8/12). The misses left are logs whose labels the
// threads did not settle, causes no log line shows (a fork's CI config path, which runner took the
// job, a Windows update under the runner, an entrypoint reading a token file), or pairs of alike
// logs labelled differently. With the eleventh to fifteenth passes' 143 dev entries 389/424 and
// 398/424 (91.7 %, 93.9 %; before their rule passes 22/36, 11/20, 29/34, 24/32, 12/21): the new misses
// are labels with no taxonomy class (hardware test devices, a board's load addresses, missing
// development headers), one project's own wordings, and hangs no line names. With the sixteenth to
// eighteenth passes' 69 dev entries 448/493 and 460/493 (90.9 %, 93.3 %; before their rule passes
// 14/26, 13/21, 10/22): batch 18's are mostly labels proposed without a class (a sibling container
// reached on localhost, a runner's service account) and logs cut before the cause (a SonarQube
// trace without its TLS error, an EACCES with no path), so top-1 goes from 0.91 to 0.90. With the
// nineteenth pass's 28 dev entries 471/521 and 483/521 (90.4 %, 92.7 %; before its rule pass 10/28 and
// 11/28): 4 of its 7 misses are labels proposed without a class (a job token's API scope, pip shadowed by
// a distribution's wrapper, a TTY, a broken tool version) and one a log with no cause in it, so top-3
// goes from 0.93 to 0.92. With the twentieth pass's 31 dev entries 488/552 and 500/552 (88.4 %, 90.6 %;
// before its rule pass 7/31): 8 of its 14 misses carry labels proposed without a class (a broken tool
// release, a tool's regression, cgroup detection) or a retry's "transient" where the log shows a proxy
// timeout, so the floors go to 0.88 and 0.90. Batch 21 (stop 23) adds 41 dev entries scored 14 before and
// 24 after its rule pass: five carry proposed ids without a class (a macOS 15 VM's local-network privacy,
// a corrupt runner cache that the runner only warns about, Hugo's standard edition, a missing database) and
// most others a cause the log does not show (a re-pushed image without an extension, a floating tag's newer
// SDK, a silent exit), so dev is 513/593 = 86.5 % / 88.5 % and the floors go to 0.86 and 0.88. Batch 22's 24
// dev entries (with their YAML) scored 10 before and 20 after its rule pass: dev 533/617 = 86.4 % / 88.3 %,
// just above the floors. Batch 23's 18 dev entries scored 4 before and 13 after its rule pass (of its five
// misses: a moved download URL, proposed without a class; a Cygwin package change labelled as a missing
// command although the log shows a failed cp; three tools' own refusals that name no Docker daemon or mount), so dev is 546/635 =
// 85.98 % / 88.0 % and the top-1 floor goes to 0.85. Batch 24's 26 dev entries scored 11 before and 20 after its
// rule pass (of its six misses, four carry labels the threads never settled — an R install "hiccup", a pull back-off
// on one node, a MySQL service refused with no host shown, a 404 behind a proxy — one a CPU limit no line names,
// and one a plugin's bare error with its cause second), so dev is 566/661 = 85.6 % / 87.9 % and the top-3 floor
// goes to 0.87. A regression guard, not a target.
const DEV_TOP1 = 0.85
const DEV_TOP3 = 0.87

describe('explain on real failure logs', () => {
  it('every entry belongs to exactly one split', () => {
    const ids = entries.map((e) => e.id).sort()
    expect([...split.dev, ...split.heldout].sort()).toEqual(ids)
  })

  it.each(entries.map((e) => [e.id, e] as const))('%s: an answer with a next step', (_id, e) => {
    const report = diagnose({ trace: parseTrace(e.log), ...(e.executor !== 'unknown' ? { executor: e.executor } : {}), ...(e.ci !== undefined ? { ciYaml: e.ci } : {}) })
    // A log that ends in "Job succeeded" (a warning someone asked about) gets no diagnosis, by design.
    if (/Job succeeded\s*$/.test(e.log)) {
      expect(report.diagnoses).toEqual([])
      return
    }
    expect(report.diagnoses.length, 'a failed job never gets nothing').toBeGreaterThan(0)
    for (const d of report.diagnoses) expect(d.fixes.length, `${d.category} says what to do`).toBeGreaterThan(0)
  })

  it(`dev split: top-1 >= ${DEV_TOP1 * 100}%, top-3 >= ${DEV_TOP3 * 100}%`, () => {
    const dev = entries.filter((e) => split.dev.includes(e.id))
    const ranks = dev.map((e) => categories(e).indexOf(e.category))
    const top1 = ranks.filter((r) => r === 0).length / dev.length
    const top3 = ranks.filter((r) => r >= 0 && r < 3).length / dev.length
    expect(top1).toBeGreaterThanOrEqual(DEV_TOP1)
    expect(top3).toBeGreaterThanOrEqual(DEV_TOP3)
  })

  // bench/blind-readers.mjs scores these answers; a renamed entry or class would silently drop rows.
  it('blind readers answered about corpus entries, with taxonomy classes', () => {
    const taxonomy = readFileSync(new URL('../../docs/failure-taxonomy.md', import.meta.url), 'utf8')
    const classes = new Set([...taxonomy.matchAll(/^### `([a-z0-9_]+)`/gm)].map((m) => m[1]).concat(['user_script_failure', 'runner_system_failure', 'infrastructure_failure']))
    const ids = new Set(entries.map((e) => e.id))
    const rows = readFileSync(new URL('../fixtures/diagnose/blind-readers/answers.tsv', import.meta.url), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split('\t'))
    expect(rows.length).toBe(474)
    for (const [id = '', , ranked = '', shown] of rows) {
      expect(ids.has(id), id).toBe(true)
      expect(['yes', 'partly', 'no']).toContain(shown)
      for (const c of ranked.split(',')) expect(classes.has(c), c).toBe(true)
    }
  })
})
