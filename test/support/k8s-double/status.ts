import type { ServerResponse } from 'node:http'

/**
 * metav1.Status bodies exactly as the apiserver writes them (field order included: kind,
 * apiVersion, metadata, status, message, reason, details, code), from k8s.io/apimachinery
 * pkg/api/errors and apiserver pkg/endpoints/handlers/responsewriters.
 */
export interface Status {
  kind: 'Status'
  apiVersion: 'v1'
  metadata: Record<string, never>
  status: 'Success' | 'Failure'
  message?: string
  reason?: string
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: Cause[]; retryAfterSeconds?: number }
  code: number
}

export interface Cause { reason?: string; message: string; field?: string }

/** An answer a handler can throw: the server writes `status` with `status.code`. */
export class ApiError extends Error {
  constructor(readonly status: Status, readonly headers: Record<string, string> = {}) {
    super(status.message ?? status.reason ?? String(status.code))
  }
}

export function failure(code: number, reason: string, message: string, details?: Status['details']): Status {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }
  if (details) {
    // Keep `code` last, as the apiserver's JSON has it.
    delete (s as Partial<Status>).code
    s.details = details
    s.code = code
  }
  return s
}

/** `pods "x" not found` (or `pods.policy "x" …` for a group resource). */
export function notFound(resource: string, name: string, group = ''): ApiError {
  return new ApiError(failure(404, 'NotFound', `${qualified(resource, group)} "${name}" not found`, withGroup({ name, kind: resource }, group)))
}

export function alreadyExists(resource: string, name: string, group = ''): ApiError {
  return new ApiError(failure(409, 'AlreadyExists', `${qualified(resource, group)} "${name}" already exists`, withGroup({ name, kind: resource }, group)))
}

export function conflict(resource: string, name: string, why: string): ApiError {
  return new ApiError(failure(409, 'Conflict', `Operation cannot be fulfilled on ${resource} "${name}": ${why}`, { name, kind: resource }))
}

/** `<resource> "<name>" is forbidden: <why>`, or `<resource> is forbidden: <why>` without a name. */
export function forbidden(resource: string, name: string, why: string, group = ''): ApiError {
  const q = qualified(resource, group)
  const message = name ? `${q} "${name}" is forbidden: ${why}` : `${q} is forbidden: ${why}`
  return new ApiError(failure(403, 'Forbidden', message, withGroup(name ? { name, kind: resource } : { kind: resource }, group)))
}

export function badRequest(message: string): ApiError {
  return new ApiError(failure(400, 'BadRequest', message))
}

export function unauthorized(): ApiError {
  return new ApiError(failure(401, 'Unauthorized', 'Unauthorized'))
}

export function methodNotAllowed(): ApiError {
  return new ApiError(failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'))
}

export function unsupportedMediaType(): ApiError {
  return new ApiError(failure(415, 'UnsupportedMediaType',
    'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf'))
}

/** 422 `Pod "p" is invalid: <field>: <detail>` or, with several, `Pod "p" is invalid: [a, b]`. */
export function invalid(kind: string, name: string, causes: Cause[], group = ''): ApiError {
  const parts = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message))
  const list = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`
  const gk = group ? `${kind}.${group}` : kind
  return new ApiError(failure(422, 'Invalid', `${gk} "${name}" is invalid: ${list}`, withGroup({ name, kind, causes }, group)))
}

/** The api-priority-and-fairness / proxy style answers fault injection gives. */
export function injected(code: number, retryAfter?: number): Status {
  const known: Record<number, [string, string]> = {
    429: ['TooManyRequests', 'Too many requests, please try again later.'],
    500: ['InternalError', 'Internal error occurred: injected by the k8s double'],
    503: ['ServiceUnavailable', 'the server is currently unable to handle the request'],
    504: ['Timeout', 'the server was unable to return a response in the time allotted, but may still be processing the request'],
  }
  const [reason, message] = known[code] ?? ['Unknown', `the server responded with the status code ${code} but did not return more information`]
  return failure(code, reason, message, retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : undefined)
}

/** What a DELETE of a non-pod object answers (the apiserver omits `code` here). */
export function success(details: Status['details']): Omit<Status, 'code'> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details }
}

export function sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private', ...headers })
  res.end(text)
}

export function sendStatus(res: ServerResponse, err: ApiError): void {
  sendJson(res, err.status.code, err.status, err.headers)
}

function qualified(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource
}

function withGroup(details: NonNullable<Status['details']>, group: string): NonNullable<Status['details']> {
  return group ? { name: details.name, group, ...details } : details
}
