import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse as parseToml } from 'smol-toml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import type { JobPayload } from '../../src/payload/types.js'
import { compileYaml } from '../support/compile-yaml.js'
import { docker, dockerSkip, requireEngine } from '../support/docker-env.js'
import { makeBareRepo, makeCertificates, startGitServerContainer } from '../support/git-https.js'
import { type GitLabDouble, startGitLabDouble } from '../support/gitlab-double/server.js'
import { type K8sEnv, startK8sEnv } from '../support/k8s-env.js'

/**
 * S1 as it happens in the field, in runner mode: GitLab (the double) hands the runner a job whose
 * sources are at https://gitlab.mylab.com, a name the runner host resolves (its own /etc/hosts,
 * here a private one bind-mounted in a mount namespace of the runner's process) and the cluster's
 * DNS does not. The HTTPS git server runs in a container on the pods' network, reachable only by
 * address. Without host aliases the clone fails with git's "Could not resolve host" and glrun's
 * diagnosis, in the trace GitLab receives, names [[runners.kubernetes.host_aliases]] and the Helm
 * chart's form, with both lookups (the runner's and a throw-away pod's) as evidence. With the
 * `runners.config` of s1-helm-values.yaml (its address replaced by the server's) the clone works.
 */
const skip = dockerSkip(import.meta.url) ?? (process.getuid?.() !== 0 ? 'S1 needs root: the runner gets its own /etc/hosts in a mount namespace (unshare -m)' : undefined)
const HOST = 'gitlab.mylab.com'
const bin = new URL('../../bin/glrun.js', import.meta.url).pathname
const scenarios = new URL('../fixtures/scenarios/', import.meta.url).pathname
const root = mkdtempSync(join(tmpdir(), 'glrun-k8s-s1-'))
let env: K8sEnv
let gl: GitLabDouble
let ip = ''
let sha = ''
let caPath = ''
let gitName = ''

beforeAll(async () => {
  requireEngine()
  env = await startK8sEnv({ namespace: 'cicd' })
  gl = await startGitLabDouble({ longPollMs: 200, traceUpdateInterval: 1, finalisingPuts: 0, finalisingInterval: 1 })
  const certs = makeCertificates(join(root, 'certs'), [HOST])
  caPath = certs.ca
  sha = makeBareRepo(join(root, 'git'), 'mycicd', { 'README.md': 'hello from the test GitLab\n' })
  gitName = `${env.network}-git`
  ip = await startGitServerContainer(gitName, env.network, root)
  // The runner host's own name for GitLab, as the operators' machines had it.
  writeFileSync(join(root, 'hosts'), `${readFileSync('/etc/hosts', 'utf8')}\n${ip} ${HOST}\n`)
}, 90_000)

afterAll(async () => {
  try { docker('rm', '-f', gitName) } catch { /* not started */ }
  await gl?.close()
  await env?.close()
  rmSync(root, { recursive: true, force: true })
}, 60_000)

/** The `[runners.kubernetes]` of the Helm values' runners.config, pointed at the test cluster. */
function helmRunnersConfig(): { namespace: string; host_aliases: { ip: string; hostnames: string[] }[] } {
  const values = parseYaml(readFileSync(join(scenarios, 's1-helm-values.yaml'), 'utf8')) as { runners: { config: string } }
  const k = (parseToml(values.runners.config) as { runners: { kubernetes: { namespace: string; host_aliases: { ip: string; hostnames: string[] }[] } }[] }).runners[0]!.kubernetes
  return { namespace: k.namespace, host_aliases: k.host_aliases.map((h) => ({ ...h, ip: h.ip === '10.0.0.232' ? ip : h.ip })) }
}

async function enqueue(): Promise<number> {
  const pipeline = await compileYaml('variables: { GIT_STRATEGY: clone, GIT_DEPTH: "1" }\nbuild:\n  script: [cat README.md]\n')
  const p = pipeline.jobs[0]!.payload
  const payload: JobPayload = { ...p, id: 700_000 + Math.floor(Math.random() * 99_999), git_info: { ...p.git_info, repo_url: `https://${HOST}/root/mycicd.git`, sha, ref: 'main', ref_type: 'branch', depth: 1, refspecs: [] } }
  gl.state.enqueue(payload)
  return payload.id
}

/** `glrun runner --max-builds 1` with the runner host's /etc/hosts (a private mount namespace). */
async function runnerTakesOne(aliases: string): Promise<{ code: number | null; err: string }> {
  const raw = env.raw({ namespace: 'cicd' })
  const config = join(root, `config-${Date.now()}.toml`)
  writeFileSync(config, `concurrent = 1\ncheck_interval = 0\n[[runners]]\n  name = "gitlab-runner-s1"\n  url = "${gl.url}"\n  token = "${gl.state.addRunner().token}"\n  executor = "kubernetes"\n  tls-ca-file = "${caPath}"\n  [runners.kubernetes]\n    host = "${raw['host']}"\n    ca_file = "${raw['ca_file']}"\n    bearer_token = "${raw['bearer_token']}"\n    namespace = "cicd"\n    image = "busybox:latest"\n    helper_image = "glrun-test/tools:latest"\n    pull_policy = ["if-not-present"]\n    poll_interval = 1\n${aliases}`)
  const child = spawn('unshare', ['-m', 'sh', '-c', 'mount --bind "$0" /etc/hosts && exec "$@"', join(root, 'hosts'), process.execPath, bin, 'runner', '--config', config, '--max-builds', '1', '--work-dir', join(root, 'work')], { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  const timer = setTimeout(() => child.kill('SIGKILL'), 150_000)
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  clearTimeout(timer)
  return { code, err }
}

describe.skipIf(skip)('S1 on the kubernetes executor: the job pod must resolve the GitLab host', () => {
  it('without host aliases the clone fails with "Could not resolve host" and the diagnosis says host_aliases, with both lookups', async () => {
    const id = await enqueue()
    const r = await runnerTakesOne('')
    expect(r.code, r.err).toBe(0)
    const trace = gl.state.traceOf(id).toString('utf8')
    expect(gl.state.jobs.get(id)!.final, trace).toMatchObject({ state: 'failed' })
    expect(trace).toMatch(/Could not resolve host: gitlab\.mylab\.com/)
    const diagnosis = trace.slice(trace.indexOf('glrun_diagnosis'))
    if (process.env.SHOW_S1) console.log(diagnosis)
    expect(diagnosis).toMatch(/\[\[runners\.kubernetes\.host_aliases\]\]/)
    expect(diagnosis).toMatch(/runners:\s*\n\s*config: \|/)
    // Both lookups, just made: the runner host resolves the name, the job's pod does not.
    expect(diagnosis).toContain(`the runner host resolves ${HOST} to ${ip}`)
    expect(diagnosis).toMatch(/a job pod \(busybox:latest, namespace cicd\) cannot resolve gitlab\.mylab\.com/)
    // The checks trust what the job trusted (the runner's tls-ca-file): the certificate is not a second suspect.
    expect(diagnosis).not.toMatch(/FAIL +tls/)
    expect(await env.settled()).toEqual({ pods: 0, containers: 0 })
  }, 180_000)

  it('with the runners.config of s1-helm-values.yaml the clone succeeds', async () => {
    const k = helmRunnersConfig()
    expect(k.namespace).toBe('cicd')
    const aliases = k.host_aliases.map((h) => `    [[runners.kubernetes.host_aliases]]\n      ip = "${h.ip}"\n      hostnames = [${h.hostnames.map((n) => `"${n}"`).join(', ')}]\n`).join('')
    const id = await enqueue()
    const r = await runnerTakesOne(aliases)
    expect(r.code, r.err).toBe(0)
    const trace = gl.state.traceOf(id).toString('utf8')
    expect(gl.state.jobs.get(id)!.final, trace).toMatchObject({ state: 'success' })
    expect(trace).toMatch(/^hello from the test GitLab$/m)
    expect(await env.settled()).toEqual({ pods: 0, containers: 0 })
  }, 180_000)
})
