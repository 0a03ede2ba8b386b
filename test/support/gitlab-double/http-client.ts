import { type ClientRequest, type IncomingHttpHeaders, request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'

export interface Answer {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
  text: string
  json(): unknown
}

export interface Call {
  method: string
  path: string
  headers?: Record<string, string>
  /** An object is sent as JSON. */
  body?: Buffer | string | Record<string, unknown>
  /** CA to trust for https URLs. */
  ca?: string
  /** Sends the body in these pieces with a pause between them, so the server reads them separately. */
  pieces?: { sizes: number[]; gapMs: number }
  /** Aborts the request (to hang up on a held long poll). */
  signal?: AbortSignal
}

/**
 * A bare HTTP(S) client for the double's own tests (real sockets, no retries, no redirects
 * followed), so each answer is exactly what the double sent.
 */
export function send(base: string, call: Call): Promise<Answer> {
  const url = new URL(call.path, base)
  const headers: Record<string, string> = { ...call.headers }
  let payload: Buffer | undefined
  if (call.body !== undefined) {
    if (Buffer.isBuffer(call.body) || typeof call.body === 'string') {
      payload = Buffer.from(call.body)
    } else {
      payload = Buffer.from(JSON.stringify(call.body))
      headers['content-type'] ??= 'application/json'
    }
    headers['content-length'] = String(payload.length)
  }
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = request(url, { method: call.method, headers, agent: false, ...(call.ca ? { ca: call.ca } : {}), ...(call.signal ? { signal: call.signal } : {}) }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => {
        const body = Buffer.concat(chunks)
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8'), json: () => JSON.parse(body.toString('utf8')) })
      })
    })
    req.on('error', reject)
    if (!call.pieces || !payload) {
      req.end(payload)
      return
    }
    void writePieces(req, payload, call.pieces)
  })
}

async function writePieces(req: ClientRequest, payload: Buffer, pieces: { sizes: number[]; gapMs: number }): Promise<void> {
  let at = 0
  for (const size of pieces.sizes) {
    req.write(payload.subarray(at, at + size))
    at += size
    await new Promise((r) => setTimeout(r, pieces.gapMs))
  }
  req.end(payload.subarray(at))
}
