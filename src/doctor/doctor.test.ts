import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { type Server, createServer as netServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createServer as tlsServer } from 'node:tls'
import { Command } from 'commander'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeCertificates } from '../../test/support/git-https.js'
import { closedPort as closedLoopbackPort, listenQuietly, selfSignedCertificate } from '../../test/support/loopback.js'
import { doctorCommand } from '../cli/commands/doctor.js'
import { memoryIo } from '../cli/io.js'
import { GlrunError, GlrunErrors } from '../diagnostics/errors.js'
import { plainHttpFinding } from './gitlab-checks.js'
import { LOCAL, MACHINE, type Finding, runDoctor } from './index.js'

/**
 * `glrun doctor` against GitLab stand-ins on loopback: a TLS server with a self-signed
 * certificate, one signed by a private CA that expires soon, a plain-HTTP one, a closed port.
 * Every runner here uses the shell executor, so no check talks to a Docker engine.
 */
const dir = mkdtempSync(join(tmpdir(), 'glrun-doctor-'))
const project = join(dir, 'project')
const servers: Server[] = []
let selfSigned = { port: 0, cert: '' }
let privateCa = { port: 0, ca: '' }
let plainPort = 0
let closedPort = 0

function listen(s: Server): Promise<number> {
  servers.push(s)
  return listenQuietly(s)
}

beforeAll(async () => {
  mkdirSync(project)
  const self = selfSignedCertificate(join(dir, 'self'), 'gitlab.glrun.test')
  selfSigned = { cert: self.cert, port: await listen(tlsServer({ cert: self.cert, key: self.key }, (s) => s.end())) }
  const certs = makeCertificates(join(dir, 'ca'), ['gitlab.glrun.test', '127.0.0.1']) // valid for 2 days
  privateCa = { ca: certs.ca, port: await listen(tlsServer({ cert: readFileSync(certs.cert), key: readFileSync(certs.key) }, (s) => s.end())) }
  plainPort = await listen(netServer((s) => s.end('HTTP/1.1 200 OK\r\n\r\n')))
  closedPort = await closedLoopbackPort()
})

afterAll(() => {
  for (const s of servers) s.close()
  rmSync(dir, { recursive: true, force: true })
})

let configs = 0
function config(runners: Record<string, string>[]): string {
  const path = join(dir, `config-${++configs}.toml`)
  const toml = (r: Record<string, string>): string => `[[runners]]\n${Object.entries({ token: 'glrt-test', executor: 'shell', ...r }).map(([k, v]) => `  ${k} = ${JSON.stringify(v)}`).join('\n')}\n`
  writeFileSync(path, `concurrent = 1\n\n${runners.map(toml).join('\n')}`)
  return path
}

/** The command as main() runs it, output captured. */
async function doctor(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo()
  let code = -1
  const program = new Command('glrun').exitOverride()
  doctorCommand(program, io, (c) => { code = c })
  await program.parseAsync(['node', 'glrun', 'doctor', '--cwd', project, ...args])
  return { code, out: io.stdout, err: io.stderr }
}

async function findings(...args: string[]): Promise<{ code: number; findings: Finding[] }> {
  const r = await doctor('--json', ...args)
  return { code: r.code, findings: (JSON.parse(r.out) as { findings: Finding[] }).findings }
}

describe('glrun doctor: GitLab as the runner reaches it', () => {
  it('a self-signed certificate: FAIL with the tls-ca-file fix, and the fix works as printed', async () => {
    const r = await doctor('--config', config([{ name: 'self', url: `https://127.0.0.1:${selfSigned.port}/` }]))
    expect(r.code).toBe(1)
    expect(r.out).toMatch(/^runner "self"\n {2}ok {4}dns +127\.0\.0\.1 is an IP address/m)
    expect(r.out).toMatch(new RegExp(`^ {2}FAIL {2}tls +the certificate of 127\\.0\\.0\\.1:${selfSigned.port} \\(CN=gitlab\\.glrun\\.test, issued by CN=gitlab\\.glrun\\.test\\) is self-signed and not trusted`, 'm'))
    expect(r.out).toContain('fix: Trust it: save the certificates 127.0.0.1 presents')
    expect(r.out).toContain('tls-ca-file = "/etc/gitlab-runner/certs/127.0.0.1.crt"')
    const fetch = /^ +(openssl s_client -showcerts -connect 127\.0\.0\.1:\d+ .*)$/m.exec(r.out)?.[1]
    expect(fetch).toBeDefined()
    expect(r.out).toMatch(/^1 failed, 0 warnings, \d+ ok$/m)

    // Paste the command (into a scratch path), point tls-ca-file at its output: trusted.
    // Asynchronously: the server it talks to lives in this process.
    const saved = join(dir, 'fetched.crt')
    await promisify(execFile)('sh', ['-c', fetch!.replace('/etc/gitlab-runner/certs/127.0.0.1.crt', saved)], { timeout: 10_000 })
    expect(readFileSync(saved, 'utf8').trim()).toBe(selfSigned.cert.trim())
    const fixed = await findings('--config', config([{ name: 'self', url: `https://127.0.0.1:${selfSigned.port}/`, 'tls-ca-file': saved }]))
    expect(fixed.findings.find((f) => f.check === 'tls')).toMatchObject({ status: 'ok', what: expect.stringMatching(/is trusted with the configured CA/) })
    expect(fixed.findings.filter((f) => f.status === 'fail')).toEqual([])
    expect(fixed.code).toBe(0)
  })

  it("a private CA: tls-ca-file with the CA trusts it; a certificate about to expire is a warning, not a failure", async () => {
    const url = `https://127.0.0.1:${privateCa.port}`
    const untrusted = await findings('--config', config([{ name: 'ca', url }]))
    expect(untrusted.findings.find((f) => f.check === 'tls')).toMatchObject({ status: 'fail', probe: { detail: { problem: 'unknown CA' } } })
    const wrongCa = await findings('--config', config([{ name: 'ca', url, 'tls-ca-file': join(dir, 'self', 'cert.pem') }]))
    expect(wrongCa.findings.find((f) => f.check === 'tls')?.fix).toMatch(/does not hold the CA that signed it \(CN=glrun test CA\)/)
    const trusted = await findings('--config', config([{ name: 'ca', url, 'tls-ca-file': privateCa.ca }]))
    expect(trusted.code).toBe(0)
    expect(trusted.findings.find((f) => f.check === 'tls')).toMatchObject({ status: 'warn', what: expect.stringMatching(/valid until .* — (1 day|less than a day) from now$/) })
  })

  it('a name the certificate is not for: FAIL with a url it is for', async () => {
    const { findings: f } = await findings('--config', config([{ name: 'n', url: `https://localhost:${selfSigned.port}/`, 'tls-ca-file': join(dir, 'self', 'cert.pem') }]))
    expect(f.find((x) => x.check === 'tls')).toMatchObject({
      status: 'fail', what: expect.stringMatching(/is for gitlab\.glrun\.test, 127\.0\.0\.1, not for localhost/),
      snippet: `url = "https://gitlab.glrun.test:${selfSigned.port}/"`,
    })
  })

  it('a closed port: FAIL refused with what to check, and no TLS check after it', async () => {
    const r = await doctor('--config', config([{ name: 'closed', url: `https://127.0.0.1:${closedPort}/` }]))
    expect(r.code).toBe(1)
    expect(r.out).toMatch(new RegExp(`FAIL {2}tcp +connection to 127\\.0\\.0\\.1:${closedPort} refused: 127\\.0\\.0\\.1 is up but nothing listens on port ${closedPort}`))
    expect(r.out).toContain(`fix: Nothing listens on 127.0.0.1:${closedPort}. Check the port in url`)
    expect(r.out).not.toMatch(/ tls /)
  })

  it('plain HTTP: fine over loopback, a warning anywhere else', async () => {
    const { findings: f } = await findings('--config', config([{ name: 'http', url: `http://localhost:${plainPort}/` }]))
    expect(f.filter((x) => x.scope === 'runner "http"').map((x) => [x.check, x.status])).toEqual([['dns', 'ok'], ['tcp', 'ok'], ['http', 'ok'], ['token', 'warn'], ['executor', 'ok']])
    // (token: warn, as this stand-in answers a bare 200 to anything — not what GitLab says to verify)
    expect(plainHttpFinding('s', 'url', 'http://gitlab.example.com/', ['10.0.0.5'])).toMatchObject({ status: 'warn', what: expect.stringMatching(/tokens travel unencrypted/), snippet: 'url = "https://gitlab.example.com/"' })
  })
})

describe('glrun doctor: the runner and this machine', () => {
  it('builds_dir below a regular file: FAIL; cache_dir writable; a shell runner gets no Docker check', async () => {
    const file = join(dir, 'a-file')
    writeFileSync(file, 'x')
    const r = await findings('--config', config([{ name: 'dirs', builds_dir: join(file, 'builds'), cache_dir: join(dir, 'cache', 'sub') }]))
    expect(r.code).toBe(1)
    expect(r.findings.find((f) => f.check === 'builds_dir')).toMatchObject({ status: 'fail', what: `builds_dir ${join(file, 'builds')} cannot be created: ${file} is a file` })
    expect(r.findings.find((f) => f.check === 'cache_dir')).toMatchObject({ status: 'ok', what: `cache_dir ${join(dir, 'cache', 'sub')} does not exist yet; ${dir} is writable, so it can be created` })
    expect(existsSync(join(dir, 'cache'))).toBe(false)
    expect(r.findings.filter((f) => f.check === 'docker' || f.check === 'image')).toEqual([])
    expect(r.findings.find((f) => f.check === 'executor')).toMatchObject({ status: 'ok', what: expect.stringMatching(/^the shell executor runs jobs with (bash|sh) on this machine$/) })
  })

  it('this machine: git 2.x, sh, and the project .glrun', async () => {
    const r = await findings()
    const machine = r.findings.filter((f) => f.scope === MACHINE)
    expect(machine.map((f) => f.check)).toEqual(['git', 'sh', 'bash', '.glrun'])
    expect(machine[0]).toMatchObject({ status: 'ok', what: expect.stringMatching(/^git version 2\./) })
    expect(machine[3]).toMatchObject({ status: 'ok', what: `.glrun ${join(project, '.glrun')} does not exist yet; ${project} is writable, so it can be created` })
  })

  it('without a config: the shell executor, and Docker only when an engine is configured or has a socket', async () => {
    const report = await runDoctor({ cwd: project, env: {} })
    const local = report.findings.filter((f) => f.scope === LOCAL)
    expect(local[0]).toMatchObject({ check: 'executor', status: 'ok' })
    if (!existsSync('/var/run/docker.sock')) expect(local.map((f) => f.check)).toEqual(['executor'])
  })

  it('--runner picks one runner; an unknown one, --runner alone and a broken config are usage errors', async () => {
    const path = config([{ name: 'one', url: `https://127.0.0.1:${closedPort}/` }, { name: 'two' }])
    const two = await findings('--config', path, '--runner', 'two')
    expect(two.code).toBe(0)
    expect([...new Set(two.findings.map((f) => f.scope))]).toEqual(['runner "two"', MACHINE])
    await expect(doctor('--config', path, '--runner', 'three')).rejects.toMatchObject({ code: 'GLRUN_CONFIG_RUNNER_UNKNOWN' })
    await expect(doctor('--runner', 'two')).rejects.toBeInstanceOf(GlrunError)
    await expect(doctor('--config', config([{ name: 'bad', executor: 'shel' }]))).rejects.toBeInstanceOf(GlrunErrors)
    await expect(doctor('--config', join(dir, 'missing.toml'))).rejects.toMatchObject({ code: 'GLRUN_CONFIG_READ' })
  })
})
