import { createReadStream, createWriteStream, statSync } from 'node:fs'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { JobPayload } from '../payload/types.js'
import { type GitLabEndpoint, type HttpAnswer, type HttpCall, call, header } from './http.js'

/** What the runner says about itself on every request (GitLab stores it per runner manager). */
export interface RunnerInfo {
  name: string
  version: string
  revision: string
  platform: string
  architecture: string
  executor: string
  shell: string
  features: Record<string, boolean>
}

export type JobStatusHeader = 'running' | 'canceling' | 'canceled' | 'failed' | 'success' | string

export type JobRequestAnswer =
  | { kind: 'job'; job: JobPayload }
  | { kind: 'none'; lastUpdate?: string }
  | { kind: 'conflict' }
  | { kind: 'forbidden' }
  | { kind: 'error'; status: number; retryAfterS?: number }

export interface TraceAnswer {
  status: number
  /** Where GitLab's copy of the trace ends (`Range: 0-<length>`). */
  length?: number
  jobStatus?: JobStatusHeader
  intervalS?: number
}

export interface UpdateAnswer {
  status: number
  jobStatus?: JobStatusHeader
  intervalS?: number
}

const json = { 'Content-Type': 'application/json', Accept: 'application/json' }

/**
 * The runner API as gitlab-runner speaks it (`/api/v4/runners*`, `/api/v4/jobs*`): the runner
 * token goes in the body, the job token in `JOB-TOKEN`. Statuses are answers, not errors: the
 * job loop and the trace uploader decide what each means.
 */
export class RunnerApi {
  /** @param observe told of every answer (endpoint, status or "error", seconds): the metrics. */
  constructor(readonly ep: GitLabEndpoint, private readonly observe?: (endpoint: string, status: string, seconds: number) => void) {}

  private async send(endpoint: string, c: HttpCall): Promise<HttpAnswer> {
    const t = Date.now()
    try {
      const a = await call(this.ep, c)
      this.observe?.(endpoint, String(a.status), (Date.now() - t) / 1000)
      return a
    } catch (e) {
      this.observe?.(endpoint, 'error', (Date.now() - t) / 1000)
      throw e
    }
  }

  async verify(token: string, systemId: string, info: RunnerInfo, timeoutMs = 30_000): Promise<HttpAnswer> {
    return this.send('verify', { method: 'POST', path: 'api/v4/runners/verify', headers: json, body: JSON.stringify({ token, system_id: systemId, info }), timeoutMs })
  }

  async register(registrationToken: string, description: string, info: RunnerInfo, tags: string[]): Promise<HttpAnswer> {
    return this.send('register', { method: 'POST', path: 'api/v4/runners', headers: json, body: JSON.stringify({ token: registrationToken, description, info, ...(tags.length ? { tag_list: tags.join(',') } : { run_untagged: true }) }), timeoutMs: 30_000 })
  }

  async unregister(token: string): Promise<HttpAnswer> {
    return this.send('unregister', { method: 'DELETE', path: 'api/v4/runners', headers: json, body: JSON.stringify({ token }), timeoutMs: 30_000 })
  }

  /** One long poll: Workhorse may hold it ~50–60 s, so the timeout is well above that. */
  async requestJob(token: string, systemId: string, info: RunnerInfo, lastUpdate: string | undefined): Promise<JobRequestAnswer> {
    const a = await this.send('request_job', { method: 'POST', path: 'api/v4/jobs/request', headers: json, body: JSON.stringify({ token, system_id: systemId, info, ...(lastUpdate ? { last_update: lastUpdate } : {}) }), timeoutMs: 90_000 })
    if (a.status === 201) return { kind: 'job', job: JSON.parse(a.body.toString('utf8')) as JobPayload }
    if (a.status === 204) {
      const lu = header(a.headers, 'x-gitlab-last-update')
      return { kind: 'none', ...(lu ? { lastUpdate: lu } : {}) }
    }
    if (a.status === 409) return { kind: 'conflict' }
    if (a.status === 403) return { kind: 'forbidden' }
    const retry = Number(header(a.headers, 'retry-after'))
    return { kind: 'error', status: a.status, ...(Number.isFinite(retry) && retry > 0 ? { retryAfterS: retry } : {}) }
  }

  async patchTrace(jobId: number, jobToken: string, offset: number, chunk: Buffer): Promise<TraceAnswer> {
    const a = await this.send('patch_trace', {
      method: 'PATCH', path: `api/v4/jobs/${jobId}/trace`, body: chunk, timeoutMs: 60_000,
      headers: { 'JOB-TOKEN': jobToken, 'Content-Type': 'text/plain', 'Content-Range': `${offset}-${offset + chunk.length - 1}` },
    })
    const range = /^0-(\d+)$/.exec(header(a.headers, 'range') ?? '')
    return { status: a.status, ...(range ? { length: Number(range[1]) } : {}), ...statusHeaders(a) }
  }

  async updateJob(jobId: number, jobToken: string, body: Record<string, unknown>): Promise<UpdateAnswer> {
    const a = await this.send('update_job', { method: 'PUT', path: `api/v4/jobs/${jobId}`, headers: { ...json, 'JOB-TOKEN': jobToken }, body: JSON.stringify({ token: jobToken, ...body }), timeoutMs: 60_000 })
    return { status: a.status, ...statusHeaders(a) }
  }

  /** Streams a file as the multipart `file` part GitLab (Workhorse) expects. */
  async uploadArtifact(jobId: number, jobToken: string, file: string, params: { name: string; type: string; format: string; expireIn?: string }): Promise<HttpAnswer> {
    const boundary = `glrun-${Math.random().toString(16).slice(2)}${Date.now()}`
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${params.name.replace(/"/g, '')}"\r\nContent-Type: application/octet-stream\r\n\r\n`)
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
    const size = head.length + statSync(file).size + tail.length
    const q = new URLSearchParams({ artifact_format: params.format, artifact_type: params.type, ...(params.expireIn ? { expire_in: params.expireIn } : {}) })
    const body = Readable.from((async function* () {
      yield head
      yield* createReadStream(file)
      yield tail
    })())
    return this.send('upload_artifacts', {
      method: 'POST', path: `api/v4/jobs/${jobId}/artifacts?${q}`, body, timeoutMs: 600_000,
      headers: { 'JOB-TOKEN': jobToken, 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': String(size) },
    })
  }

  /**
   * A job's archive into `dest`, following redirects (object storage); the job token goes only to
   * GitLab's own origin, never to the storage host a redirect names.
   */
  async downloadArtifact(jobId: number, jobToken: string, dest: string): Promise<number> {
    // direct_download=true as gitlab-runner sends it (FF_USE_DIRECT_DOWNLOAD, on by default): GitLab
    // with object storage then redirects to a pre-signed URL instead of proxying the archive.
    let url = new URL(`api/v4/jobs/${jobId}/artifacts?direct_download=true`, this.ep.url.endsWith('/') ? this.ep.url : `${this.ep.url}/`)
    const origin = url.origin
    for (let hop = 0; hop < 5; hop++) {
      const a = await this.send('download_artifacts', {
        method: 'GET', path: url.href, timeoutMs: 600_000,
        headers: url.origin === origin ? { 'JOB-TOKEN': jobToken } : {},
        sink: async (res) => pipeline(res, createWriteStream(dest)),
      })
      const location = header(a.headers, 'location')
      if ((a.status === 301 || a.status === 302 || a.status === 307 || a.status === 308) && location) {
        url = new URL(location, url)
        continue
      }
      return a.status
    }
    return 310
  }
}

function statusHeaders(a: HttpAnswer): { jobStatus?: string; intervalS?: number } {
  const js = header(a.headers, 'job-status')
  const iv = Number(header(a.headers, 'x-gitlab-trace-update-interval'))
  return { ...(js ? { jobStatus: js } : {}), ...(Number.isFinite(iv) && iv > 0 ? { intervalS: iv } : {}) }
}
