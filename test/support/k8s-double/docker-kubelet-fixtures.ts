import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { type Server, createServer as createHttpServer, request } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { docker } from '../docker-env.js'

/** Helpers of the Docker kubelet's tests: polling, free ports, a registry that wants credentials. */

/** The first value `f` gives within `ms`, polling. */
export async function eventually<T>(f: () => T | undefined, ms = 10_000): Promise<T | undefined> {
  for (const end = Date.now() + ms; ; await new Promise((r) => setTimeout(r, 50))) {
    const v = f()
    if (v !== undefined || Date.now() > end) return v
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/**
 * Debian's docker-registry behind a proxy that wants HTTP Basic credentials, holding busybox as
 * glrun/private:1 (pushed straight to the registry, then forgotten by the engine).
 */
export async function privateRegistry(user: string, password: string): Promise<{ image: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'glrun-k8s-registry-'))
  const port = await freePort()
  writeFileSync(join(dir, 'config.yml'), `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: 127.0.0.1:${port}\n`)
  const registry: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' })
  for (let i = 0; i < 100 && !(await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 100))
  docker('tag', 'busybox:latest', `127.0.0.1:${port}/glrun/private:1`)
  docker('push', `127.0.0.1:${port}/glrun/private:1`)
  docker('rmi', `127.0.0.1:${port}/glrun/private:1`)
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
  const proxy: Server = createHttpServer((req, res) => {
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="glrun-test"', 'Content-Type': 'application/json' })
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }))
      return
    }
    const up = request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers)
      r.pipe(res)
    })
    up.on('error', () => res.destroy())
    req.pipe(up)
  })
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
  const image = `127.0.0.1:${(proxy.address() as { port: number }).port}/glrun/private:1`
  return {
    image,
    stop: async () => {
      await new Promise((r) => proxy.close(r))
      registry.kill()
      try { docker('rmi', image) } catch { /* never pulled */ }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
