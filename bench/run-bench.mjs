#!/usr/bin/env node
// Benchmark: `glrun run` on pipelines of trivial jobs (`echo hi`) at concurrency 2 —
// 200 jobs (5 stages x 40) with glrun alone, and 120 jobs (3 stages x 40) with glrun and with
// gitlab-ci-local's shell mode on the same repository. Prints wall clock, the ratio, and each
// tool's peak memory (max RSS, from /usr/bin/time). Usage: node bench/run-bench.mjs [--runs N]
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const work = process.env.GLRUN_BENCH_DIR ?? '/tmp/glrun-bench-run'
const gclPrefix = process.env.GCL_PREFIX ?? '/tmp/gcl'
const args = process.argv.slice(2)
const runs = Number(args[args.indexOf('--runs') + 1] || 3) || 3

function repo(name, stages, perStage) {
  const dir = join(work, name)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const lines = [`stages: [${Array.from({ length: stages }, (_, s) => `s${s + 1}`).join(', ')}]`]
  for (let s = 1; s <= stages; s++) for (let j = 1; j <= perStage; j++) lines.push(`job-s${s}-${String(j).padStart(2, '0')}:`, `  stage: s${s}`, '  script: [echo hi]')
  writeFileSync(join(dir, '.gitlab-ci.yml'), `${lines.join('\n')}\n`)
  writeFileSync(join(dir, '.gitignore'), '.gitlab-ci-local/\n')
  const git = (...a) => execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.com', ...a], { cwd: dir })
  git('init', '-q', '-b', 'main')
  git('remote', 'add', 'origin', `https://gitlab.com/bench/${name}.git`)
  git('add', '-A')
  git('commit', '-q', '-m', name)
  git('update-ref', 'refs/remotes/origin/main', 'HEAD')
  git('symbolic-ref', 'refs/remotes/origin/HEAD', 'refs/remotes/origin/main')
  return dir
}

/** Runs a command under /usr/bin/time; returns wall seconds and max RSS in MiB. */
function timed(cmd, argv, cwd) {
  const r = spawnSync('/usr/bin/time', ['-f', '__TIME__ %e %M', cmd, ...argv], { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 900_000 })
  const m = /__TIME__ ([\d.]+) (\d+)/.exec(r.stderr ?? '')
  if (r.status !== 0 || !m) return { failed: (r.stderr || r.stdout || '').trim().split('\n').slice(-2).join(' ') }
  return { s: Number(m[1]), mib: Number(m[2]) / 1024 }
}

function best(cmd, argv, cwd) {
  const samples = []
  for (let i = 0; i < runs; i++) {
    const t = timed(cmd, argv, cwd)
    if (t.failed) return t
    samples.push(t)
  }
  samples.sort((a, b) => a.s - b.s)
  return samples[Math.floor(samples.length / 2)]
}

if (!existsSync('/usr/bin/time')) execFileSync('bash', ['-c', 'apt-get update -qq && apt-get install -y -qq time >/dev/null'], { stdio: 'inherit' })
if (!existsSync(join(root, 'dist', 'glrun.cjs'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' })
const gcl = join(gclPrefix, 'bin', 'gitlab-ci-local')
if (!existsSync(gcl)) execFileSync('bash', [join(root, 'bench', 'gcl-setup.sh'), gclPrefix], { stdio: 'inherit' })
const glrun = [join(root, 'bin', 'glrun.js'), 'run', '--concurrency', '2']

const wide = repo('wide-200', 5, 40)
const three = repo('three-120', 3, 40)
const small = repo('small-40', 1, 40)
console.log(`median of ${runs} runs, concurrency 2, node ${process.version}`)
const g200 = best(process.execPath, glrun, wide)
console.log(`200 jobs (5x40)  glrun ${g200.s ?? g200.failed} s  peak ${g200.mib?.toFixed(0)} MiB  → ${(g200.s * 1000 / 200).toFixed(1)} ms per job`)
const g40 = best(process.execPath, glrun, small)
console.log(` 40 jobs (1x40)  glrun ${g40.s} s  peak ${g40.mib?.toFixed(0)} MiB  (memory vs 200 jobs: ${g40.mib && g200.mib ? (g200.mib / g40.mib).toFixed(2) : '-'}x)`)
const g120 = best(process.execPath, glrun, three)
const c120 = best(gcl, ['--concurrency', '2'], three)
console.log(`120 jobs (3x40)  glrun ${g120.s} s  peak ${g120.mib?.toFixed(0)} MiB | gitlab-ci-local ${c120.s ?? c120.failed} s  peak ${c120.mib?.toFixed(0) ?? '-'} MiB | glrun/gcl time ${c120.s ? (g120.s / c120.s).toFixed(2) : '-'}`)
