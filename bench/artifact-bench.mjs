#!/usr/bin/env node
// Benchmark: a large artifact round trip through `glrun run`. Job `make` writes SIZE MiB of random
// data (incompressible, the worst case for the zip step) as its artifact; job `use` needs it and
// checks its sha256. Reports wall time and glrun's peak RSS (GNU time's "Maximum resident set
// size": glrun's node process, the largest process of the run), the goal being < 150 MB: archives
// are streamed, never held whole.
// Usage: node bench/artifact-bench.mjs [--size-mib 1024] [--executor shell|docker]
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt)
const sizeMiB = Number(opt('--size-mib', '1024'))
const executor = opt('--executor', 'shell')
if (!existsSync(join(root, 'dist', 'glrun.cjs'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' })
const env = { ...process.env, NO_COLOR: '1' }
if (executor === 'docker') env.DOCKER_HOST = execFileSync('bash', [join(root, 'scripts/test-env/docker.sh'), 'up'], { encoding: 'utf8' }).trim()

const dir = mkdtempSync(join(tmpdir(), 'glrun-artifact-bench-'))
const git = (...a) => execFileSync('git', a, { cwd: dir, stdio: 'ignore' })
git('init', '-q')
writeFileSync(join(dir, '.gitlab-ci.yml'), `${executor === 'docker' ? 'image: glrun-test/tools:latest\n' : ''}make:
  stage: build
  script:
    - head -c ${sizeMiB}M /dev/urandom > big.bin
    - sha256sum big.bin > big.sha
  artifacts: { paths: [big.bin, big.sha] }
use:
  stage: test
  script:
    - sha256sum -c big.sha
    - ls -l big.bin
`)
git('add', '-A')
git('-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-qm', 'bench')

const t0 = Date.now()
const r = spawnSync('/usr/bin/time', ['-v', process.execPath, join(root, 'bin/glrun.js'), 'run', '--cwd', dir, '--executor', executor], { env, encoding: 'utf8', maxBuffer: 64 << 20 })
const wallS = (Date.now() - t0) / 1000
const rssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1])
const ok = r.status === 0 && /big\.bin: OK/.test(r.stdout)
rmSync(dir, { recursive: true, force: true })
if (!ok) {
  console.error(r.stdout.slice(-3000), r.stderr.slice(-3000))
  process.exit(1)
}
console.log(`artifact round trip, ${sizeMiB} MiB random data, ${executor} executor: ${wallS.toFixed(1)} s wall, peak RSS ${(rssKb / 1024).toFixed(0)} MiB (goal < 150 MB)`)
