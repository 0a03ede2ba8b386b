import { createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { compiledPayloads } from './fixtures.js'
import { send } from './http-client.js'
import { type GitLabDouble, startGitLabDouble } from './server.js'
import type { DoubleOptions } from './types.js'

let gl: GitLabDouble | null = null
afterEach(async () => {
  await gl?.close()
  gl = null
})

interface Running { gl: GitLabDouble; runner: string; build: { id: number; token: string }; testJobId: number }

/** The compiled build and test jobs queued; build handed out to a runner. */
async function withBuildRunning(opts: DoubleOptions = {}): Promise<Running> {
  const g = (gl = await startGitLabDouble(opts))
  const runner = g.state.addRunner().token
  const { build, test } = await compiledPayloads()
  g.state.enqueue(build)
  g.state.enqueue(test)
  const res = await send(g.url, { method: 'POST', path: '/api/v4/jobs/request', body: { token: runner } })
  return { gl: g, runner, build: res.json() as { id: number; token: string }, testJobId: test.id }
}

/** A multipart/form-data body the way gitlab-runner's uploader sends it: one `file` part. */
function multipart(parts: { name: string; filename?: string; data: Buffer | string }[]): { body: Buffer; type: string } {
  const boundary = `----glrun${randomBytes(8).toString('hex')}`
  const chunks: Buffer[] = []
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}`
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${p.filename ? 'Content-Type: application/octet-stream\r\n' : ''}\r\n`), Buffer.from(p.data), Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return { body: Buffer.concat(chunks), type: `multipart/form-data; boundary=${boundary}` }
}

function upload(g: GitLabDouble, id: number, token: string, query: string, parts: Parameters<typeof multipart>[0]) {
  const m = multipart(parts)
  return send(g.url, { method: 'POST', path: `/api/v4/jobs/${id}/artifacts?${query}`, headers: { 'JOB-TOKEN': token, 'content-type': m.type }, body: m.body })
}

describe('POST /jobs/:id/artifacts', () => {
  it('streams the file part to disk with its params, and is idempotent for the same content only', async () => {
    const { gl: g, build } = await withBuildRunning()
    // Big enough to arrive in many chunks, with the boundary text itself inside the data.
    const data = Buffer.concat([randomBytes(3 * 1024 * 1024), Buffer.from('\r\n------glrun'), randomBytes(1024)])
    const res = await upload(g, build.id, build.token, 'artifact_format=zip&artifact_type=archive&expire_in=1+week', [{ name: 'file', filename: 'artifacts.zip', data }])
    expect([res.status, res.text]).toEqual([201, '201'])
    const [stored] = g.state.jobs.get(build.id)!.artifacts
    expect(stored).toMatchObject({ type: 'archive', format: 'zip', expireIn: '1 week', filename: 'artifacts.zip', size: data.length })
    expect(stored!.sha256).toBe(createHash('sha256').update(data).digest('hex'))
    expect(readFileSync(stored!.path).equals(data)).toBe(true)
    expect(g.recorder.to('artifacts-upload')[0]?.bodySize).toBeGreaterThan(data.length)

    const again = await upload(g, build.id, build.token, 'artifact_format=zip&artifact_type=archive', [{ name: 'file', filename: 'artifacts.zip', data }])
    expect(again.status).toBe(201)
    const other = await upload(g, build.id, build.token, 'artifact_format=zip&artifact_type=archive', [{ name: 'file', filename: 'artifacts.zip', data: 'different' }])
    expect([other.status, other.json()]).toEqual([400, { message: 'another artifact of the same type already exists' }])
    expect(g.state.jobs.get(build.id)!.artifacts).toHaveLength(1)
  })

  it('finds a delimiter that arrives split across reads', async () => {
    const { gl: g, build } = await withBuildRunning()
    const data = Buffer.from('zip bytes\r\n-- almost a delimiter')
    const m = multipart([{ name: 'file', filename: 'artifacts.zip', data }])
    // Cut inside the data, then inside the closing delimiter (`\r\n--<boundary>--`).
    const closing = m.body.length - (m.type.length - m.type.indexOf('=') - 1) - 8
    const cut = m.body.indexOf(data) + 12
    const res = await send(g.url, {
      method: 'POST', path: `/api/v4/jobs/${build.id}/artifacts?artifact_format=zip&artifact_type=archive`, headers: { 'JOB-TOKEN': build.token, 'content-type': m.type },
      body: m.body, pieces: { sizes: [cut, closing + 5 - cut], gapMs: 30 },
    })
    expect(res.status).toBe(201)
    expect(readFileSync(g.state.jobs.get(build.id)!.artifacts[0]!.path).equals(data)).toBe(true)
  })

  it('checks type, format and form as GitLab does: 400 for an unknown type, a format the type does not take, another field name', async () => {
    const { gl: g, build } = await withBuildRunning()
    const file = [{ name: 'file', filename: 'junit.xml.gz', data: 'x' }]
    expect((await upload(g, build.id, build.token, 'artifact_type=nonsense&artifact_format=gzip', file)).status).toBe(400)
    expect((await upload(g, build.id, build.token, 'artifact_type=junit&artifact_format=zipzstd', file)).status).toBe(400)
    const mismatch = await upload(g, build.id, build.token, 'artifact_type=junit&artifact_format=zip', file)
    expect([mismatch.status, mismatch.json()]).toEqual([400, { message: 'Invalid file format with specified file type' }])
    expect((await upload(g, build.id, build.token, 'artifact_type=junit&artifact_format=gzip', [{ name: 'upload', filename: 'x', data: 'x' }])).status).toBe(400)
    expect((await upload(g, build.id, build.token, 'artifact_type=junit&artifact_format=gzip', file)).status).toBe(201)
    expect((await upload(g, build.id, 'glcbt-wrong', 'artifact_type=archive', file)).status).toBe(403)
  })

  it('answers 413 over the size limit and keeps nothing', async () => {
    const { gl: g, build } = await withBuildRunning({ artifactLimitBytes: 100_000 })
    const res = await upload(g, build.id, build.token, 'artifact_format=zip&artifact_type=archive', [{ name: 'file', filename: 'artifacts.zip', data: randomBytes(100_001) }])
    expect(res.status).toBe(413)
    expect(g.state.jobs.get(build.id)!.artifacts).toEqual([])
    const fits = await upload(g, build.id, build.token, 'artifact_format=zip&artifact_type=archive', [{ name: 'file', filename: 'artifacts.zip', data: randomBytes(100_000) }])
    expect(fits.status).toBe(201)
  })
})

describe('GET /jobs/:id/artifacts', () => {
  async function buildUploadedTestRunning(opts: DoubleOptions = {}): Promise<{ g: GitLabDouble; data: Buffer; build: { id: number; token: string }; test: { id: number; token: string; dependencies: { id: number; artifacts_file?: unknown }[] } }> {
    const { gl: g, runner, build } = await withBuildRunning(opts)
    const data = randomBytes(50_000)
    await upload(g, build.id, build.token, 'artifact_format=zip&artifact_type=archive', [{ name: 'file', filename: 'artifacts.zip', data }])
    const res = await send(g.url, { method: 'POST', path: '/api/v4/jobs/request', body: { token: runner } })
    return { g, data, build, test: res.json() as { id: number; token: string; dependencies: { id: number; artifacts_file?: unknown }[] } }
  }

  it('hands the dependent job its artifacts_file and serves the archive for its token; 401 unknown token, 403 unrelated job, 404 no archive', async () => {
    const { g, data, build, test } = await buildUploadedTestRunning()
    expect(test.dependencies).toEqual([expect.objectContaining({ id: build.id, artifacts_file: { filename: 'artifacts.zip', size: data.length } })])
    const got = await send(g.url, { method: 'GET', path: `/api/v4/jobs/${build.id}/artifacts`, headers: { 'JOB-TOKEN': test.token } })
    expect(got.status).toBe(200)
    expect(got.body.equals(data)).toBe(true)
    expect((await send(g.url, { method: 'GET', path: `/api/v4/jobs/${build.id}/artifacts?token=glcbt-none` })).status).toBe(401)
    // The build job does not depend on the test job, and the test job has no archive.
    expect((await send(g.url, { method: 'GET', path: `/api/v4/jobs/${test.id}/artifacts`, headers: { 'JOB-TOKEN': build.token } })).status).toBe(403)
    expect((await send(g.url, { method: 'GET', path: `/api/v4/jobs/${test.id}/artifacts`, headers: { 'JOB-TOKEN': test.token } })).status).toBe(404)
  })

  it('redirects a direct download to the storage listener (another origin) that needs no GitLab token', async () => {
    const { g, data, build, test } = await buildUploadedTestRunning({ artifactsRedirect: true })
    const res = await send(g.url, { method: 'GET', path: `/api/v4/jobs/${build.id}/artifacts?direct_download=true`, headers: { 'JOB-TOKEN': test.token } })
    expect(res.status).toBe(302)
    const location = new URL(res.headers['location']!)
    expect(location.origin).not.toBe(new URL(g.url).origin)
    const object = await send(location.origin, { method: 'GET', path: location.pathname + location.search })
    expect([object.status, object.body.equals(data)]).toEqual([200, true])
    const fetched = g.recorder.to('object-storage')
    expect(fetched).toHaveLength(1)
    expect(fetched[0]).toMatchObject({ listener: 'storage', status: 200 })
    expect(fetched[0]?.headers['job-token']).toBeUndefined()
    expect((await send(location.origin, { method: 'GET', path: location.pathname })).status).toBe(403)
    // Without direct_download the API serves the file itself.
    expect((await send(g.url, { method: 'GET', path: `/api/v4/jobs/${build.id}/artifacts`, headers: { 'JOB-TOKEN': test.token } })).status).toBe(200)
  })
})
