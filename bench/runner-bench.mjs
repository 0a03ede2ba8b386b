#!/usr/bin/env node
// Benchmark: `glrun runner` (the built dist) against the GitLab double on loopback.
//  1. N trivial shell jobs (GIT_STRATEGY none, `echo hi`, default 1,000) at `concurrent = 8`:
//     jobs per second, and the glrun process's memory — peak RSS (VmHWM) and RSS at job 100 and
//     at the last job (goal: >= 50 jobs/s, < 10 MB growth between the two).
//  2. One job printing M MB (default 100) streamed to the double: MB/s, and that GitLab's copy
//     is the runner's byte for byte (the double's crc32 check of the final PUT, and sha256 of
//     both copies).
// The double is TypeScript under test/: it is bundled with esbuild (a dev dependency) into a temp
// .mjs at start, together with the in-memory compiler the tests use, so nothing here is a copy.
// Usage: node bench/runner-bench.mjs [--jobs N] [--mb M] [--only jobs|trace] [--cpu-prof DIR]
//   [--node-flags "--flag …"] (node/V8 flags for glrun, to compare heap settings)
//   [--heap-snapshots DIR] (glrun writes a heap snapshot at job 100 and 20 jobs before the end)
// Memory is also read from inside glrun: a preload (written to the temp dir, run with --expose-gc)
// answers SIGWINCH with two full GCs and process.memoryUsage(), at job 100 and 8 jobs before the
// end (while the last jobs still run): heapUsed after GC is what the process keeps; RSS is that
// plus V8's young generation and what the allocator holds on to.
import { execFileSync, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const opt = (name, def) => (args.includes(name) ? args[args.indexOf(name) + 1] : def)
const jobsWanted = Number(opt('--jobs', 1000)) || 1000
const traceMb = Number(opt('--mb', 100)) || 100
const only = opt('--only', null)
const cpuProf = opt('--cpu-prof', null)
const heapSnaps = opt('--heap-snapshots', null)
const nodeFlags = (opt('--node-flags', '') ?? '').split(' ').filter(Boolean)
if (args.includes('--help')) {
  console.log('node bench/runner-bench.mjs [--jobs N] [--mb M] [--only jobs|trace] [--cpu-prof DIR] [--heap-snapshots DIR] [--node-flags "--flag …"]')
  process.exit(0)
}

if (!existsSync(join(root, 'dist', 'glrun.cjs'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' })
const bin = join(root, 'bin', 'glrun.js')
const work = mkdtempSync(join(tmpdir(), 'glrun-runner-bench-'))

// The double and the compiler, from their TypeScript sources, as one ESM file.
const loader = join(work, 'double.mjs')
await build({
  stdin: {
    contents: "export { startGitLabDouble } from './test/support/gitlab-double/server.ts'\nexport { compileYaml } from './test/support/compile-yaml.ts'\n",
    resolveDir: root, loader: 'ts', sourcefile: 'bench-double-entry.ts',
  },
  bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: loader, logLevel: 'warning',
  packages: 'external',
})
// External packages resolve from the bundle's directory: give it the project's node_modules.
execFileSync('ln', ['-s', join(root, 'node_modules'), join(work, 'node_modules')])
const { startGitLabDouble, compileYaml } = await import(pathToFileURL(loader).href)

// The preload: SIGWINCH (ignored by default, unused by glrun) → gc, gc, memoryUsage() as a JSON line.
const gcLog = join(work, 'gc.jsonl')
const preload = join(work, 'gc-probe.cjs')
writeFileSync(preload, `process.on('SIGWINCH', () => { globalThis.gc(); globalThis.gc(); const m = process.memoryUsage(); m.spaces = Object.fromEntries(require('node:v8').getHeapSpaceStatistics().map((s) => [s.space_name, [s.space_size, s.space_used_size]])); require('node:fs').appendFileSync(${JSON.stringify(gcLog)}, JSON.stringify(m) + '\\n') })\n`)
const gcProbes = () => (existsSync(gcLog) ? readFileSync(gcLog, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [])

const mib = (kb) => kb / 1024
function procStatus(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? 0)
    return { rss: kb('VmRSS'), hwm: kb('VmHWM'), anon: kb('RssAnon'), file: kb('RssFile') }
  } catch {
    return null
  }
}

/** CPU seconds (user + system) the process has used so far; its children are not counted. */
function cpuSeconds(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(f[11]) + Number(f[12])) / 100 // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0
  }
}

/**
 * Runs `glrun runner` until it has taken `maxBuilds` jobs. `onFinished(n, pid)` is called on each
 * "job finished" line of the operator log (JSON lines on stderr), in the order they come.
 */
function runRunner(gl, name, maxBuilds, extraToml, onFinished) {
  const token = gl.state.addRunner().token
  const config = join(work, `${name}.toml`)
  writeFileSync(config, `concurrent = 8\ncheck_interval = 3\n[[runners]]\n  name = "${name}"\n  url = "${gl.url}"\n  token = "${token}"\n  executor = "shell"\n${extraToml}`)
  const node = ['--expose-gc', '--require', preload, ...nodeFlags, ...(cpuProf ? ['--cpu-prof', '--cpu-prof-dir', cpuProf] : []), ...(heapSnaps ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${heapSnaps}`] : [])]
  const child = spawn(process.execPath, [...node, bin, 'runner', '--config', config, '--max-builds', String(maxBuilds), '--work-dir', join(work, `work-${name}`)], { stdio: ['ignore', 'ignore', 'pipe'] })
  let finished = 0
  let firstReceived = null
  let lastFinished = null
  let cpuAtFirst = 0
  let cpuAtLast = 0
  let peakKb = 0
  let buf = ''
  const errors = []
  const sampler = setInterval(() => { const s = procStatus(child.pid); if (s) peakKb = Math.max(peakKb, s.hwm) }, 100)
  child.stderr.on('data', (d) => {
    buf += d.toString()
    let nl
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl)
      buf = buf.slice(nl + 1)
      let e
      try { e = JSON.parse(line) } catch { errors.push(line); continue }
      if (e.msg === 'job received' && firstReceived === null) {
        firstReceived = performance.now()
        cpuAtFirst = cpuSeconds(child.pid)
      }
      if (e.msg === 'job finished') {
        finished++
        lastFinished = performance.now()
        cpuAtLast = cpuSeconds(child.pid)
        const s = procStatus(child.pid)
        if (s) peakKb = Math.max(peakKb, s.hwm)
        onFinished?.(finished, child.pid, s, e)
      }
      if (e.level === 'warn' || e.level === 'error') errors.push(line)
    }
  })
  const started = performance.now()
  return new Promise((resolve) => child.on('close', (code) => {
    clearInterval(sampler)
    resolve({ code, errors, finished, wallS: (performance.now() - started) / 1000, jobsS: ((lastFinished ?? 0) - (firstReceived ?? 0)) / 1000, peakMiB: mib(peakKb), cpuS: cpuAtLast - cpuAtFirst })
  }))
}

let nextId = 900_000
async function enqueueMany(gl, yaml, count) {
  const pipeline = await compileYaml(`variables: { GIT_STRATEGY: none }\n${yaml}`)
  const ids = []
  for (let i = 0; i < count; i++) for (const j of pipeline.jobs) ids.push(gl.state.enqueue({ ...j.payload, id: nextId++ }).id)
  return ids
}

let failed = false
const gl = await startGitLabDouble({ longPollMs: 500, finalisingPuts: 0 })
try {
  if (only !== 'trace') {
    const ids = await enqueueMany(gl, 'trivial:\n  script: [echo hi]\n', jobsWanted)
    const rss = {}
    const split = {}
    const r = await runRunner(gl, 'jobs', jobsWanted, '', (n, pid, s) => {
      if (s && (n % 100 === 0 || n === jobsWanted)) {
        rss[n] = mib(s.rss)
        split[n] = [mib(s.anon), mib(s.file)]
      }
      // Heap snapshots (after a full GC) at job 100 and near the end: what the process keeps.
      if (heapSnaps && (n === 100 || n === jobsWanted - 20)) process.kill(pid, 'SIGUSR2')
      if (n === 100 || n === jobsWanted - 8) process.kill(pid, 'SIGWINCH')
    })
    const probes = gcProbes()
    const ok = ids.filter((id) => gl.state.jobs.get(id).final?.state === 'success' && gl.state.jobs.get(id).final?.checksumMatches).length
    const growth = rss[100] === undefined ? 0 : rss[jobsWanted] - rss[100]
    console.log(`${jobsWanted} trivial shell jobs at concurrent = 8: ${(jobsWanted / r.jobsS).toFixed(1)} jobs/s (${r.jobsS.toFixed(2)} s from the first job received to the last finished; ${r.wallS.toFixed(2)} s with start and exit), ${ok}/${jobsWanted} succeeded with matching checksums`)
    console.log(`  glrun memory: peak RSS ${r.peakMiB.toFixed(1)} MiB, RSS at job 100 ${rss[100]?.toFixed(1) ?? '-'} MiB, at job ${jobsWanted} ${rss[jobsWanted]?.toFixed(1)} MiB (growth ${growth.toFixed(1)} MiB)`)
    // Anonymous memory is what the process allocated; file-backed pages are node's own binary and
    // libraries as new code paths touch them (shared, dropped by the kernel under pressure).
    if (split[100] && split[jobsWanted]) console.log(`  of the RSS growth: anonymous ${(split[jobsWanted][0] - split[100][0]).toFixed(1)} MiB, file-backed ${(split[jobsWanted][1] - split[100][1]).toFixed(1)} MiB`)
    console.log(`  glrun CPU time: ${(r.cpuS * 1000 / jobsWanted).toFixed(1)} ms per job (user + system, jobs' shells not counted)`)
    console.log(`  RSS every 100 jobs (MiB): ${Object.values(rss).map((v) => v.toFixed(0)).join(' ')}`)
    const mb = (b) => (b / 1048576).toFixed(1)
    if (probes.length === 2) {
      const [a, b] = probes
      console.log(`  after a full GC, job 100 → job ${jobsWanted - 8}: heapUsed ${mb(a.heapUsed)} → ${mb(b.heapUsed)} MiB (${b.heapUsed >= a.heapUsed ? '+' : ''}${mb(b.heapUsed - a.heapUsed)}), heapTotal ${mb(a.heapTotal)} → ${mb(b.heapTotal)}, external ${mb(a.external)} → ${mb(b.external)}, arrayBuffers ${mb(a.arrayBuffers)} → ${mb(b.arrayBuffers)}, RSS ${mb(a.rss)} → ${mb(b.rss)} MiB`)
      if (args.includes('--spaces')) for (const k of Object.keys(b.spaces)) console.log(`    ${k}: size ${mb(a.spaces[k][0])} → ${mb(b.spaces[k][0])}, used ${mb(a.spaces[k][1])} → ${mb(b.spaces[k][1])}`)
    }
    if (r.code !== 0 || ok !== jobsWanted) {
      failed = true
      console.log(`  runner exit ${r.code}; log lines of note:\n  ${r.errors.slice(0, 10).join('\n  ')}`)
    }
  }
  if (only !== 'jobs') {
    // `yes` prints lines of 100 bytes as fast as the pipe takes them: the producer is not the limit.
    // (Process substitution, not a pipe: under pipefail yes's SIGPIPE would fail the job.)
    const bytes = traceMb * 1024 * 1024
    const [id] = await enqueueMany(gl, `big:\n  script: ['head -c ${bytes} <(yes "$(printf "%099d" 0)")']\n`, 1)
    const r = await runRunner(gl, 'trace', 1, `  output_limit = ${traceMb * 1024 + 1024}\n`)
    const job = gl.state.jobs.get(id)
    const remote = gl.state.traceOf(id)
    const local = readFileSync(join(work, 'work-trace', 'jobs', String(id), 'trace.log'))
    const sha = (b) => createHash('sha256').update(b).digest('hex').slice(0, 16)
    const same = sha(remote) === sha(local)
    console.log(`${traceMb} MB trace streamed to the double: ${(remote.length / 1048576 / r.jobsS).toFixed(0)} MB/s (${(remote.length / 1048576).toFixed(1)} MiB in ${r.jobsS.toFixed(2)} s, job received to job finished), ${job.patches} PATCHes; final ${job.final?.state}, GitLab's crc32 check ${job.final?.checksumMatches ? 'matches' : 'DOES NOT match'}, bytesize ${job.final?.bytesizeMatches ? 'matches' : 'DOES NOT match'}, sha256 GitLab ${sha(remote)} / runner ${sha(local)}; glrun peak RSS ${r.peakMiB.toFixed(1)} MiB`)
    // Where the time went, from the double's request log: PATCHes (the stream) and the final PUT.
    const patches = gl.recorder.to('trace', id)
    const puts = gl.recorder.to('job-update', id).filter((q) => q.params?.state === 'success' || q.params?.state === 'failed')
    const firstPatch = patches[0].startedAt
    const lastPatchEnd = Math.max(...patches.map((q) => q.startedAt + (q.durationMs ?? 0)))
    const putEnd = Math.max(...puts.map((q) => q.startedAt + (q.durationMs ?? 0)))
    const patchMs = patches.reduce((t, q) => t + (q.durationMs ?? 0), 0)
    console.log(`  glrun CPU time over the job: ${r.cpuS.toFixed(2)} s (${(remote.length / 1048576 / r.cpuS).toFixed(0)} MB per CPU second)`)
    console.log(`  first PATCH to last PATCH answered: ${((lastPatchEnd - firstPatch) / 1000).toFixed(2)} s (${(remote.length / 1048576 / ((lastPatchEnd - firstPatch) / 1000)).toFixed(0)} MB/s; the double spent ${(patchMs / 1000).toFixed(2)} s answering PATCHes); last PATCH to final PUT answered: ${putEnd - lastPatchEnd} ms`)
    if (r.code !== 0 || !same || !job.final?.checksumMatches || remote.length < bytes) {
      failed = true
      console.log(`  runner exit ${r.code}; log lines of note:\n  ${r.errors.slice(0, 10).join('\n  ')}`)
    }
  }
} finally {
  await gl.close()
  rmSync(work, { recursive: true, force: true })
}
process.exitCode = failed ? 1 : 0
