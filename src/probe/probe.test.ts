import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { type Server, createServer as netServer } from 'node:net'
import { createServer as httpsServer } from 'node:https'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer as tlsServer } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeCertificates } from '../../test/support/git-https.js'
import { closedPort, listenQuietly } from '../../test/support/loopback.js'
import { probeDns, probeRegistry, probeTcp, probeTls } from './index.js'

/** Real sockets on loopback: a self-signed server, a private CA's, an expired one, a closed port. */
const dir = mkdtempSync(join(tmpdir(), 'glrun-probe-'))
const servers: Server[] = []
const o = (...args: string[]): void => { execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' }) }

function selfSigned(name: string, dates?: { start: string; end: string }): { cert: string; key: string } {
  const sub = join(dir, `${name}-${dates ? 'old' : 'new'}`)
  execFileSync('mkdir', ['-p', sub])
  const run = (...args: string[]): void => { execFileSync('openssl', args, { cwd: sub, stdio: 'pipe' }) }
  if (!dates) {
    run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name},IP:127.0.0.1`, '-keyout', 'key.pem', '-out', 'cert.pem')
  } else {
    // `openssl ca` is the one tool here that can set dates in the past (for "expired").
    writeFileSync(join(sub, 'ca.cnf'), '[ca]\ndefault_ca=d\n[d]\ndatabase=idx\nnew_certs_dir=.\nserial=ser\ndefault_md=sha256\npolicy=p\ncopy_extensions=copy\n[p]\ncommonName=supplied\n')
    writeFileSync(join(sub, 'idx'), '')
    writeFileSync(join(sub, 'ser'), '01\n')
    run('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', 'key.pem', '-out', 'req.csr')
    run('ca', '-batch', '-config', 'ca.cnf', '-selfsign', '-keyfile', 'key.pem', '-in', 'req.csr', '-startdate', dates.start, '-enddate', dates.end, '-out', 'cert.pem')
  }
  return { cert: readFileSync(join(sub, 'cert.pem'), 'utf8'), key: readFileSync(join(sub, 'key.pem'), 'utf8') }
}

function listen(s: Server): Promise<number> {
  servers.push(s)
  return listenQuietly(s)
}

let ca = ''
let otherCa = ''
const ports = { selfSigned: 0, privateCa: 0, otherName: 0, expired: 0, plain: 0, reg401: 0, reg429: 0, reg404: 0 }
beforeAll(async () => {
  o('version')
  const certs = makeCertificates(join(dir, 'ca'), ['gitlab.glrun.test', '127.0.0.1'])
  ca = readFileSync(certs.ca, 'utf8')
  const leaf = { cert: readFileSync(certs.cert), key: readFileSync(certs.key) }
  ports.selfSigned = await listen(tlsServer(selfSigned('self.glrun.test'), (s) => s.end()))
  ports.privateCa = await listen(tlsServer(leaf, (s) => s.end()))
  const other = makeCertificates(join(dir, 'other'), ['other.glrun.test'])
  otherCa = readFileSync(other.ca, 'utf8')
  ports.otherName = await listen(tlsServer({ cert: readFileSync(other.cert), key: readFileSync(other.key) }, (s) => s.end()))
  ports.expired = await listen(tlsServer(selfSigned('old.glrun.test', { start: '20200101000000Z', end: '20200102000000Z' }), (s) => s.end()))
  ports.plain = await listen(netServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n')))
  const registry = (status: number, headers: Record<string, string> = {}) => httpsServer(leaf, (req, res) => {
    res.writeHead(req.url === '/v2/' ? status : 404, headers)
    res.end('{}')
  })
  ports.reg401 = await listen(registry(401, { 'www-authenticate': 'Bearer realm="https://auth.glrun.test/token"' }))
  ports.reg429 = await listen(registry(429))
  ports.reg404 = await listen(registry(404))
})
afterAll(() => {
  for (const s of servers) s.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('probeTls', () => {
  it('a self-signed certificate', async () => {
    const r = await probeTls('127.0.0.1', ports.selfSigned)
    expect(r).toMatchObject({ kind: 'tls', from: 'runner', target: `127.0.0.1:${ports.selfSigned}`, ok: false, detail: { problem: 'self-signed', error: 'DEPTH_ZERO_SELF_SIGNED_CERT', subject: 'CN=self.glrun.test' } })
    expect(r.summary).toMatch(/self-signed.*tls-ca-file/)
  })

  it('a private CA this machine does not know, then trusted with that CA', async () => {
    const untrusted = await probeTls('127.0.0.1', ports.privateCa)
    expect(untrusted).toMatchObject({ ok: false, detail: { problem: 'unknown CA', issuer: 'CN=glrun test CA' } })
    expect((untrusted.detail?.['chain'] as string[])[0]).toBe('CN=gitlab.glrun.test ← CN=glrun test CA')
    const trusted = await probeTls('127.0.0.1', ports.privateCa, { ca })
    expect(trusted).toMatchObject({ ok: true })
    expect(trusted.summary).toMatch(/is trusted with the configured CA/)
  })

  it('a certificate for another name', async () => {
    const r = await probeTls('127.0.0.1', ports.privateCa, { ca, servername: 'registry.glrun.test' })
    expect(r).toMatchObject({ ok: false, detail: { problem: 'name mismatch', error: 'ERR_TLS_CERT_ALTNAME_INVALID' } })
    expect(r.summary).toMatch(/is for gitlab\.glrun\.test, 127\.0\.0\.1, not for registry\.glrun\.test/)
  })

  it('an IP address is checked against the IP addresses the certificate names', async () => {
    const r = await probeTls('127.0.0.1', ports.otherName, { ca: otherCa })
    expect(r).toMatchObject({ ok: false, detail: { problem: 'name mismatch', altNames: ['other.glrun.test'] } })
    expect(r.summary).toMatch(/is for other\.glrun\.test, not for 127\.0\.0\.1/)
    expect(await probeTls('127.0.0.1', ports.otherName, { ca: otherCa, servername: 'other.glrun.test' })).toMatchObject({ ok: true })
  })

  it('an expired certificate', async () => {
    const r = await probeTls('127.0.0.1', ports.expired)
    expect(r).toMatchObject({ ok: false, detail: { problem: 'expired', error: 'CERT_HAS_EXPIRED' } })
    expect(r.summary).toMatch(/expired on Jan +2 00:00:00 2020 GMT/)
  })

  it('a port that does not speak TLS, and one where nothing listens', async () => {
    const plain = await probeTls('127.0.0.1', ports.plain)
    expect(plain).toMatchObject({ ok: false, detail: { outcome: 'not TLS' } })
    const closed = await probeTls('127.0.0.1', await closedPort())
    expect(closed).toMatchObject({ ok: false, detail: { outcome: 'refused', error: 'ECONNREFUSED' } })
  })
})

describe('probeTcp', () => {
  it('tells connected from refused', async () => {
    expect(await probeTcp('127.0.0.1', ports.plain)).toMatchObject({ ok: true, detail: { outcome: 'connected', address: '127.0.0.1' } })
    const port = await closedPort()
    const r = await probeTcp('127.0.0.1', port)
    expect(r).toMatchObject({ kind: 'tcp', target: `127.0.0.1:${port}`, ok: false, detail: { outcome: 'refused', error: 'ECONNREFUSED' } })
    expect(r.summary).toMatch(/^connection to 127\.0\.0\.1:\d+ refused: 127\.0\.0\.1 is up but nothing listens on port \d+/)
  })
})

describe('probeRegistry', () => {
  it('401 with a token realm: reachable, pulls need a token', async () => {
    const r = await probeRegistry(`127.0.0.1:${ports.reg401}`, { ca })
    expect(r).toMatchObject({ kind: 'registry', ok: true, detail: { status: 401 } })
    expect(r.summary).toMatch(/401.*pulls need a login or token \(Bearer\)/)
  })

  it('429 is a rate limit; 404 is not a registry; a closed port is refused; an untrusted certificate says so', async () => {
    expect(await probeRegistry(`127.0.0.1:${ports.reg429}`, { ca })).toMatchObject({ ok: false, detail: { status: 429 } })
    expect((await probeRegistry(`127.0.0.1:${ports.reg404}`, { ca })).summary).toMatch(/answers 404: not a Docker registry API/)
    expect(await probeRegistry(`127.0.0.1:${await closedPort()}`)).toMatchObject({ ok: false, detail: { outcome: 'refused' } })
    const untrusted = await probeRegistry(`127.0.0.1:${ports.reg401}`)
    expect(untrusted).toMatchObject({ ok: false, detail: { outcome: 'untrusted', problem: 'unknown CA' } })
    expect(untrusted.summary).toMatch(/\/etc\/docker\/certs\.d\/127\.0\.0\.1:\d+\/ca\.crt/)
  })
})

describe('probeDns', () => {
  it('names in /etc/hosts resolve (getaddrinfo, like git and curl)', async () => {
    expect(await probeDns('localhost')).toMatchObject({ ok: true, detail: { addresses: expect.arrayContaining(['127.0.0.1']) } })
    // The machine's own name only when /etc/hosts has it: anything else would ask a DNS server.
    if (readFileSync('/etc/hosts', 'utf8').split('\n').some((l) => l.replace(/#.*/, '').trim().split(/\s+/).slice(1).includes(hostname()))) {
      expect((await probeDns(hostname())).ok).toBe(true)
    }
    expect(await probeDns('10.1.2.3')).toMatchObject({ ok: true, detail: { addresses: ['10.1.2.3'] } })
    expect(await probeDns('::1')).toMatchObject({ ok: true, detail: { addresses: ['::1'] } })
  })
})
