import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DockerExecutor } from '../../src/executors/docker/docker-executor.js'
import type { DockerExecutorOptions } from '../../src/executors/docker/options.js'
import { localStores } from '../../src/job/artifacts/stores.js'
import type { JobOutcome } from '../../src/job/outcome.js'
import { type RunnerJobSettings, runJob } from '../../src/job/run-job.js'
import type { JobPayload } from '../../src/payload/types.js'
import { Masker } from '../../src/trace/masker.js'
import { MemorySink } from '../../src/trace/sinks/memory-sink.js'
import { TraceWriter } from '../../src/trace/trace-writer.js'
import { TEST_DOCKER_HOST } from '../support/docker-env.js'
import { payload } from '../conformance/executor-conformance.js'

const dirs: string[] = []
export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), `glrun-${prefix}-`))
  dirs.push(d)
  return d
}
export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
}

/** A job that clones `repoUrl` at `sha` with GIT_STRATEGY=clone, then runs `script`. */
export function cloneJob(repoUrl: string, sha: string, script: string[]): JobPayload {
  const job = payload(script)
  job.variables = [{ key: 'GIT_STRATEGY', value: 'clone', public: true }, { key: 'GIT_DEPTH', value: '1', public: true }]
  job.git_info = { ...job.git_info, repo_url: repoUrl, sha, ref: 'main', depth: 1 }
  return job
}

/** Runs one whole job on the test engine with these [runners.docker] options; returns its trace. */
export async function runDockerJob(job: JobPayload, opts: DockerExecutorOptions, runner?: RunnerJobSettings): Promise<{ outcome: JobOutcome; trace: string }> {
  const sink = new MemorySink()
  const trace = new TraceWriter({ masker: new Masker([job.token]), sinks: [sink] })
  const executor = new DockerExecutor({ host: TEST_DOCKER_HOST, image: 'busybox:latest', helperImage: 'glrun-test/tools:latest', pullPolicy: ['if-not-present'], ...opts })
  const outcome = await runJob({ job, executor, trace, buildsDir: tempDir('builds'), ...localStores(tempDir('store')), signal: new AbortController().signal, ...(runner ? { runner } : {}) })
  await trace.close()
  return { outcome, trace: sink.text() }
}
