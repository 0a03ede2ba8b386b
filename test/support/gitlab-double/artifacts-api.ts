import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream, mkdirSync, rmSync, statSync, type WriteStream } from 'node:fs'
import { join } from 'node:path'
import { authenticateJob } from './job-auth.js'
import { type RouteContext, drain, headerOf, jobToken, reply, replyMessage, str } from './http-io.js'
import { MultipartError, boundaryOf, readMultipart } from './multipart.js'
import { EXECUTING, type StoredArtifact } from './types.js'

/**
 * The format each artifact type must be uploaded in (GitLab's `Enums::Ci::JobArtifact`
 * internal and report type tables). Grape only accepts these types and the formats raw/zip/gzip.
 */
const TYPE_FORMATS: Record<string, string> = {
  archive: 'zip', metadata: 'gzip', trace: 'raw', junit: 'gzip', metrics: 'gzip', metrics_referee: 'gzip',
  network_referee: 'gzip', dotenv: 'gzip', cobertura: 'gzip', jacoco: 'gzip', cluster_applications: 'gzip',
  lsif: 'zip', scip: 'zip', cyclonedx: 'gzip', annotations: 'gzip', repository_xray: 'gzip', sast: 'raw',
  secret_detection: 'raw', dependency_scanning: 'raw', container_scanning: 'raw', cluster_image_scanning: 'raw',
  dast: 'raw', license_scanning: 'raw', accessibility: 'raw', codequality: 'raw', performance: 'raw',
  browser_performance: 'raw', load_performance: 'raw', terraform: 'raw', requirements: 'raw', requirements_v2: 'raw',
  coverage_fuzzing: 'raw', api_fuzzing: 'raw', sarif: 'raw',
}
const FORMATS = ['raw', 'zip', 'gzip']

/**
 * `POST /jobs/:id/artifacts` (server note §6.2), Workhorse and Rails in one: the single `file`
 * part is streamed to disk with its sha256; over `artifactLimitBytes` the upload is 413 (the rest
 * of the body is read and discarded so the runner sees the answer, not a broken pipe).
 * The same type uploaded again is idempotent with the same content, 400 otherwise.
 */
export async function uploadArtifacts(ctx: RouteContext): Promise<void> {
  const job = authenticateJob(ctx, jobToken(ctx, null))
  if (!job) return drain(ctx)
  const type = ctx.query.get('artifact_type') ?? 'archive'
  const format = ctx.query.get('artifact_format') ?? 'zip'
  const boundary = boundaryOf(headerOf(ctx, 'content-type'))
  const early = !(type in TYPE_FORMATS) ? 'artifact_type does not have a valid value'
    : !FORMATS.includes(format) ? 'artifact_format does not have a valid value'
      : boundary === null ? 'file is missing' : null
  if (early !== null || boundary === null) {
    await drain(ctx)
    reply(ctx, 400, { error: early ?? 'file is missing' })
    return
  }
  const dir = join(ctx.state.dataDir, 'artifacts', String(job.id))
  mkdirSync(dir, { recursive: true })
  const path = join(dir, `${type}-${randomBytes(4).toString('hex')}`)
  const limit = ctx.state.options.artifactLimitBytes
  const hash = createHash('sha256')
  const fields: Record<string, string> = {}
  let file: { name: string; size: number; out: WriteStream } | null = null
  let tooLarge = false
  let formError: string | null = null
  try {
    await readMultipart(ctx.req, boundary, (h) => {
      if (h.filename === null) {
        let text = ''
        return { data: (c) => { text += c.toString('utf8') }, end: () => { fields[h.name] = text } }
      }
      if (h.name !== 'file') formError ??= 'invalid form field'
      else if (file) formError ??= 'artifacts request contains more than one file'
      if (formError) return { data: () => undefined, end: () => undefined }
      const out = createWriteStream(path)
      const f = { name: h.filename, size: 0, out }
      file = f
      return {
        data: async (c) => {
          f.size += c.length
          if (f.size > limit) tooLarge = true
          if (tooLarge) return
          hash.update(c)
          if (!out.write(c)) await new Promise<void>((r) => out.once('drain', () => r()))
        },
        end: () => new Promise<void>((r) => out.end(r)),
      }
    }, (n) => { ctx.record.bodySize += n })
  } catch (e) {
    if (!(e instanceof MultipartError)) throw e
    formError = e.message
  }
  ctx.record.params = { ...Object.fromEntries(ctx.query), ...fields }
  const got = file as { name: string; size: number; out: WriteStream } | null
  if (tooLarge || formError || !got) {
    got?.out.destroy()
    rmSync(path, { force: true })
    if (tooLarge) replyMessage(ctx, 413, '413 Request Entity Too Large')
    else reply(ctx, 400, formError ? { message: formError } : { error: 'file is missing' })
    return
  }
  if (TYPE_FORMATS[type] !== format) {
    rmSync(path, { force: true })
    replyMessage(ctx, 400, 'Invalid file format with specified file type')
    return
  }
  const sha256 = hash.digest('hex')
  const existing = job.artifacts.find((a) => a.type === type)
  if (existing) {
    rmSync(path, { force: true })
    if (existing.sha256 === sha256) reply(ctx, 201, '201')
    else replyMessage(ctx, 400, 'another artifact of the same type already exists')
    return
  }
  const expireIn = str(ctx.query.get('expire_in')) ?? str(fields['expire_in'])
  const stored: StoredArtifact = { type, format, expireIn, filename: got.name, path, size: got.size, sha256 }
  job.artifacts.push(stored)
  reply(ctx, 201, '201')
}

/**
 * `GET /jobs/:id/artifacts` (server note §6.3): the archive of job :id, for the token of that job
 * or of a running job that depends on it. With `artifactsRedirect` and `direct_download=true`
 * the answer is a 302 to the storage listener (another origin), as object storage would be.
 */
export async function downloadArtifacts(ctx: RouteContext): Promise<void> {
  await drain(ctx)
  const token = jobToken(ctx, null)
  const caller = token ? ctx.state.jobByToken(token) : undefined
  if (!caller) {
    replyMessage(ctx, 401, '401 Unauthorized')
    return
  }
  const target = ctx.state.jobs.get(ctx.id)
  const allowed = target && (caller === target || (EXECUTING.includes(caller.status) && caller.payload.dependencies.some((d) => d.id === target.id)))
  if (!target || !allowed) {
    replyMessage(ctx, 403, '403 Forbidden')
    return
  }
  const archive = target.artifacts.find((a) => a.type === 'archive')
  if (!archive) {
    replyMessage(ctx, 404, '404 Not Found')
    return
  }
  if (ctx.state.options.artifactsRedirect && ctx.query.get('direct_download') === 'true') {
    const key = randomBytes(12).toString('hex')
    ctx.state.objects.set(key, archive.path)
    reply(ctx, 302, undefined, { Location: `${ctx.storageUrl}/object-storage/${key}?X-Amz-Expires=300&X-Amz-Signature=${randomBytes(16).toString('hex')}` })
    return
  }
  sendFile(ctx, archive.path, archive.filename)
}

/** The storage listener: serves pre-signed keys without any GitLab token, S3's 403 otherwise. */
export async function objectStorage(ctx: RouteContext, key: string): Promise<void> {
  await drain(ctx)
  const path = ctx.state.objects.get(key)
  if (!path || !ctx.query.get('X-Amz-Signature')) {
    ctx.res.writeHead(403, { 'Content-Type': 'application/xml' }).end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>')
    return
  }
  sendFile(ctx, path, key)
}

function sendFile(ctx: RouteContext, path: string, filename: string): void {
  ctx.res.writeHead(200, {
    'Content-Type': 'application/octet-stream', 'Content-Length': String(statSync(path).size),
    'Content-Disposition': `attachment; filename="${filename}"`,
  })
  createReadStream(path).pipe(ctx.res)
}
