import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobPayload } from '../../src/payload/types.js'
import { compileYaml } from '../support/compile-yaml.js'
import { makeBareRepo, startHostGitServer } from '../support/git-https.js'
import { glrunAsync as glrun } from '../support/glrun-async.js'
import { type GitLabDouble, startGitLabDouble } from '../support/gitlab-double/server.js'

/**
 * S4 in runner mode: GitLab over HTTPS with a certificate from a private CA (the double's
 * throw-away one). Without tls-ca-file every way in says so and names the fix; with it, the jobs
 * of s4-gitlab-ci.yml run and clone over HTTPS from a git server whose certificate the same CA
 * signed — the CA reaches git in the job without workarounds (no /etc/hosts, no network_mode).
 */
const scenarios = new URL('../fixtures/scenarios/', import.meta.url).pathname
const root = mkdtempSync(join(tmpdir(), 'glrun-runner-tls-'))
let gl: GitLabDouble
let git: ChildProcess
const port = 20000 + Math.floor(Math.random() * 20000)

beforeAll(async () => {
  gl = await startGitLabDouble({ tls: true, longPollMs: 200, traceUpdateInterval: 1, finalisingPuts: 1, finalisingInterval: 1 })
  // The git server presents the double's own certificate: one CA for GitLab and its clones.
  const tls = dirname(gl.caPath!)
  git = await startHostGitServer('127.0.0.1', port, join(root, 'git'), { cert: join(tls, 'server.crt'), key: join(tls, 'server.key') })
})
afterAll(async () => {
  git?.kill()
  await gl?.close()
  rmSync(root, { recursive: true, force: true })
})

function configWith(name: string, token: string, caFile?: string): string {
  const path = join(root, `${name}.toml`)
  writeFileSync(path, `concurrent = 2\ncheck_interval = 0\n\n[[runners]]\n  name = "${name}"\n  url = "${gl.httpsUrl}"\n  token = "${token}"\n${caFile ? `  tls-ca-file = "${caFile}"\n` : ''}  executor = "shell"\n`)
  return path
}

function expectTlsError(err: string): void {
  expect(err).toMatch(/GLRUN_GITLAB_TLS/)
  expect(err).toMatch(/certificate/)
  expect(err).toMatch(/tls-ca-file/)
  expect(err).not.toMatch(/^\s+at /m) // a user's mistake, not a bug: no stack trace
}

describe('S4 in runner mode: a GitLab with a private CA', () => {
  it('without tls-ca-file: register, runner, verify and doctor each name the certificate problem and tls-ca-file; no job is taken', async () => {
    const token = gl.state.addRunner().token
    const reg = await glrun(['register', '--non-interactive', '--url', gl.httpsUrl!, '--token', token, '--executor', 'shell', '--name', 'no-ca', '--config', join(root, 'no-ca-register.toml')])
    expect(reg.code).toBe(2)
    expectTlsError(reg.err)

    const sha = makeBareRepo(join(root, 'git'), 'untrusted', { '.gitlab-ci.yml': 'x:\n  script: [echo x]\n' })
    const payload: JobPayload = { ...(await compileYaml('x:\n  script: [echo never]\n')).jobs[0]!.payload, id: 880_001 }
    gl.state.enqueue(payload, { gitInfo: { repo_url: `https://127.0.0.1:${port}/root/untrusted.git`, sha } })
    const config = configWith('no-ca', token)
    const run = await glrun(['runner', '--config', config, '--max-builds', '1', '--work-dir', join(root, 'work-no-ca')], { timeoutMs: 30_000 })
    expect(run.code).toBe(2)
    expectTlsError(run.err)
    expect(run.err).toMatch(/signed by a CA not in the system CAs/)
    expect(gl.state.jobs.get(payload.id)!.status).toBe('pending')
    gl.state.cancelJob(payload.id) // not for the next test's runner

    const verify = await glrun(['verify', '--config', config])
    expect(verify.code).toBe(1)
    expect(verify.err).toMatch(/^error\[GLRUN_GITLAB_TLS\]: runner=no-ca: GitLab at https:\/\/127\.0\.0\.1:\d+ presents a certificate glrun does not trust/m)
    expectTlsError(verify.err)

    const doc = await glrun(['doctor', '--config', config])
    expect(doc.code).toBe(1)
    const port443 = new URL(gl.httpsUrl!).port
    expect(doc.out).toMatch(new RegExp(`^ {2}FAIL {2}tls +the certificate of 127\\.0\\.0\\.1:${port443} \\(CN=localhost, issued by CN=glrun test CA\\) is signed by a CA not in the system CAs: give the runner tls-ca-file with that CA$`, 'm'))
    expect(doc.out).toMatch(/fix: Trust it: save the certificates 127\.0\.0\.1 presents/)
    expect(doc.out).toMatch(/^ {10}tls-ca-file = "\/etc\/gitlab-runner\/certs\/127\.0\.0\.1\.crt"$/m)
    // An untrusted GitLab cannot be asked about the token.
    expect(doc.out).not.toMatch(/ token /)
  }, 60_000)

  it('with tls-ca-file: doctor is content, and the jobs of s4-gitlab-ci.yml clone over HTTPS and succeed', async () => {
    const token = gl.state.addRunner().token
    const config = join(root, 'with-ca.toml')
    const reg = await glrun(['register', '--non-interactive', '--url', gl.httpsUrl!, '--token', token, '--executor', 'shell', '--name', 'with-ca', '--tls-ca-file', gl.caPath!, '--config', config])
    expect(reg.err).toBe('')
    expect(reg.code).toBe(0)
    expect(readFileSync(config, 'utf8')).toContain(`tls-ca-file = "${gl.caPath}"`)

    const doc = await glrun(['doctor', '--config', config])
    // warn, not ok: the throw-away certificate is valid for two days only.
    expect(doc.out).toMatch(/^ {2}(?:ok {4}|warn {2})tls +the certificate of 127\.0\.0\.1:\d+ \(CN=localhost, issued by CN=glrun test CA\) is trusted with the configured CA/m)
    expect(doc.out).toMatch(/^ {2}ok {4}token +GitLab knows this runner's token/m)

    const yaml = readFileSync(join(scenarios, 's4-gitlab-ci.yml'), 'utf8')
    const sha = makeBareRepo(join(root, 'git'), 's4', { '.gitlab-ci.yml': yaml, 'README.md': 'hello\n' })
    const ids: number[] = []
    for (const [i, j] of (await compileYaml(yaml, { variables: { GITLAB_USER_LOGIN: 'root' } })).jobs.entries()) {
      const payload: JobPayload = { ...j.payload, id: 880_100 + i }
      gl.state.enqueue(payload, { gitInfo: { repo_url: `https://127.0.0.1:${port}/root/s4.git`, sha } })
      ids.push(payload.id)
    }
    const run = await glrun(['runner', '--config', config, '--max-builds', String(ids.length), '--work-dir', join(root, 'work-with-ca')])
    expect(run.code).toBe(0)
    for (const id of ids) {
      const trace = gl.state.traceOf(id).toString('utf8')
      expect(gl.state.jobs.get(id)!.final, trace).toMatchObject({ state: 'success', checksumMatches: true })
      expect(trace).toMatch(/Checking out [0-9a-f]{8} as/)
      expect(trace).toMatch(/Job succeeded/)
    }
    expect(gl.state.traceOf(ids[0]!).toString()).toMatch(/^Hello, root!$/m) // what S4's job prints once the clone works
    expect(gl.state.traceOf(ids[1]!).toString()).toMatch(/^README\.md$/m) // ls of the clone
    // Every API call went over HTTPS.
    expect(gl.recorder.all.filter((q) => q.listener === 'api' && q.route !== 'unknown').every((q) => q.scheme === 'https')).toBe(true)
  }, 120_000)
})
