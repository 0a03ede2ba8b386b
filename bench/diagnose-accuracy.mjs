#!/usr/bin/env node
// Scores the built explain engine (dist/, run `npm run build` first) on the corpus of real failure
// logs in test/fixtures/diagnose/real: top-1 and top-3 accuracy (the entry's category among the
// first / first three diagnoses) on the development split and on the held-out split.
//
// The held-out split exists to measure, never to tune: only its totals are printed. Its misses
// are listed only with --show-heldout, which is meant for a final report, not for rule writing.
// --new-heldout also prints the totals of the held-out entries of each later collection pass
// (split.json `heldout_batch3`, `heldout_batch4`, …) and of the first two passes', separately;
// totals only, never their misses. --dev-only prints no held-out figures at all (for use while writing rules).
// Entries that carry the job's .gitlab-ci.yml (`ci`, from batch 22 on) are explained with it, as
// `glrun explain --ci` would be; --no-ci explains them from the log alone, to show what the YAML adds.
//
//   node bench/diagnose-accuracy.mjs [--json] [--show-heldout] [--new-heldout] [--dev-only] [--no-ci]
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const corpus = join(root, 'test/fixtures/diagnose/real')
const args = new Set(process.argv.slice(2))

let engine
try {
  engine = {
    ...(await import(join(root, 'dist/diagnose/engine.js'))),
    ...(await import(join(root, 'dist/diagnose/trace.js'))),
  }
} catch (e) {
  process.stderr.write(`cannot load the built engine (${e.message}); run \`npm run build\` first\n`)
  process.exit(2)
}

const split = JSON.parse(readFileSync(join(corpus, 'split.json'), 'utf8'))
const heldout = new Set(split.heldout)
const entries = readdirSync(corpus)
  .filter((f) => /^\d+.*\.json$/.test(f))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(corpus, f), 'utf8')))

function explain(entry) {
  const ev = { trace: engine.parseTrace(entry.log) }
  if (entry.executor && entry.executor !== 'unknown') ev.executor = entry.executor
  if (entry.ci && !args.has('--no-ci')) ev.ciYaml = entry.ci
  const report = engine.diagnose(ev)
  return report.diagnoses.map((d) => d.category)
}

// The kind-of-failure answers of src/diagnose/fallback.ts (no known pattern matched).
const FALLBACK = new Set(['user_script_failure', 'runner_system_failure', 'infrastructure_failure'])

const results = entries.map((e) => {
  const got = explain(e)
  const rank = got.indexOf(e.category)
  return { id: e.id, category: e.category, got: got.slice(0, 3), top1: rank === 0, top3: rank >= 0 && rank < 3, split: heldout.has(e.id) ? 'heldout' : 'dev' }
})

function score(rows) {
  const n = rows.length
  const t1 = rows.filter((r) => r.top1).length
  const t3 = rows.filter((r) => r.top3).length
  return { n, top1: t1, top3: t3, top1Pct: n ? (100 * t1) / n : 0, top3Pct: n ? (100 * t3) / n : 0 }
}

const dev = results.filter((r) => r.split === 'dev')
const held = results.filter((r) => r.split === 'heldout')
// The held-out entries of each later collection pass (split.json heldout_batch<N>), totals only.
const batches = Object.keys(split).filter((k) => /^heldout_batch\d+$/.test(k)).sort((a, b) => Number(a.slice(13)) - Number(b.slice(13)))
const inBatch = new Set(batches.flatMap((k) => split[k]))
const summary = args.has('--dev-only') ? { dev: score(dev) } : { dev: score(dev), heldout: score(held) }
if (args.has('--new-heldout') && !args.has('--dev-only')) {
  summary.heldoutOld = score(held.filter((r) => !inBatch.has(r.id)))
  summary.heldoutBatches = Object.fromEntries(batches.map((k) => [k.replace('heldout_', ''), score(held.filter((r) => split[k].includes(r.id)))]))
  // Logs whose cause is the job's own script (user_script_failure) get the kind-of-failure answer when
  // nothing else matches; the rest (runner, image, network, registry, …) are the troubleshooter's real test.
  const script = (r) => r.category === 'user_script_failure'
  summary.byKind = {
    dev: { script: score(dev.filter(script)), environment: score(dev.filter((r) => !script(r))) },
    heldout: { script: score(held.filter(script)), environment: score(held.filter((r) => !script(r))) },
  }
  // What the misses of environment failures got first, in totals: the kind-of-failure answer (no rule
  // fired), another class (a rule fired on the wrong cause), or nothing.
  const missKinds = (rows) => {
    const m = rows.filter((r) => !script(r) && !r.top1)
    return { kindOfFailure: m.filter((r) => FALLBACK.has(r.got[0])).length, otherClass: m.filter((r) => r.got[0] && !FALLBACK.has(r.got[0])).length, nothing: m.filter((r) => !r.got[0]).length }
  }
  summary.environmentMisses = { dev: missKinds(dev), heldout: missKinds(held) }
}

if (args.has('--json')) {
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`)
  process.exit(0)
}

const pct = (x) => `${x.toFixed(1)}%`.padStart(6)
const line = (name, s) => `${name.padEnd(9)} n=${String(s.n).padStart(3)}  top-1 ${String(s.top1).padStart(3)} ${pct(s.top1Pct)}  top-3 ${String(s.top3).padStart(3)} ${pct(s.top3Pct)}`
const out = ['diagnose accuracy on real failure logs', line('dev', summary.dev)]
if (summary.heldout) out.push(line('held-out', summary.heldout))
if (summary.heldoutOld) {
  out.push(`  ${line('batches 1-2', summary.heldoutOld)}`)
  for (const [b, s] of Object.entries(summary.heldoutBatches).filter(([, x]) => x.n > 0)) out.push(`  ${line(b.replace('batch', 'batch '), s)}  (split.json heldout_${b})`)
  out.push('by kind of cause (label user_script_failure or any other):')
  for (const split of ['dev', 'heldout']) {
    for (const kind of ['script', 'environment']) out.push(`  ${line(`${split === 'dev' ? 'dev' : 'held-out'} ${kind}`.padEnd(20), summary.byKind[split][kind])}`)
  }
  out.push('environment failures not named first, by what came first (totals):')
  for (const split of ['dev', 'heldout']) {
    const m = summary.environmentMisses[split]
    out.push(`  ${(split === 'dev' ? 'dev' : 'held-out').padEnd(9)} kind-of-failure answer ${m.kindOfFailure}, another class ${m.otherClass}, nothing ${m.nothing}`)
  }
}
out.push('')

// Per-category table, development split only (a held-out breakdown would be tuning material).
const cats = new Map()
for (const r of dev) {
  const c = cats.get(r.category) ?? { n: 0, t1: 0, t3: 0 }
  c.n++
  if (r.top1) c.t1++
  if (r.top3) c.t3++
  cats.set(r.category, c)
}
out.push('dev split per category:', `  ${'category'.padEnd(36)}   n  top1  top3`)
for (const [c, s] of [...cats].sort((a, b) => b[1].n - a[1].n || a[0].localeCompare(b[0]))) {
  out.push(`  ${c.padEnd(36)} ${String(s.n).padStart(3)} ${String(s.t1).padStart(5)} ${String(s.t3).padStart(5)}`)
}
const misses = (rows) => rows.filter((r) => !r.top1).map((r) => `  ${r.top3 ? '(top-3) ' : ''}${r.id}: want ${r.category}, got ${r.got.join(', ') || 'nothing'}`)
out.push('', 'dev split misses (not first):', ...misses(dev))
if (args.has('--show-heldout') && !args.has('--dev-only')) out.push('', 'held-out misses (report only, do not tune on these):', ...misses(held))
process.stdout.write(`${out.join('\n')}\n`)
