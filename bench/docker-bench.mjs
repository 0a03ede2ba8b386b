#!/usr/bin/env node
// Benchmark of the Docker executor on the test engine (scripts/test-env/docker.sh up):
//  1. per-job overhead: one trivial job (`true`) through glrun's whole job lifecycle on the Docker
//     executor (pull check, container create/start/wait/remove, trace), in-process, against a
//     bare `docker run --rm busybox:latest true` in the same run;
//  2. 20 trivial docker jobs (one stage, image busybox:latest): `glrun run --executor docker`
//     against gitlab-ci-local's docker mode on the same repository.
// Usage: node bench/docker-bench.mjs [--runs N]     Medians of N runs (default 5).
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const runs = Number(args[args.indexOf('--runs') + 1] || 5) || 5
const DOCKER_HOST = execFileSync('bash', [join(root, 'scripts/test-env/docker.sh'), 'up'], { encoding: 'utf8' }).trim()
const env = { ...process.env, DOCKER_HOST, NO_COLOR: '1' }
if (!existsSync(join(root, 'dist', 'glrun.cjs'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' })

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6
function wall(cmd, argv, cwd) {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(cmd, argv, { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 600_000 })
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed:\n${(r.stderr || r.stdout).slice(-2000)}`)
  return ms(t0)
}

// 1. Per-job overhead.
const { DockerExecutor } = await import(join(root, 'dist/executors/docker/docker-executor.js'))
const { runJob } = await import(join(root, 'dist/job/run-job.js'))
const { localStores } = await import(join(root, 'dist/job/artifacts/stores.js'))
const { TraceWriter } = await import(join(root, 'dist/trace/trace-writer.js'))
const { Masker } = await import(join(root, 'dist/trace/masker.js'))
const { MemorySink } = await import(join(root, 'dist/trace/sinks/memory-sink.js'))
const scratch = mkdtempSync(join(tmpdir(), 'glrun-docker-bench-'))
const executor = new DockerExecutor({ host: DOCKER_HOST, image: 'busybox:latest', pullPolicy: ['if-not-present'] })
await executor.engine()
const job = {
  id: 1, token: 'glcbt-bench', allow_git_fetch: true,
  job_info: { name: 'bench', stage: 'test', pipeline_id: 1, project_id: 1, project_name: 'bench', project_full_path: 'g/bench' },
  git_info: { repo_url: '', ref: 'main', sha: '0'.repeat(40), before_sha: '0'.repeat(40), ref_type: 'branch', refspecs: [], depth: 0 },
  runner_info: { timeout: 60 }, variables: [{ key: 'GIT_STRATEGY', value: 'none', public: true }],
  steps: [{ name: 'script', script: ['true'], timeout: 60, when: 'on_success', allow_failure: false }],
  image: { name: 'busybox:latest' }, services: [], artifacts: null, cache: null, credentials: [], dependencies: [],
  features: { trace_sections: true, failure_reasons: [] },
}
const bare = []
const glrunJob = []
wall('docker', ['run', '--rm', 'busybox:latest', 'true'])
for (let i = 0; i < runs; i++) {
  bare.push(wall('docker', ['run', '--rm', 'busybox:latest', 'true']))
  const t0 = process.hrtime.bigint()
  const trace = new TraceWriter({ masker: new Masker([]), sinks: [new MemorySink()] })
  const o = await runJob({ job, executor, trace, buildsDir: join(scratch, 'builds'), ...localStores(join(scratch, 'store')), signal: new AbortController().signal })
  await trace.close()
  if (o.status !== 'success') throw new Error(`bench job failed: ${JSON.stringify(o)}`)
  glrunJob.push(ms(t0))
}
const b = median(bare)
const g = median(glrunJob)
console.log(`per-job: docker run --rm busybox:latest true  median ${b.toFixed(0)} ms`)
console.log(`per-job: glrun docker job (true)             median ${g.toFixed(0)} ms   ratio ${(g / b).toFixed(2)}x (target <= 1.5x)`)

// 2. 20 trivial docker jobs, glrun vs gitlab-ci-local.
const repo = join(scratch, 'twenty')
mkdirSync(repo, { recursive: true })
const lines = ['image: busybox:latest']
for (let j = 1; j <= 20; j++) lines.push(`job-${String(j).padStart(2, '0')}:`, '  script: [echo hi]')
writeFileSync(join(repo, '.gitlab-ci.yml'), `${lines.join('\n')}\n`)
writeFileSync(join(repo, '.gitignore'), '.gitlab-ci-local/\n.glrun/\n')
const git = (...a) => execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.com', ...a], { cwd: repo })
git('init', '-q', '-b', 'main')
git('remote', 'add', 'origin', 'https://gitlab.com/bench/twenty.git')
git('add', '-A')
git('commit', '-q', '-m', 'twenty')
git('update-ref', 'refs/remotes/origin/main', 'HEAD')

const gclPrefix = process.env.GCL_PREFIX ?? '/tmp/gcl'
const gcl = join(gclPrefix, 'bin', 'gitlab-ci-local')
if (!existsSync(gcl)) execFileSync('bash', [join(root, 'bench', 'gcl-setup.sh'), gclPrefix], { stdio: 'inherit' })
const glrunArgs = (c) => [join(root, 'bin', 'glrun.js'), 'run', '--executor', 'docker', '--concurrency', String(c)]
// gitlab-ci-local's helper image cannot be pulled here; busybox does its job for jobs without artifacts.
const gclArgs = ['--helper-image', 'busybox:latest']
const rows = []
for (const [name, cmd, argv] of [
  ['glrun (concurrency 2)', process.execPath, glrunArgs(2)],
  ['glrun (concurrency 20)', process.execPath, glrunArgs(20)],
  ['gitlab-ci-local', gcl, gclArgs],
]) {
  try {
    wall(cmd, argv, repo)
    const xs = []
    for (let i = 0; i < runs; i++) xs.push(wall(cmd, argv, repo))
    rows.push([name, median(xs)])
  } catch (e) {
    rows.push([name, NaN, String(e.message).split('\n').slice(0, 6).join(' | ')])
  }
}
const gclMs = rows.find((r) => r[0] === 'gitlab-ci-local')[1]
for (const [name, t, err] of rows) {
  console.log(`20 docker jobs: ${name.padEnd(24)} ${Number.isNaN(t) ? `FAILED: ${err}` : `median ${(t / 1000).toFixed(2)} s${Number.isNaN(gclMs) || name === 'gitlab-ci-local' ? '' : `   ratio to gitlab-ci-local ${(t / gclMs).toFixed(2)}`}`}`)
}
rmSync(scratch, { recursive: true, force: true })
