import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobPayload } from '../../src/payload/types.js'
import { compileYaml } from '../support/compile-yaml.js'
import { type GitLabDouble, startGitLabDouble } from '../support/gitlab-double/server.js'

/**
 * A job that prints fast: its trace goes to GitLab in whole 1 MiB PATCHes (gitlab-runner's patch
 * limit), not one small PATCH per pipe read — each PATCH is a request GitLab must append and
 * answer, so for a 100 MB log the count is what bounds the throughput (bench/runner-bench.mjs).
 */
const bin = new URL('../../bin/glrun.js', import.meta.url).pathname
const root = mkdtempSync(join(tmpdir(), 'glrun-runner-stream-'))
let gl: GitLabDouble
// traceUpdateInterval 60 (nobody watching the job): only full chunks and the end send anything.
beforeAll(async () => { gl = await startGitLabDouble({ longPollMs: 200, finalisingPuts: 0 }) })
afterAll(async () => {
  await gl?.close()
  rmSync(root, { recursive: true, force: true })
})

describe('runner mode: a fast-printing job', () => {
  it('streams its trace in whole 1 MiB PATCHes, every byte once, checksum matching', async () => {
    const mib = 1024 * 1024
    const pipeline = await compileYaml(`variables: { GIT_STRATEGY: none }\nbig:\n  script: ['head -c ${6 * mib} <(yes "$(printf "%079d" 0)")']\n`)
    const payload: JobPayload = { ...pipeline.jobs[0]!.payload, id: 700_000 + Math.floor(Math.random() * 100_000) }
    gl.state.enqueue(payload)
    const config = join(root, 'config.toml')
    writeFileSync(config, `concurrent = 1\ncheck_interval = 0\n[[runners]]\n  name = "stream"\n  url = "${gl.url}"\n  token = "${gl.state.addRunner().token}"\n  executor = "shell"\n  output_limit = 8192\n`)
    const child = spawn(process.execPath, [bin, 'runner', '--config', config, '--max-builds', '1', '--work-dir', join(root, 'work')], { stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(code, err).toBe(0)

    const job = gl.state.jobs.get(payload.id)!
    expect(job.final).toMatchObject({ state: 'success', checksumMatches: true, bytesizeMatches: true })
    expect(gl.state.traceOf(payload.id).length).toBeGreaterThan(6 * mib)
    const sizes = gl.recorder.to('trace', payload.id).map((q) => q.bodySize)
    // 6 MiB of output and the job's own lines: six full chunks, then the rest at the end.
    expect(sizes.slice(0, -1)).toEqual(Array(6).fill(mib))
    expect(sizes.at(-1)).toBeLessThan(mib)
  }, 120_000)
})
