import type { JobPayload } from '../../../src/payload/types.js'

/** Build statuses the double walks through (GitLab's commit-status state machine, the part a runner sees). */
export type JobStatus = 'pending' | 'running' | 'canceling' | 'canceled' | 'success' | 'failed'

/** GitLab's `EXECUTING_STATUSES`: only these accept job-token calls (PATCH, PUT, uploads). */
export const EXECUTING: readonly JobStatus[] = ['running', 'canceling']

export type RouteName =
  | 'register' | 'verify' | 'unregister' | 'unregister-manager' | 'reset-token'
  | 'jobs-request' | 'job-update' | 'trace' | 'artifacts-upload' | 'artifacts-download'
  | 'object-storage' | 'unknown'

export interface RunnerManager {
  systemId: string
  info: unknown
  contactedAt: number
}

export interface DoubleRunner {
  id: number
  token: string
  /** What `POST /runners` was sent (legacy flow); empty for runners the test made. */
  registration: Record<string, unknown>
  tagList: string[]
  paused: boolean
  /** `runner:build_queue:<token>` in GitLab's Redis: changes whenever a job becomes pickable. */
  queueValue: string
  managers: Map<string, RunnerManager>
  /** The `info` of the last authenticated call (verify, jobs/request). */
  lastInfo: unknown
}

export interface StoredArtifact {
  type: string
  format: string
  expireIn: string | null
  filename: string
  path: string
  size: number
  sha256: string
}

/** What the runner reported when it finished the job (the first final PUT, as GitLab keeps it). */
export interface FinalState {
  state: 'success' | 'failed'
  /** As sent by the runner. */
  sentFailureReason: string | null
  /** As stored: unknown reasons become `unknown_failure`. */
  failureReason: string | null
  exitCode: number | null
  checksum: string | null
  bytesize: number | null
  /** GitLab only logs a mismatch; the double keeps it so tests can assert the runner's CRC and size. */
  checksumMatches: boolean | null
  bytesizeMatches: boolean | null
}

export interface DoubleJob {
  id: number
  token: string
  payload: JobPayload
  status: JobStatus
  runnerId: number | null
  trace: Buffer[]
  traceSize: number
  patches: number
  final: FinalState | null
  /** When the first final PUT arrived (GitLab's `Ci::BuildPendingState`), for the back-off table. */
  pendingStateAt: number | null
  finalisingLeft: number
  failureReason: string | null
  tokenExpired: boolean
  cancelAfterPatches: { patches: number; graceful: boolean } | null
  artifacts: StoredArtifact[]
}

export interface RecordedRequest {
  seq: number
  route: RouteName
  method: string
  path: string
  query: Record<string, string>
  /** Every request header, names lower-cased. */
  headers: Record<string, string>
  bodySize: number
  /** The parsed body of JSON/form requests (register, verify, jobs/request, PUT). */
  params: Record<string, unknown> | null
  status: number | null
  /** True when the double destroyed the connection instead of answering (rogue reset). */
  reset: boolean
  startedAt: number
  durationMs: number | null
  /** Which listener took it: the API port or the "object storage" port. */
  listener: 'api' | 'storage'
  scheme: 'http' | 'https'
}

export interface DoubleOptions {
  /** Also serve HTTPS with a throw-away CA (made with openssl at start). */
  tls?: boolean
  /** Where certificates and uploaded artifacts go; a temporary directory by default. */
  dir?: string
  /** Workhorse's `apiCiLongPollingDuration` in ms; 0 (Workhorse's compiled-in default) sends every request straight to Rails. */
  longPollMs?: number
  /** How many times a final PUT is answered 202 ("trace still being persisted") before 200. */
  finalisingPuts?: number
  /** Overrides the back-off table for the 202's `X-GitLab-Trace-Update-Interval` (seconds), to keep tests short. */
  finalisingInterval?: number
  /** `X-GitLab-Trace-Update-Interval` on PATCH 202: 60 when nobody watches the job page, 3 when someone does. */
  traceUpdateInterval?: number
  /** Plan limit `ci_jobs_trace_size_limit`, in bytes here: a PATCH beyond it drops the job (`trace_size_exceeded`). */
  traceLimitBytes?: number
  /** Workhorse's authorized `MaximumSize` for an upload: over it, 413. */
  artifactLimitBytes?: number
  /** `GET /jobs/:id/artifacts?direct_download=true` answers 302 to the storage listener. */
  artifactsRedirect?: boolean
  /** Instance registration token for the legacy `POST /runners` flow. */
  registrationToken?: string
  /** Registration tokens disabled (GitLab ≥ 17.0 default): a valid one gets 410. */
  registrationDisabled?: boolean
}
