import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import type { JobPayload } from '../../src/payload/types.js'
import { compileYaml } from '../support/compile-yaml.js'
import { glrunAsync as glrun } from '../support/glrun-async.js'
import { type GitLabDouble, startGitLabDouble } from '../support/gitlab-double/server.js'

/**
 * Artifacts in runner mode, against the GitLab double: a 413 from GitLab, a dotenv report as
 * GitLab parses it, dependencies' archives through a redirect to object storage.
 * GIT_STRATEGY none: these jobs are about artifacts, not the clone.
 */
const root = mkdtempSync(join(tmpdir(), 'glrun-runner-artifacts-'))
const doubles: GitLabDouble[] = []
afterAll(async () => {
  await Promise.all(doubles.map((d) => d.close()))
  rmSync(root, { recursive: true, force: true })
})

async function double(opts: Parameters<typeof startGitLabDouble>[0]): Promise<GitLabDouble> {
  const gl = await startGitLabDouble({ longPollMs: 200, traceUpdateInterval: 1, finalisingPuts: 0, ...opts })
  doubles.push(gl)
  return gl
}

let nextId = 700_000 + Math.floor(Math.random() * 100_000)
async function enqueue(gl: GitLabDouble, yaml: string): Promise<Map<string, number>> {
  const pipeline = await compileYaml(`variables: { GIT_STRATEGY: none }\n${yaml}`)
  const ids = new Map<string, number>()
  for (const j of pipeline.jobs) {
    const payload: JobPayload = { ...j.payload, id: nextId++ }
    payload.dependencies = payload.dependencies.map((d) => ({ ...d, id: ids.get(d.name) ?? d.id }))
    gl.state.enqueue(payload)
    ids.set(j.name, payload.id)
  }
  return ids
}

async function runner(gl: GitLabDouble, name: string, maxBuilds: number): Promise<void> {
  const config = join(root, `${name}.toml`)
  writeFileSync(config, `concurrent = 1\ncheck_interval = 0\n[[runners]]\n  name = "${name}"\n  url = "${gl.url}"\n  token = "${gl.state.addRunner().token}"\n  executor = "shell"\n`)
  const r = await glrun(['runner', '--config', config, '--max-builds', String(maxBuilds), '--work-dir', join(root, `work-${name}`)])
  expect(r.code, r.err).toBe(0)
}

describe('runner mode: artifacts through GitLab', () => {
  it('a 413 for the archive: the trace GitLab receives names the error and the size, and the job failed', async () => {
    const gl = await double({ artifactLimitBytes: 10 })
    const ids = await enqueue(gl, `big:
  script: [head -c 5000 /dev/urandom > big.bin]
  artifacts: { paths: [big.bin] }
`)
    await runner(gl, 'too-large', 1)
    const job = gl.state.jobs.get(ids.get('big')!)!
    const trace = gl.state.traceOf(job.id).toString('utf8')
    expect(trace).toMatch(/ERROR: Job failed \(system failure\): the archive artifact is \d{4,} bytes, more than GitLab accepts for this project \(413 Request Entity Too Large\) \(GLRUN_ARTIFACT_TOO_LARGE\)/)
    expect(trace).toMatch(/WARNING: Upload less \(artifacts:paths\/exclude\), or raise the maximum artifacts size/)
    expect(trace).not.toMatch(/Job succeeded/)
    expect(job.final).toMatchObject({ state: 'failed', failureReason: 'runner_system_failure', checksumMatches: true })
    expect(job.artifacts).toEqual([])
    expect(gl.recorder.to('artifacts-upload', job.id).map((q) => q.status)).toEqual([413]) // not retried
  }, 60_000)

  it('a dotenv report goes up as GitLab expects (artifact_type dotenv, format gzip); a dependency\'s archive comes through the storage redirect without the job token', async () => {
    const gl = await double({ artifactsRedirect: true })
    const ids = await enqueue(gl, `stages: [build, test]
build:
  stage: build
  script:
    - echo built-by-build > out.txt
    - printf 'BUILD_VERSION=1.2.3\\nBUILD_URL=https://example.com/a?b=c\\n' > build.env
  artifacts:
    paths: [out.txt]
    reports: { dotenv: build.env }
test:
  stage: test
  needs: [build]
  script: [cat out.txt]
`)
    await runner(gl, 'dotenv-redirect', 2)
    const build = gl.state.jobs.get(ids.get('build')!)!
    expect(build.final?.state).toBe('success')
    const dotenv = build.artifacts.find((a) => a.type === 'dotenv')!
    expect(dotenv).toMatchObject({ type: 'dotenv', format: 'gzip' })
    expect(gunzipSync(readFileSync(dotenv.path)).toString('utf8')).toBe('BUILD_VERSION=1.2.3\nBUILD_URL=https://example.com/a?b=c\n')
    expect(build.artifacts.find((a) => a.type === 'archive')).toMatchObject({ format: 'zip' })

    const test = gl.state.jobs.get(ids.get('test')!)!
    expect(test.final?.state).toBe('success')
    expect(gl.state.traceOf(test.id).toString('utf8')).toMatch(/^built-by-build$/m)
    const download = gl.recorder.to('artifacts-download', build.id)
    expect(download.map((q) => [q.status, q.query['direct_download']])).toEqual([[302, 'true']])
    expect(download[0]!.headers['job-token']).toBe(test.token)
    const storage = gl.recorder.all.filter((q) => q.listener === 'storage')
    expect(storage.map((q) => [q.route, q.status])).toEqual([['object-storage', 200]])
    expect(storage[0]!.headers['job-token']).toBeUndefined()
    expect(JSON.stringify(storage[0]!.headers)).not.toContain(test.token)
  }, 60_000)

  it('untracked: with no clone (GIT_STRATEGY none) git has nothing to list: a warning that says so, the named paths still go up', async () => {
    const gl = await double({})
    const ids = await enqueue(gl, `nogit:
  script: [echo kept > kept.txt]
  artifacts: { paths: [kept.txt], untracked: true }
`)
    await runner(gl, 'untracked-nogit', 1)
    const job = gl.state.jobs.get(ids.get('nogit')!)!
    const trace = gl.state.traceOf(job.id).toString('utf8')
    expect(trace).toMatch(/WARNING: untracked: git could not list the tracked files where the job runs: fatal: not a git repository.*; no untracked files collected/)
    expect(job.final).toMatchObject({ state: 'success' })
    expect(job.artifacts.map((a) => a.type)).toEqual(['archive'])
  }, 60_000)
})

