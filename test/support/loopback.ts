import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { type Server, createServer } from 'node:net'
import { join } from 'node:path'

/**
 * Stand-in servers on 127.0.0.1 for tests of checks that connect, hang up mid-handshake on
 * purpose and judge what they saw: the servers must not call that an error.
 */
export async function listenQuietly(s: Server): Promise<number> {
  s.on('connection', (c) => c.on('error', () => undefined))
  s.on('tlsClientError', () => undefined)
  s.on('clientError', () => undefined)
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  return (s.address() as { port: number }).port
}

/** A loopback port that was just free: a connection to it is refused. */
export async function closedPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as { port: number }).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

/** A self-signed certificate for `name` and 127.0.0.1, written to dir/cert.pem and dir/key.pem. */
export function selfSignedCertificate(dir: string, name: string, days = 365): { cert: string; key: string; certPath: string } {
  mkdirSync(dir, { recursive: true })
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', String(days), '-subj', `/CN=${name}`,
    '-addext', `subjectAltName=DNS:${name},IP:127.0.0.1`, '-keyout', 'key.pem', '-out', 'cert.pem'], { cwd: dir, stdio: 'pipe' })
  const certPath = join(dir, 'cert.pem')
  return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8'), certPath }
}
