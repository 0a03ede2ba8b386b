import type { IncomingMessage, ServerResponse } from 'node:http'
import type { DoubleState } from './state.js'
import type { RecordedRequest } from './types.js'

/** One request as a route handler sees it. */
export interface RouteContext {
  req: IncomingMessage
  res: ServerResponse
  state: DoubleState
  record: RecordedRequest
  /** Path parameters (`:id`). */
  id: number
  query: URLSearchParams
  /** Base URL of the storage listener with the same scheme as this request (for artifact redirects). */
  storageUrl: string
}

/** Reads the whole body, counting it into the record. */
export async function readBody(ctx: RouteContext): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of ctx.req) {
    const b = chunk as Buffer
    ctx.record.bodySize += b.length
    chunks.push(b)
  }
  return Buffer.concat(chunks)
}

/** Reads and throws away the body: answers are only sent once the client has finished sending. */
export async function drain(ctx: RouteContext): Promise<void> {
  for await (const chunk of ctx.req) ctx.record.bodySize += (chunk as Buffer).length
}

/**
 * Grape's params: the query string merged with a JSON or form body (body wins, as in Rails).
 * Returns null when the body is not parsable, which Grape answers with 400.
 */
export function parseParams(ctx: RouteContext, body: Buffer): Record<string, unknown> | null {
  const params: Record<string, unknown> = Object.fromEntries(ctx.query)
  const type = (ctx.req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (body.length === 0) return params
  if (type === 'application/json') {
    try {
      const parsed: unknown = JSON.parse(body.toString('utf8'))
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null
      return { ...params, ...(parsed as Record<string, unknown>) }
    } catch {
      return null
    }
  }
  if (type === 'application/x-www-form-urlencoded') return { ...params, ...Object.fromEntries(new URLSearchParams(body.toString('utf8'))) }
  return params
}

export function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null
}

export function reply(ctx: RouteContext, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const { res } = ctx
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v)
  if (status === 204 || body === undefined) {
    res.writeHead(status).end()
    return
  }
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  res.setHeader('Content-Type', typeof body === 'string' ? 'text/plain' : 'application/json')
  res.writeHead(status).end(text)
}

/** Grape's `forbidden!`, `not_found!`, `error!(...)`: a JSON message body. */
export function replyMessage(ctx: RouteContext, status: number, message: string, headers: Record<string, string> = {}): void {
  reply(ctx, status, { message }, headers)
}

/** Grape's param validation failure: 400 with `{"error": "<param> is missing"}`. */
export function replyMissing(ctx: RouteContext, param: string): void {
  reply(ctx, 400, { error: `${param} is missing` })
}

/** The job token: the `token` param wins over the `JOB-TOKEN` header (GitLab's `job_token_from_request`). */
export function jobToken(ctx: RouteContext, params: Record<string, unknown> | null): string | null {
  return str(params?.['token']) ?? str(ctx.query.get('token')) ?? str(headerOf(ctx, 'job-token'))
}

export function headerOf(ctx: RouteContext, name: string): string | undefined {
  const v = ctx.req.headers[name]
  return Array.isArray(v) ? v[0] : v
}
