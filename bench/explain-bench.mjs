#!/usr/bin/env node
// Benchmark: `glrun explain` on a generated GitLab job log of N MB (default 500 and 600, the
// second over V8's 512 MB string limit that the whole-file reader hit). The log looks like a real
// raw trace: runner header and section markers, ANSI colours, `\r` progress-bar rewrites, a long
// step_script of build output (compiler lines, package installs, test results, some warnings),
// collapsible user sections, and a dind failure at the end (the job's docker CLI cannot reach
// tcp://docker:2375 because no docker:dind service was started). Prints wall time, peak RSS
// ("Maximum resident set size" of /usr/bin/time -v), CPU time (user + system) and the top
// diagnosis for each size.
// Usage: node bench/explain-bench.mjs [--mb 500,600] [--keep]   (needs `npm run build` first)
import { execFileSync, spawnSync } from 'node:child_process'
import { createWriteStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
if (!existsSync(join(root, 'dist', 'glrun.cjs'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' })
const args = process.argv.slice(2)
const at = args.indexOf('--mb')
const sizes = (at >= 0 ? args[at + 1] ?? '' : '500,600').split(',').map(Number).filter((n) => n > 0)
const keep = args.includes('--keep')

const ESC = '\x1b'
const green = (s) => `${ESC}[32;1m${s}${ESC}[0;m`
const head = (s) => `${ESC}[0K${ESC}[36;1m${s}${ESC}[0;m${ESC}[0;m`
let clock = 1732010000
const start = (name, title) => `section_start:${clock++}:${name}\r${ESC}[0K${head(title)}\n`
const end = (name) => `section_end:${clock++}:${name}\r${ESC}[0K`

const preamble = [
  `${ESC}[0KRunning with gitlab-runner 17.5.0 (c6eae8ea)${ESC}[0;m\n`,
  `${ESC}[0K  on docker-runner-1 t3_xZ8sQw, system ID: s_4c1b9e0f7a21${ESC}[0;m\n`,
  start('prepare_executor', 'Preparing the "docker" executor'),
  `${ESC}[0KUsing Docker executor with image docker:24.0.5 ...${ESC}[0;m\n`,
  `${ESC}[0KPulling docker image docker:24.0.5 ...${ESC}[0;m\n`,
  `${ESC}[0KUsing docker image sha256:0c4e5a1f3b2d for docker:24.0.5 with digest docker@sha256:1f2e3d4c5b6a79880f1e2d3c4b5a69788f0e1d2c3b4a59687f0e1d2c3b4a5968 ...${ESC}[0;m\n`,
  end('prepare_executor'), start('prepare_script', 'Preparing environment'),
  'Running on runner-t3xz8sqw-project-42-concurrent-0 via build-host-1...\n',
  end('prepare_script'), start('get_sources', 'Getting source from Git repository'),
  `${green('Fetching changes with git depth set to 20...')}\n`,
  'Initialized empty Git repository in /builds/acme/webapp/.git/\n',
  `${green('Created fresh repository.')}\n`,
  `${green('Checking out 1a2b3c4d as detached HEAD (ref is main)...')}\n`,
  '\n', `${green('Skipping Git submodules setup')}\n`,
  end('get_sources'), start('step_script', 'Executing "step_script" stage of the job script'),
  `${green('$ npm ci && npm run build && npm test')}\n`,
].join('')

/** One block of build output (~64 KB): what a long C++/JS build and test run print. */
function block(i) {
  const out = []
  out.push(`section_start:${clock++}:build_part_${i}[collapsed=true]\r${ESC}[0K${green(`Building part ${i}`)}\n`)
  for (let j = 0; j < 110; j++) {
    const n = i * 1000 + j
    out.push(`[${String(j).padStart(3)}%] ${ESC}[32mBuilding CXX object src/module_${n % 97}/CMakeFiles/mod.dir/file_${n}.cpp.o${ESC}[0m\n`)
    if (j % 10 === 0) out.push(`npm http fetch GET 200 https://registry.npmjs.org/package-${n % 331}/-/package-${n % 331}-1.${j}.0.tgz ${20 + (n % 400)}ms (cache miss)\n`)
    if (j % 25 === 0) {
      // A progress bar redrawn with carriage returns on one line.
      let bar = ''
      for (let p = 0; p <= 100; p += 20) bar += `\rDownloading layer ${n.toString(16)}: [${'='.repeat(p / 5).padEnd(20)}] ${p}%`
      out.push(`${bar}\n`)
    }
    if (j % 37 === 0) out.push(`src/module_${n % 97}/file_${n}.cpp:${12 + j}:7: ${ESC}[35mwarning:${ESC}[0m unused variable 'tmp' [-Wunused-variable]\n`)
    out.push(`  ${ESC}[32m✓${ESC}[0m test suite ${n % 53} › renders item ${j} with props {"id": ${n}, "label": "item-${j}"} (${j % 9} ms)\n`)
  }
  out.push(`Tests: ${110 * (i + 1)} passed, ${110 * (i + 1)} total\n`)
  out.push(`section_end:${clock++}:build_part_${i}\r${ESC}[0K\n`)
  return out.join('')
}

const failure = [
  `${green('$ docker build -t "$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA" .')}\n`,
  'error during connect: Post "http://docker:2375/v1.24/build?buildargs=%7B%7D&t=registry.example.com%2Facme%2Fwebapp": dial tcp: lookup docker on 10.0.0.2:53: no such host\n',
  end('step_script'), start('cleanup_file_variables', 'Cleaning up project directory and file based variables'),
  end('cleanup_file_variables'), `${ESC}[31;1mERROR: Job failed: exit code 1${ESC}[0;m\n`,
].join('')

async function generate(file, mb) {
  const w = createWriteStream(file)
  const target = mb * 1024 * 1024 - failure.length
  let written = 0
  const put = (s) => {
    written += Buffer.byteLength(s)
    return w.write(s) ? Promise.resolve() : new Promise((r) => w.once('drain', r))
  }
  await put(preamble)
  for (let i = 0; written < target; i++) await put(block(i))
  await put(failure)
  await new Promise((r) => w.end(r))
}

const dir = mkdtempSync(join(tmpdir(), 'glrun-explain-bench-'))
try {
  for (const mb of sizes) {
    const file = join(dir, `job-${mb}.log`)
    await generate(file, mb)
    const size = statSync(file).size
    const t0 = process.hrtime.bigint()
    const r = spawnSync('/usr/bin/time', ['-v', process.execPath, join(root, 'bin', 'glrun.js'), 'explain', '--json', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1] ?? 0)
    // CPU time as well: on a shared machine the wall clock also measures the neighbours.
    const cpu = Number(/User time \(seconds\): ([\d.]+)/.exec(r.stderr)?.[1] ?? 0) + Number(/System time \(seconds\): ([\d.]+)/.exec(r.stderr)?.[1] ?? 0)
    let top = 'none'
    try {
      const report = JSON.parse(r.stdout)
      top = `${report.diagnoses[0]?.category ?? 'none'} (phase ${report.phase}, exit ${report.exit_code}, evidence L${report.diagnoses[0]?.evidence.map((e) => e.line).join(',L')})`
    } catch {
      top = `failed (exit ${r.status}): ${r.stderr.split('\n').filter((l) => !/^\s+\w.*: /.test(l) || /Command exited/.test(l)).slice(0, 3).join(' | ').slice(0, 300)}`
    }
    console.log(`${mb} MB (${(size / 1048576).toFixed(0)} MiB on disk): ${(ms / 1000).toFixed(1)} s wall (${cpu.toFixed(1)} s CPU), peak RSS ${(rss / 1024).toFixed(0)} MiB, exit ${r.status}; top: ${top}`)
    if (!keep) rmSync(file)
  }
} finally {
  if (!keep) rmSync(dir, { recursive: true, force: true })
  else console.log(`logs kept in ${dir}`)
}
