import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { docker } from './docker-env.js'

/** A CA and a server certificate for `names`, made with openssl (a self-signed GitLab). */
export function makeCertificates(dir: string, names: string[]): { ca: string; cert: string; key: string } {
  mkdirSync(dir, { recursive: true })
  const o = (...args: string[]): void => { execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' }) }
  o('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=glrun test CA', '-keyout', 'ca.key', '-out', 'ca.crt',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
  o('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${names[0]}`, '-keyout', 'server.key', '-out', 'server.csr')
  writeFileSync(join(dir, 'ext.cnf'), `subjectAltName=${names.map((n) => (/^\d/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',')}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`)
  o('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'ext.cnf', '-out', 'server.crt')
  return { ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') }
}

/** A bare repository `<root>/root/<name>.git` with one commit; returns its sha. */
export function makeBareRepo(root: string, name: string, files: Record<string, string>): string {
  const work = join(root, `${name}-work`)
  mkdirSync(work, { recursive: true })
  const g = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } }).trim()
  g(work, 'init', '-q', '-b', 'main')
  for (const [f, text] of Object.entries(files)) writeFileSync(join(work, f), text)
  g(work, 'add', '.')
  g(work, 'commit', '-qm', 'init')
  const bare = join(root, 'root', `${name}.git`)
  mkdirSync(join(root, 'root'), { recursive: true })
  g(root, 'clone', '-q', '--bare', work, bare)
  g(bare, 'config', 'uploadpack.allowAnySHA1InWant', 'true')
  g(bare, 'config', 'http.receivepack', 'false')
  return g(work, 'rev-parse', 'HEAD')
}

/** The same server on this host (for network_mode = "host"): resolves once it listens. */
export async function startHostGitServer(host: string, port: number, root: string, certs: { cert: string; key: string }): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(import.meta.dirname, '../fixtures/git-server/server.mjs'), host, String(port), root, certs.cert, certs.key], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve())
    child.once('exit', (c) => reject(new Error(`git server exited with ${c}`)))
  })
  return child
}

/**
 * The test GitLab's git side in a container of its own (glrun-test/tools: node and git
 * http-backend behind HTTPS) on `network`, serving `<root>/git` with the certificate in
 * `<root>/certs` (makeBareRepo, makeCertificates): reachable by address only, as a private GitLab
 * is from a job. Resolves with its address on that network once it listens.
 */
export async function startGitServerContainer(name: string, network: string, root: string): Promise<string> {
  const server = join(import.meta.dirname, '../fixtures/git-server/server.mjs')
  docker('run', '-d', '--name', name, '--network', network, '-v', `${join(root, 'git')}:/srv/git:ro`, '-v', `${join(root, 'certs')}:/certs:ro`, '-v', `${server}:/srv/server.mjs:ro`,
    'glrun-test/tools:latest', 'node', '/srv/server.mjs', '0.0.0.0', '443', '/srv/git', '/certs/server.crt', '/certs/server.key')
  const ip = docker('inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, name).trim()
  for (let i = 0; i < 50 && !docker('logs', name).includes('listening'); i++) await new Promise((r) => setTimeout(r, 100))
  return ip
}

