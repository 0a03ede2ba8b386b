import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { Readable } from 'node:stream'
import { rootCertificates } from 'node:tls'

/** How glrun reaches one GitLab: its URL and the CA that signs it (config.toml's tls-ca-file). */
export interface GitLabEndpoint {
  url: string
  caPem?: string
}

export interface HttpAnswer {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

export interface HttpCall {
  method: string
  path: string
  headers?: Record<string, string>
  /** A body in memory (JSON, a trace chunk) or a stream (an artifact, sent chunked). */
  body?: Buffer | string | Readable
  /** Give up waiting for the answer's head after this long (long polls need > 60 s). */
  timeoutMs?: number
  /** Stream the answer's body here instead of collecting it (artifact downloads). */
  sink?: (res: IncomingMessage) => Promise<void>
}

/**
 * One request to GitLab over node's http/https, with the endpoint's CA. Network failures reject
 * (the caller decides about retries); every HTTP status resolves.
 */
export function call(ep: GitLabEndpoint, c: HttpCall, base?: URL): Promise<HttpAnswer> {
  const url = new URL(c.path, base ?? (ep.url.endsWith('/') ? ep.url : `${ep.url}/`))
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = send(url, {
      method: c.method,
      // Content-Length for a body in memory: node frames neither length nor chunks on a DELETE
      // (unregister sends its token in the body), and the server then reads garbage.
      headers: { 'User-Agent': 'glrun', ...(typeof c.body === 'string' || Buffer.isBuffer(c.body) ? { 'Content-Length': String(Buffer.byteLength(c.body)) } : {}), ...(c.headers ?? {}) },
      // On top of the system CAs, not instead: a redirect may lead to object storage with a public certificate.
      ...(url.protocol === 'https:' && ep.caPem ? { ca: [...rootCertificates, ep.caPem] } : {}),
    }, (res) => {
      if (c.sink && res.statusCode === 200) {
        c.sink(res).then(() => resolve({ status: 200, headers: res.headers, body: Buffer.alloc(0) }), reject)
        return
      }
      const chunks: Buffer[] = []
      res.on('data', (d: Buffer) => chunks.push(d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('error', reject)
    if (c.timeoutMs) req.setTimeout(c.timeoutMs, () => req.destroy(new Error(`no answer from ${url.origin} within ${Math.round(c.timeoutMs! / 1000)} s`)))
    if (c.body === undefined) req.end()
    else if (typeof c.body === 'string' || Buffer.isBuffer(c.body)) req.end(c.body)
    else {
      c.body.on('error', (e) => req.destroy(e))
      c.body.pipe(req)
    }
  })
}

export function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name.toLowerCase()]
  return Array.isArray(v) ? v[0] : v
}
