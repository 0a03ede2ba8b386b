import type { IncomingMessage, ServerResponse } from 'node:http'
import type { RecordedRequest, RouteName } from './types.js'

/** Every request the double received, in arrival order, with what it answered. */
export class Recorder {
  readonly all: RecordedRequest[] = []

  start(req: IncomingMessage, res: ServerResponse, url: URL, route: RouteName, listener: 'api' | 'storage', scheme: 'http' | 'https'): RecordedRequest {
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v
    const record: RecordedRequest = {
      seq: this.all.length + 1, route, method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams),
      headers, bodySize: 0, params: null, status: null, reset: false, startedAt: Date.now(), durationMs: null, listener, scheme,
    }
    this.all.push(record)
    // The status is taken when the head is written: a client can have read the whole answer
    // before the server's 'finish' event runs, and tests look right after the answer.
    const writeHead = res.writeHead.bind(res) as (status: number, ...rest: unknown[]) => ServerResponse
    res.writeHead = ((status: number, ...rest: unknown[]) => {
      record.status = status
      record.durationMs = Date.now() - record.startedAt
      return writeHead(status, ...rest)
    }) as ServerResponse['writeHead']
    res.once('finish', () => {
      record.status = res.statusCode
      record.durationMs = Date.now() - record.startedAt
    })
    res.once('close', () => { record.durationMs ??= Date.now() - record.startedAt })
    return record
  }

  /** The requests to one route (e.g. 'trace'), optionally for one job id. */
  to(route: RouteName, jobId?: number): RecordedRequest[] {
    return this.all.filter((r) => r.route === route && (jobId === undefined || new RegExp(`/jobs/${jobId}(/|$)`).test(r.path)))
  }

  /** Resolves once a request matching `pred` has been answered (or reset); rejects after `ms`. */
  async waitFor(pred: (r: RecordedRequest) => boolean, ms = 10_000): Promise<RecordedRequest> {
    const deadline = Date.now() + ms
    for (;;) {
      const hit = this.all.find((r) => pred(r) && (r.status !== null || r.reset))
      if (hit) return hit
      if (Date.now() > deadline) throw new Error('gitlab-double: no matching request arrived in time')
      await new Promise((r) => setTimeout(r, 10))
    }
  }
}
