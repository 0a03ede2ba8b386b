import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import type { JobPayload } from '../../src/payload/types.js'
import { compileYaml } from './compile-yaml.js'
import { type GitLabDouble, startGitLabDouble } from './gitlab-double/server.js'
import type { DoubleOptions } from './gitlab-double/types.js'

/**
 * What runner-mode tests share: a GitLab double for the file (fast intervals), pipelines compiled
 * and queued as GitLab would hand them out (GIT_STRATEGY none: these are about the runner API),
 * and `glrun runner` spawned asynchronously — the double answers from the test's own process.
 */
export interface RunnerHarness {
  readonly gl: GitLabDouble
  readonly root: string
  enqueue(yaml: string): Promise<Map<string, number>>
  start(opts?: { globals?: string; args?: string[]; concurrent?: number; executor?: string; checkInterval?: number; runnerToml?: string }): RunningRunner
}

export interface RunningRunner {
  done: Promise<{ code: number | null; err: string }>
  kill(s: NodeJS.Signals): void
  /** The runner's token in the double, and its config.toml (a test may rewrite it). */
  token: string
  config: string
  /** The operator log so far (JSON lines). */
  log(): string
}

const bin = new URL('../../bin/glrun.js', import.meta.url).pathname

export function runnerHarness(name: string, options: DoubleOptions = {}): RunnerHarness {
  const root = mkdtempSync(join(tmpdir(), `glrun-${name}-`))
  let gl: GitLabDouble | undefined
  beforeAll(async () => { gl = await startGitLabDouble({ longPollMs: 200, traceUpdateInterval: 1, finalisingPuts: 0, finalisingInterval: 1, ...options }) })
  afterAll(async () => {
    await gl?.close()
    rmSync(root, { recursive: true, force: true })
  })
  let nextId = 100_000 + Math.floor(Math.random() * 800_000)
  const double = (): GitLabDouble => {
    if (!gl) throw new Error('the GitLab double is not started yet')
    return gl
  }
  return {
    get gl() { return double() },
    root,
    async enqueue(yaml) {
      const pipeline = await compileYaml(`variables: { GIT_STRATEGY: none }\n${yaml}`)
      const ids = new Map<string, number>()
      for (const j of pipeline.jobs) {
        const payload: JobPayload = { ...j.payload, id: nextId++ }
        double().state.enqueue(payload)
        ids.set(j.name, payload.id)
      }
      return ids
    },
    start(o = {}) {
      const token = double().state.addRunner().token
      const id = nextId++
      const config = join(root, `c-${id}.toml`)
      writeFileSync(config, `concurrent = ${o.concurrent ?? 2}\ncheck_interval = ${o.checkInterval ?? 0}\n${o.globals ?? ''}\n[[runners]]\n  name = "${name}"\n  url = "${double().url}"\n  token = "${token}"\n  executor = "${o.executor ?? 'shell'}"\n${o.runnerToml ?? ''}`)
      const child = spawn(process.execPath, [bin, 'runner', '--config', config, '--work-dir', join(root, `w-${id}`), ...(o.args ?? [])], { stdio: ['ignore', 'ignore', 'pipe'] })
      let err = ''
      child.stderr.on('data', (d: Buffer) => { err += d.toString() })
      return { done: new Promise((resolve) => child.on('close', (code) => resolve({ code, err }))), kill: (s) => { child.kill(s) }, token, config, log: () => err }
    },
  }
}
