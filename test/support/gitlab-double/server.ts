import { mkdtempSync, rmSync } from 'node:fs'
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { downloadArtifacts, objectStorage, uploadArtifacts } from './artifacts-api.js'
import { type RouteContext, drain, reply } from './http-io.js'
import { requestJob } from './job-request.js'
import { updateJob } from './job-update.js'
import { Recorder } from './recorder.js'
import { registerRunner, resetRunnerToken, unregisterManager, unregisterRunner, verifyRunner } from './runners-api.js'
import { DoubleState } from './state.js'
import { makeDoubleCertificates } from './tls.js'
import { patchTrace } from './trace-api.js'
import type { DoubleOptions, RouteName } from './types.js'

/**
 * A GitLab double: the server side of the runner API (what Rails + Workhorse answer a runner)
 * on loopback, over HTTP and optionally HTTPS with a throw-away CA. Test support only.
 * `state` holds runners, jobs and the rogue switches; `recorder` every request received.
 */
export interface GitLabDouble {
  /** http://127.0.0.1:<port> — give runners this (or `httpsUrl`) as the GitLab URL. */
  url: string
  httpsUrl: string | null
  /** The CA that signed the HTTPS certificate (PEM and file), when `tls` was asked for. */
  caPem: string | null
  caPath: string | null
  state: DoubleState
  recorder: Recorder
  close(): Promise<void>
}

type Handler = (ctx: RouteContext) => Promise<void>

const ROUTES: { method: string; path: RegExp; route: RouteName; handler: Handler }[] = [
  { method: 'POST', path: /^\/api\/v4\/runners$/, route: 'register', handler: registerRunner },
  { method: 'POST', path: /^\/api\/v4\/runners\/verify$/, route: 'verify', handler: verifyRunner },
  { method: 'DELETE', path: /^\/api\/v4\/runners$/, route: 'unregister', handler: unregisterRunner },
  { method: 'DELETE', path: /^\/api\/v4\/runners\/managers$/, route: 'unregister-manager', handler: unregisterManager },
  { method: 'POST', path: /^\/api\/v4\/runners\/reset_authentication_token$/, route: 'reset-token', handler: resetRunnerToken },
  { method: 'POST', path: /^\/api\/v4\/jobs\/request$/, route: 'jobs-request', handler: requestJob },
  { method: 'PUT', path: /^\/api\/v4\/jobs\/(\d+)$/, route: 'job-update', handler: updateJob },
  { method: 'PATCH', path: /^\/api\/v4\/jobs\/(\d+)\/trace$/, route: 'trace', handler: patchTrace },
  { method: 'POST', path: /^\/api\/v4\/jobs\/(\d+)\/artifacts$/, route: 'artifacts-upload', handler: uploadArtifacts },
  { method: 'GET', path: /^\/api\/v4\/jobs\/(\d+)\/artifacts$/, route: 'artifacts-download', handler: downloadArtifacts },
]

export async function startGitLabDouble(options: DoubleOptions = {}): Promise<GitLabDouble> {
  const ownDir = options.dir === undefined
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'gitlab-double-'))
  const state = new DoubleState({
    longPollMs: options.longPollMs ?? 0, finalisingPuts: options.finalisingPuts ?? 0, finalisingInterval: options.finalisingInterval ?? 0,
    traceUpdateInterval: options.traceUpdateInterval ?? 60, traceLimitBytes: options.traceLimitBytes ?? Number.POSITIVE_INFINITY,
    artifactLimitBytes: options.artifactLimitBytes ?? Number.POSITIVE_INFINITY, artifactsRedirect: options.artifactsRedirect ?? false,
    registrationToken: options.registrationToken ?? 'GR1348941-double-registration', registrationDisabled: options.registrationDisabled ?? false,
  }, dir)
  const recorder = new Recorder()
  const certs = options.tls ? makeDoubleCertificates(dir) : null
  const storageUrls: Record<'http' | 'https', string> = { http: '', https: '' }

  const handle = (listener: 'api' | 'storage', scheme: 'http' | 'https') => (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://double')
    const storageKey = listener === 'storage' ? /^\/object-storage\/([0-9a-f]+)$/.exec(url.pathname)?.[1] : undefined
    const match = listener === 'api' ? ROUTES.find((r) => r.method === req.method && r.path.test(url.pathname)) : undefined
    const route: RouteName = listener === 'storage' ? (storageKey && req.method === 'GET' ? 'object-storage' : 'unknown') : match?.route ?? 'unknown'
    const record = recorder.start(req, res, url, route, listener, scheme)
    const ctx: RouteContext = {
      req, res, state, record, query: url.searchParams, storageUrl: storageUrls[scheme],
      id: Number(match?.path.exec(url.pathname)?.[1] ?? 0),
    }
    const run = async (): Promise<void> => {
      const failure = state.takeFailure(route)
      if (failure) {
        // A proxy or a restarting Puma answering for GitLab: the request never reaches the API.
        await drain(ctx)
        reply(ctx, failure.status, `${failure.status} (gitlab-double rogue answer)`, failure.headers)
      } else if (route === 'object-storage') {
        await objectStorage(ctx, storageKey!)
      } else if (match) {
        await match.handler(ctx)
      } else {
        await drain(ctx)
        reply(ctx, 404, { message: '404 Not Found' })
      }
    }
    run().catch((e: unknown) => {
      if (!res.headersSent && !res.destroyed) reply(ctx, 500, { message: `500 gitlab-double: ${String(e)}` })
      else res.destroy()
    })
  }

  const servers: Server[] = []
  const listen = async (server: Server): Promise<number> => {
    servers.push(server)
    server.on('clientError', (_e, socket) => socket.destroy())
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    return (server.address() as AddressInfo).port
  }
  const httpPort = await listen(createServer(handle('api', 'http')))
  storageUrls.http = `http://127.0.0.1:${await listen(createServer(handle('storage', 'http')))}`
  let httpsUrl: string | null = null
  if (certs) {
    httpsUrl = `https://127.0.0.1:${await listen(createHttpsServer({ cert: certs.cert, key: certs.key }, handle('api', 'https')))}`
    storageUrls.https = `https://127.0.0.1:${await listen(createHttpsServer({ cert: certs.cert, key: certs.key }, handle('storage', 'https')))}`
  }

  return {
    url: `http://127.0.0.1:${httpPort}`, httpsUrl, caPem: certs?.caPem ?? null, caPath: certs?.caPath ?? null, state, recorder,
    async close() {
      state.shutdown()
      await Promise.all(servers.map((s) => new Promise<void>((r) => {
        s.close(() => r())
        s.closeAllConnections()
      })))
      if (ownDir) rmSync(dir, { recursive: true, force: true })
    },
  }
}
