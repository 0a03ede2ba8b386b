import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { zipToTar } from '../../src/job/artifacts/zip.js'
import { readTar } from '../../src/job/files/tar-entries.js'
import type { JobPayload } from '../../src/payload/types.js'
import { compileYaml } from '../support/compile-yaml.js'
import { makeBareRepo, makeCertificates, startHostGitServer } from '../support/git-https.js'
import { makeRepo } from '../support/git-repo.js'
import { type GitLabDouble, startGitLabDouble } from '../support/gitlab-double/server.js'

/**
 * Runner mode end to end: `glrun register` and `glrun runner` against the GitLab double (the
 * runner API's server side on loopback), the sources cloned over HTTPS from a git server the
 * test starts, as the payload's repo_url says.
 */
const bin = new URL('../../bin/glrun.js', import.meta.url).pathname
const scenarios = new URL('../fixtures/scenarios/', import.meta.url).pathname
const root = mkdtempSync(join(tmpdir(), 'glrun-runner-mode-'))
let gl: GitLabDouble
let git: ChildProcess
let certs: { ca: string; cert: string; key: string }
const port = 20000 + Math.floor(Math.random() * 20000)

beforeAll(async () => {
  gl = await startGitLabDouble({ longPollMs: 200, traceUpdateInterval: 1, finalisingPuts: 2, finalisingInterval: 1 })
  certs = makeCertificates(join(root, 'certs'), ['127.0.0.1'])
  git = await startHostGitServer('127.0.0.1', port, join(root, 'git'), certs)
})
afterAll(async () => {
  git?.kill()
  await gl?.close()
  rmSync(root, { recursive: true, force: true })
})

/** Async: the double answers from this process, so the test must not block its event loop. */
function glrun(args: string[], timeout = 120_000): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, out, err })
    })
  })
}

async function enqueuePipeline(yaml: string, project: string, files: Record<string, string> = {}, variables: Record<string, string> = {}): Promise<Map<string, number>> {
  const sha = makeBareRepo(join(root, 'git'), project, { '.gitlab-ci.yml': yaml, ...files })
  const pipeline = await compileYaml(yaml, { variables })
  const ids = new Map<string, number>()
  let id = 1000 + Math.floor(Math.random() * 100_000)
  for (const j of pipeline.jobs) {
    const payload: JobPayload = { ...j.payload, id: id++ }
    // Dependencies point at the ids this pipeline's jobs get here.
    payload.dependencies = payload.dependencies.map((d) => ({ ...d, id: ids.get(d.name) ?? d.id }))
    gl.state.enqueue(payload, { gitInfo: { repo_url: `https://127.0.0.1:${port}/root/${project}.git`, sha } })
    ids.set(j.name, payload.id)
  }
  return ids
}

/** The step_script section's bytes, without its start and end markers (their timestamps differ). */
function stepScript(trace: string): string {
  const m = /section_start:\d+:step_script\r\x1b\[0K([\s\S]*?)section_end:\d+:step_script/.exec(trace)
  return m?.[1] ?? ''
}

async function register(name: string): Promise<string> {
  const runner = gl.state.addRunner()
  const config = join(root, `${name}.toml`)
  const r = await glrun(['register', '--non-interactive', '--url', gl.url, '--token', runner.token, '--executor', 'shell', '--name', name, '--tls-ca-file', certs.ca, '--config', config])
  expect(r.err).toBe('')
  expect(r.code).toBe(0)
  return config
}

describe('runner mode against the GitLab double', () => {
  it('register writes the entry (0600); runner takes the four jobs of s3-gitlab-ci.yml, GitLab gets each trace whole, in sections, with the right checksum', async () => {
    const config = await register('s5-runner')
    const text = readFileSync(config, 'utf8')
    expect(text).toMatch(/\[\[runners\]\]\n {2}name = "s5-runner"\n {2}url = "http:\/\/127\.0\.0\.1:\d+"\n {2}token = "glrt-/)
    expect(statSync(config).mode & 0o777).toBe(0o600)
    const yaml = readFileSync(join(scenarios, 's3-gitlab-ci.yml'), 'utf8').replace('sleep 20', 'sleep 1')
    const ids = await enqueuePipeline(yaml, 's5', {}, { GITLAB_USER_LOGIN: 'ada' })
    const r = await glrun(['runner', '--config', config, '--max-builds', String(ids.size), '--work-dir', join(root, 'work-s5')])
    expect(r.code).toBe(0)
    // The same jobs run locally (`glrun run`, shell): GitLab's step_script is the local one, byte for byte.
    const local = makeRepo({ files: { '.gitlab-ci.yml': yaml } })
    const lr = await glrun(['run', '--cwd', local.dir, '-v', 'GITLAB_USER_LOGIN=ada'])
    expect(lr.code, lr.out + lr.err).toBe(0)
    for (const [name, id] of ids) {
      const job = gl.state.jobs.get(id)!
      expect(job.final, name).toMatchObject({ state: 'success', checksumMatches: true, bytesizeMatches: true })
      const trace = gl.state.traceOf(id).toString('utf8')
      const sections = [...trace.matchAll(/section_start:\d+:([a-z_]+)/g)].map((m) => m[1])
      expect(sections.slice(0, 4)).toEqual(['prepare_executor', 'prepare_script', 'get_sources', 'step_script'])
      expect(trace).toMatch(/Checking out [0-9a-f]{8} as/)
      expect(trace).toMatch(/Job succeeded/)
      const localTrace = readFileSync(join(local.dir, '.glrun', 'jobs', name, 'trace.log'), 'utf8')
      expect(stepScript(trace), name).toBe(stepScript(localTrace))
      expect(stepScript(trace).length, name).toBeGreaterThan(0)
    }
    local.cleanup()
    expect(gl.state.traceOf(ids.get('build-job')!).toString()).toMatch(/Hello, /)
    // The runner said who it is, and claimed only what glrun does.
    const request = gl.recorder.all.find((q) => q.route === 'jobs-request')!
    expect(request.params).toMatchObject({ info: { executor: 'shell', features: { cancel_gracefully: true, refspecs: false } } })
  }, 180_000)

  it('artifacts go up to GitLab and come down into the job that needs them; a failed job ends with the diagnosis section', async () => {
    const config = await register('artifacts-runner')
    const yaml = `stages: [build, test]
build:
  stage: build
  script: [echo built-by-build > out.txt]
  artifacts: { paths: [out.txt] }
test:
  stage: test
  needs: [build]
  script: [cat out.txt, 'curl --version >/dev/null 2>&1; echo "fatal: unable to access ''https://gitlab.internal.invalid/x.git/'': Could not resolve host: gitlab.internal.invalid"', exit 1]
`
    const ids = await enqueuePipeline(yaml, 'arts')
    const r = await glrun(['runner', '--config', config, '--max-builds', '2', '--work-dir', join(root, 'work-arts')])
    expect(r.code).toBe(0)
    const build = gl.state.jobs.get(ids.get('build')!)!
    expect(build.final?.state).toBe('success')
    expect(build.artifacts.map((a) => a.type)).toEqual(['archive'])
    const test = gl.state.jobs.get(ids.get('test')!)!
    const trace = gl.state.traceOf(test.id).toString('utf8')
    expect(trace).toMatch(/built-by-build/)
    expect(test.final).toMatchObject({ state: 'failed', failureReason: 'script_failure', exitCode: 1, checksumMatches: true })
    expect(trace).toMatch(/section_start:\d+:glrun_diagnosis\[collapsed=true\]/)
    expect(trace).toMatch(/section_end:\d+:glrun_diagnosis/)
  }, 180_000)

  it('untracked: the files the job\'s own clone does not track, as gitlab-runner\'s git ls-files -o (ignored ones included, a file the job git-added not)', async () => {
    const config = await register('untracked-runner')
    const yaml = `make:
  script:
    - echo changed >> a.txt
    - echo new > new.txt
    - mkdir -p out && echo built > out/bin.txt
    - echo log > build.log
    - echo staged > staged.txt && git add staged.txt
  artifacts: { untracked: true }
`
    const ids = await enqueuePipeline(yaml, 'untracked', { 'a.txt': 'a\n', '.gitignore': '*.log\n' })
    const r = await glrun(['runner', '--config', config, '--max-builds', '1', '--work-dir', join(root, 'work-untracked')])
    expect(r.code).toBe(0)
    const job = gl.state.jobs.get(ids.get('make')!)!
    expect(job.final?.state, gl.state.traceOf(job.id).toString('utf8')).toBe('success')
    const archive = job.artifacts.find((a) => a.type === 'archive')!
    const names: string[] = []
    await readTar(await zipToTar(archive.path), async (e, content) => {
      if (e.kind === 'file') names.push(e.name)
      content.resume()
    })
    expect(names.sort()).toEqual(['build.log', 'new.txt', 'out/bin.txt'])
    expect(gl.state.traceOf(job.id).toString('utf8')).not.toMatch(/no untracked files collected/)
  }, 180_000)
})

