#!/usr/bin/env node
// Per-job overhead of the kubernetes executor against the docker executor on the same engine
// (scripts/test-env/docker.sh up): one trivial job (`true`, GIT_STRATEGY none) through glrun's
// whole job lifecycle, in-process, on
//  - the docker executor: one container on the engine;
//  - the kubernetes executor: a pod through the Kubernetes API double (test/support/k8s-double,
//    HTTPS, WebSocket exec, schema-checked requests) whose node runs it on the same engine as a
//    sandbox plus the build and helper containers, as a cluster would.
// The double runs in this process (a real apiserver and kubelet run elsewhere), so its CPU is
// counted against the kubernetes executor: the ratio is an upper bound. It also prints where the
// kubernetes job's time goes, from the node's own steps (DockerKubelet's onStep hook).
// Usage: node bench/k8s-bench.mjs [--runs N]     Medians of N runs (default 7).
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const runs = Number(args[args.indexOf('--runs') + 1] || 7) || 7
const DOCKER_HOST = execFileSync('bash', [join(root, 'scripts/test-env/docker.sh'), 'up'], { encoding: 'utf8' }).trim()
process.env.DOCKER_HOST = DOCKER_HOST
process.env.GLRUN_TEST_DOCKER_HOST = DOCKER_HOST
if (!existsSync(join(root, 'dist', 'glrun.cjs'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' })

const work = mkdtempSync(join(tmpdir(), 'glrun-k8s-bench-'))
// The test cluster (double + node) from its TypeScript sources, as one ESM file.
const loader = join(work, 'k8s-env.mjs')
await build({
  stdin: { contents: "export { startK8sEnv } from './test/support/k8s-env.ts'\n", resolveDir: root, loader: 'ts', sourcefile: 'bench-k8s-entry.ts' },
  bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: loader, logLevel: 'warning', packages: 'external',
})
execFileSync('ln', ['-s', join(root, 'node_modules'), join(work, 'node_modules')])
const { startK8sEnv } = await import(pathToFileURL(loader).href)

const { DockerExecutor } = await import(join(root, 'dist/executors/docker/docker-executor.js'))
const { runJob } = await import(join(root, 'dist/job/run-job.js'))
const { localStores } = await import(join(root, 'dist/job/artifacts/stores.js'))
const { TraceWriter } = await import(join(root, 'dist/trace/trace-writer.js'))
const { Masker } = await import(join(root, 'dist/trace/masker.js'))
const { MemorySink } = await import(join(root, 'dist/trace/sinks/memory-sink.js'))

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

// Splits the kubernetes job's time into glrun's part (before the node has the pod: pod POST;
// after its last container started: noticing Running, the stages over attach/exec, the delete)
// and the node's (sandbox, then each container one after the other, as a kubelet starts them).
function breakdown(timelines) {
  // Consecutive steps of the first run (the same in every run), each part the median of its gap.
  const order = [...timelines[0].steps.keys()]
  const parts = [['glrun until the node has the pod', (t) => t.steps.get('scheduled')]]
  for (let i = 1; i < order.length; i++) {
    const [from, to] = [order[i - 1], order[i]]
    const label = to.endsWith(' exited') ? `${to.replace(' exited', '')} runs to its exit` : to.replace(' started', '')
    parts.push([`node: ${label}`, (t) => t.steps.get(to) - t.steps.get(from)])
  }
  const lastStart = order.filter((s) => s.endsWith(' started')).at(-1)
  parts.push(['glrun after the last container started', (t) => t.ms - t.steps.get(lastStart)])
  return parts.map(([label, f]) => `${label} ${median(timelines.map(f)).toFixed(0)} ms`).join(', ')
}
const job = {
  id: 1, token: 'glcbt-bench', allow_git_fetch: true,
  job_info: { name: 'bench', stage: 'test', pipeline_id: 1, project_id: 1, project_name: 'bench', project_full_path: 'g/bench' },
  git_info: { repo_url: '', ref: 'main', sha: '0'.repeat(40), before_sha: '0'.repeat(40), ref_type: 'branch', refspecs: [], depth: 0 },
  runner_info: { timeout: 60 }, variables: [{ key: 'GIT_STRATEGY', value: 'none', public: true }],
  steps: [{ name: 'script', script: ['true'], timeout: 60, when: 'on_success', allow_failure: false }],
  image: { name: 'busybox:latest' }, services: [], artifacts: null, cache: null, credentials: [], dependencies: [],
  features: { trace_sections: true, failure_reasons: [] },
}
// The node's steps for the pod of the job being timed (the double's onStep hook), in ms since the job began.
let steps = []
let jobStart = 0
const onStep = (_pod, step) => steps.push([step, performance.now() - jobStart])
async function once(executor) {
  steps = []
  jobStart = performance.now()
  const t0 = process.hrtime.bigint()
  const trace = new TraceWriter({ masker: new Masker([]), sinks: [new MemorySink()] })
  const o = await runJob({ job, executor, trace, buildsDir: join(work, 'builds'), ...localStores(join(work, 'store')), signal: new AbortController().signal })
  await trace.close()
  if (o.status !== 'success') throw new Error(`bench job failed: ${JSON.stringify(o)}`)
  return Number(process.hrtime.bigint() - t0) / 1e6
}

// Three set-ups: the attach strategy (gitlab-runner's default: its pod has an init container,
// init-permissions, started and awaited before the others) with the pods on the test cluster's
// own Docker network (as the tests run them: a user network, whose containers Docker starts
// about 100 ms slower) and on Docker's default bridge (the network the docker executor's job
// container is on here: like for like); and the legacy exec strategy (no init container).
const docker = new DockerExecutor({ host: DOCKER_HOST, image: 'busybox:latest', pullPolicy: ['if-not-present'] })
await docker.engine()
try {
  const setups = [
    ['attach strategy (default), pods on the cluster\'s own network', {}, {}],
    ['attach strategy (default), pods on the default bridge, like the docker job', { network: 'bridge' }, {}],
    ['exec strategy (FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY), pods on the default bridge', { network: 'bridge' }, { FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY: true }],
  ]
  for (const [label, kubelet, flags] of setups) {
    const env = await startK8sEnv({ kubelet: { ...kubelet, onStep } })
    try {
      const k8s = env.executor(undefined, undefined, flags)
      await once(docker)
      await once(k8s)
      const d = []
      const k = []
      const timelines = []
      for (let i = 0; i < runs; i++) {
        d.push(await once(docker))
        const ms = await once(k8s)
        k.push(ms)
        timelines.push({ ms, steps: new Map(steps) })
        await env.settled()
      }
      const md = median(d)
      const mk = median(k)
      console.log(`one trivial job, median of ${runs} (${label}):`)
      console.log(`  docker executor      ${md.toFixed(0)} ms`)
      console.log(`  kubernetes executor  ${mk.toFixed(0)} ms   (${(mk / md).toFixed(2)}x the docker executor; goal <= 1.5x)`)
      console.log(`    where the time goes (medians): ${breakdown(timelines)}`)
    } finally {
      await env.close()
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true })
}
