#!/usr/bin/env node
// How far a reader who knows the field gets on the same logs the engine reads: the answers of blind
// readers (helpers given only an entry's log, executor and YAML, plus docs/failure-taxonomy.md, with no
// access to the thread, the labels, the code or any search; method in
// test/fixtures/diagnose/blind-readers/README.md), scored against the entries' labels next to the built
// engine (`npm run build` first) on the very same entries.
//
// It answers one question the accuracy bench cannot: when the engine misses, is the cause absent from
// the log (no reader could name it) or is it there and the engine's rules do not know it? Totals only,
// as for the held-out split in diagnose-accuracy.mjs: no entry of the held-out split is ever named.
//
//   node bench/blind-readers.mjs [--json]
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const corpus = join(root, 'test/fixtures/diagnose/real')
let engine
try {
  engine = { ...(await import(join(root, 'dist/diagnose/engine.js'))), ...(await import(join(root, 'dist/diagnose/trace.js'))) }
} catch (e) {
  process.stderr.write(`cannot load the built engine (${e.message}); run \`npm run build\` first\n`)
  process.exit(2)
}

const split = JSON.parse(readFileSync(join(corpus, 'split.json'), 'utf8'))
const heldout = new Set(split.heldout)
const entries = new Map(
  readdirSync(corpus)
    .filter((f) => /^\d+.*\.json$/.test(f))
    .map((f) => JSON.parse(readFileSync(join(corpus, f), 'utf8')))
    .map((e) => [e.id, e]),
)

function engineAnswers(entry) {
  const ev = { trace: engine.parseTrace(entry.log) }
  if (entry.executor && entry.executor !== 'unknown') ev.executor = entry.executor
  if (entry.ci) ev.ciYaml = entry.ci
  return engine.diagnose(ev).diagnoses.map((d) => d.category)
}

const answers = readFileSync(join(root, 'test/fixtures/diagnose/blind-readers/answers.tsv'), 'utf8')
  .split('\n')
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => {
    const [id, reader, ranked, shown] = l.split('\t')
    return { id, reader, ranked: ranked.split(','), shown }
  })

const engineCache = new Map()
const rows = answers.map((a) => {
  const entry = entries.get(a.id)
  if (!entry) throw new Error(`blind-readers/answers.tsv names ${a.id}, which is not in the corpus`)
  if (!engineCache.has(a.id)) engineCache.set(a.id, engineAnswers(entry))
  const got = engineCache.get(a.id)
  const r = a.ranked.indexOf(entry.category)
  const g = got.indexOf(entry.category)
  return {
    split: heldout.has(a.id) ? 'held-out' : 'dev',
    kind: entry.category === 'user_script_failure' ? 'script' : 'environment',
    resolved: entry.resolved === true,
    shown: a.shown,
    reader1: r === 0,
    reader3: r >= 0 && r < 3,
    engine1: g === 0,
    engine3: g >= 0 && g < 3,
  }
})

const count = (xs, f) => xs.filter(f).length
function tally(xs) {
  return {
    n: xs.length,
    reader: { top1: count(xs, (x) => x.reader1), top3: count(xs, (x) => x.reader3) },
    engine: { top1: count(xs, (x) => x.engine1), top3: count(xs, (x) => x.engine3) },
    // The engine's first answers plus the reader's where the engine's first is wrong: what a reader
    // who took over only the engine's misses would reach.
    either1: count(xs, (x) => x.engine1 || x.reader1),
  }
}

const summary = {}
for (const s of ['dev', 'held-out']) {
  const xs = rows.filter((x) => x.split === s)
  const envMiss = xs.filter((x) => x.kind === 'environment' && !x.engine1)
  summary[s] = {
    all: tally(xs),
    script: tally(xs.filter((x) => x.kind === 'script')),
    environment: tally(xs.filter((x) => x.kind === 'environment')),
    // Entries whose thread settled the cause (resolved: true) against those labelled with the collector's
    // best reading of an unsettled thread: the label itself is less sure there.
    resolved: tally(xs.filter((x) => x.resolved)),
    unresolved: tally(xs.filter((x) => !x.resolved)),
    environmentMissedByEngine: {
      n: envMiss.length,
      readerTop1: count(envMiss, (x) => x.reader1),
      shown: Object.fromEntries(['yes', 'partly', 'no'].map((v) => [v, { n: count(envMiss, (x) => x.shown === v), readerTop1: count(envMiss, (x) => x.shown === v && x.reader1) }])),
    },
  }
}

if (process.argv.includes('--json')) {
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`)
  process.exit(0)
}
const pct = (k, n) => `${String(k).padStart(3)} ${n ? ((100 * k) / n).toFixed(1).padStart(5) : '  -  '}%`
const out = ['blind readers and the engine on the same entries (answers: test/fixtures/diagnose/blind-readers/answers.tsv)']
for (const [s, t] of Object.entries(summary)) {
  out.push(`${s}:`)
  for (const kind of ['all', 'script', 'environment', 'resolved', 'unresolved']) {
    const x = t[kind]
    out.push(`  ${kind.padEnd(12)} n=${String(x.n).padStart(3)}  reader top-1 ${pct(x.reader.top1, x.n)} top-3 ${pct(x.reader.top3, x.n)}   engine top-1 ${pct(x.engine.top1, x.n)} top-3 ${pct(x.engine.top3, x.n)}   engine or reader first ${pct(x.either1, x.n)}`)
  }
  const m = t.environmentMissedByEngine
  const by = ['yes', 'partly', 'no'].map((v) => `${v} ${m.shown[v].readerTop1}/${m.shown[v].n}`).join(', ')
  out.push(`  environment failures the engine does not name first: ${m.n}; a reader names ${m.readerTop1} first (by the reader's "log shows the cause": ${by})`)
}
process.stdout.write(`${out.join('\n')}\n`)
