#!/usr/bin/env node
// Benchmark: `glrun list` vs `gitlab-ci-local --list` on the same inputs: every pipeline of the
// corpus in test/fixtures/corpus (non-local includes rewritten, for both tools, to the same local stand-ins from
// test/fixtures/corpus-stubs) and a generated 2,000-job pipeline. Prints wall-clock medians and
// the gitlab-ci-local/glrun ratio. Usage: npm run bench [-- --runs N] [-- --only NAME]
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isMap, isSeq, parseAllDocuments } from 'yaml'
import { generatePipeline } from './gen-pipeline.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const stubs = join(root, 'test', 'fixtures', 'corpus-stubs')
const corpus = join(root, 'test', 'fixtures', 'corpus', 'pipelines')
const work = process.env.GLRUN_BENCH_DIR ?? '/tmp/glrun-bench-list'
const gclPrefix = process.env.GCL_PREFIX ?? '/tmp/gcl'
const args = process.argv.slice(2)
const runs = Number(args[args.indexOf('--runs') + 1] || 5) || 5
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined

function sh(cmd, argv, opts = {}) {
  return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts })
}

function ensureGcl() {
  const bin = join(gclPrefix, 'bin', 'gitlab-ci-local')
  if (!existsSync(bin)) {
    console.log(`installing gitlab-ci-local into ${gclPrefix} (once) ...`)
    execFileSync('bash', [join(root, 'bench', 'gcl-setup.sh'), gclPrefix], { stdio: 'inherit' })
  }
  return bin
}

/** A git repository on branch main with origin and origin/HEAD set, so gitlab-ci-local prints no fallback warnings. */
function commitRepo(dir, name) {
  writeFileSync(join(dir, '.gitignore'), '.gitlab-ci-local/\n.glrun/\n')
  const git = (...a) => sh('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.com', ...a], { cwd: dir })
  git('init', '-q', '-b', 'main')
  git('remote', 'add', 'origin', `https://gitlab.com/bench/${name}.git`)
  git('add', '-A')
  git('commit', '-q', '-m', `bench ${name}`)
  git('update-ref', 'refs/remotes/origin/main', 'HEAD')
  git('symbolic-ref', 'refs/remotes/origin/HEAD', 'refs/remotes/origin/main')
}

/** Rewrites project/component/template includes to local copies of the stand-ins (same for both tools). */
function localiseIncludes(dir) {
  cpSync(stubs, join(dir, '.bench-stubs'), { recursive: true })
  const files = []
  const walk = (d) => readdirSync(d).forEach((n) => {
    const p = join(d, n)
    if (n === '.git' || n === '.bench-stubs') return
    if (statSync(p).isDirectory()) walk(p)
    else if (/\.ya?ml$/.test(n)) files.push(p)
  })
  walk(dir)
  for (const file of files) {
    const text = readFileSync(file, 'utf8')
    if (!/^include:|\n\s*-?\s*(project|component|template):/m.test(text)) continue
    const docs = parseAllDocuments(text, { version: '1.1', customTags: [{ tag: '!reference', collection: 'seq', resolve: (s) => s }] })
    const doc = docs.at(-1) // the config follows an optional `spec:` header document
    const body = isMap(doc.contents) ? doc.contents : undefined
    const include = body?.get('include', true)
    if (!include) continue
    const items = isSeq(include) ? include.items : [include]
    let changed = false
    for (const item of items) {
      if (!isMap(item)) continue
      const project = item.get('project')
      const component = item.get('component')
      const template = item.get('template')
      let local
      if (project) {
        const file = String(item.get('file')).replace(/^\/+/, '')
        local = `.bench-stubs/projects/${project}/${file}`
        item.delete('project'); item.delete('file'); item.delete('ref')
      } else if (component) {
        const m = /^[^/]+\/(.+)\/([^/@]+)@/.exec(String(component))
        local = `.bench-stubs/projects/${m[1]}/templates/${m[2]}.yml`
        item.delete('component')
      } else if (template) {
        local = `.bench-stubs/templates/${template}`
        item.delete('template')
      } else continue
      item.set('local', local)
      changed = true
    }
    if (changed) writeFileSync(file, docs.map((d) => d.toString({ lineWidth: 0 })).join(''))
  }
}

function prepare() {
  rmSync(work, { recursive: true, force: true })
  mkdirSync(work, { recursive: true })
  const inputs = []
  for (const name of readdirSync(corpus).sort()) {
    const dir = join(work, name)
    cpSync(join(corpus, name), dir, { recursive: true })
    localiseIncludes(dir)
    commitRepo(dir, name.toLowerCase().replace(/_+/g, '-'))
    inputs.push({ name, dir })
  }
  const gen = join(work, 'generated-2000')
  mkdirSync(gen)
  writeFileSync(join(gen, '.gitlab-ci.yml'), generatePipeline(2000))
  commitRepo(gen, 'generated')
  inputs.push({ name: 'generated-2000', dir: gen })
  return inputs
}

function time(cmd, argv, cwd) {
  const t = process.hrtime.bigint()
  const r = spawnSync(cmd, argv, { cwd, encoding: 'utf8', timeout: 300_000, maxBuffer: 64 * 1024 * 1024 })
  const ms = Number(process.hrtime.bigint() - t) / 1e6
  return { ms, ok: r.status === 0, out: r.stdout ?? '', err: (r.stderr ?? '') + (r.error ? String(r.error) : '') }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

function measure(cmd, argv, cwd) {
  const first = time(cmd, argv, cwd) // warm-up (also the correctness sample)
  if (!first.ok) return { failed: (first.err || first.out).trim().split('\n').slice(-1)[0] ?? 'failed' }
  const samples = []
  for (let i = 0; i < runs; i++) samples.push(time(cmd, argv, cwd).ms)
  return { ms: median(samples), out: first.out }
}

const gcl = ensureGcl()
const glrun = join(root, 'bin', 'glrun.js')
if (!existsSync(join(root, 'dist', 'glrun.cjs'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' })
console.log(`node ${process.version}, ${runs} runs per input (median), gitlab-ci-local ${sh(gcl, ['--version']).trim()}`)
const rows = [['input', 'jobs', 'glrun ms', 'gitlab-ci-local ms', 'ratio (gcl/glrun)']]
for (const input of prepare().filter((i) => !only || i.name === only)) {
  const g = measure(process.execPath, [glrun, 'list', '--json'], input.dir)
  const jobs = g.out ? JSON.parse(g.out).jobs.length : '?'
  const c = measure(gcl, ['--list'], input.dir)
  const ratio = g.ms && c.ms ? (c.ms / g.ms).toFixed(1) : '-'
  rows.push([input.name, String(jobs), g.ms ? g.ms.toFixed(0) : `failed: ${g.failed}`, c.ms ? c.ms.toFixed(0) : `failed: ${c.failed}`, ratio])
  console.log(rows.at(-1).join('  '))
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
console.log(`\n${rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ')).join('\n')}`)
