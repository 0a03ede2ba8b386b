import { randomBytes } from 'node:crypto'
import { createWriteStream, mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import { GlrunError } from '../diagnostics/errors.js'
import type { JobArtifact, JobPayload } from '../payload/types.js'
import type { ArtifactStore, DotenvVariable } from '../job/artifacts/stores.js'
import type { RunnerApi } from './api.js'

/**
 * Artifacts through GitLab's job artifacts API: archives uploaded as multipart (streamed from the
 * zip on disk), dotenv reports uploaded as GitLab parses them (gzip of the KEY=VALUE file),
 * dependencies' archives downloaded with the job's token. GitLab itself puts the dependencies'
 * dotenv variables into the job's payload, so there are none to add here.
 */
export class GitLabArtifactStore implements ArtifactStore {
  constructor(private readonly api: RunnerApi, private readonly tmpDir: string) {}

  async reset(): Promise<void> {
    // GitLab keeps each job's artifacts on its own; nothing of an earlier run to forget.
  }

  async uploadArchive(job: JobPayload, a: JobArtifact, zipFile: string): Promise<string> {
    const size = statSync(zipFile).size
    const name = `${a.name || 'artifacts'}.zip`
    return this.upload(job, zipFile, { name, type: 'archive', format: 'zip', ...(a.expire_in ? { expireIn: a.expire_in } : {}) }, size)
  }

  async uploadDotenv(job: JobPayload, _variables: DotenvVariable[], raw: string): Promise<void> {
    // The report as the job wrote it: GitLab parses it by its own rules (as gitlab-runner uploads it).
    const file = this.tmp('.env.gz')
    await pipeline(Readable.from([raw]), createGzip(), createWriteStream(file))
    const dotenv = (job.artifacts ?? []).find((x) => x.artifact_type === 'dotenv')
    await this.upload(job, file, { name: '.env.gz', type: 'dotenv', format: 'gzip', ...(dotenv?.expire_in ? { expireIn: dotenv.expire_in } : {}) }, statSync(file).size)
  }

  async downloadArchive(job: JobPayload, dep: JobPayload['dependencies'][number]): Promise<string | undefined> {
    if (!dep.artifacts_file) return undefined
    const file = this.tmp('.zip')
    // The token of the job that runs (GitLab checks that it may read the dependency).
    const status = await this.api.downloadArtifact(dep.id, job.token, file)
    if (status === 200) return file
    throw new GlrunError('GLRUN_ARTIFACT_DOWNLOAD', `downloading the artifacts of ${dep.name} (job ${dep.id}) failed: GitLab answered ${status}`, {
      hint: status === 404 ? 'The artifacts have expired or were deleted: run that job again.' : status === 403 ? 'This job may not read them (a job token of another project, or the dependency is gone).' : 'Retry the job; if it persists, check GitLab\'s object storage.',
    })
  }

  async dependencyVariables(): Promise<DotenvVariable[]> {
    return []
  }

  hasDownloads(job: JobPayload): boolean {
    return job.dependencies.some((d) => d.artifacts_file !== undefined)
  }

  private tmp(suffix: string): string {
    mkdirSync(this.tmpDir, { recursive: true })
    return join(this.tmpDir, `${randomBytes(6).toString('hex')}${suffix}`)
  }

  private async upload(job: JobPayload, file: string, p: { name: string; type: string; format: string; expireIn?: string }, size: number): Promise<string> {
    let last = 0
    for (let attempt = 0; attempt < 3; attempt++) {
      const a = await this.api.uploadArtifact(job.id, job.token, file, p).catch(() => undefined)
      last = a?.status ?? 0
      if (last === 201 || last === 200) return `GitLab (job ${job.id}, ${p.type})`
      if (last === 413) {
        throw new GlrunError('GLRUN_ARTIFACT_TOO_LARGE', `the ${p.type} artifact is ${size} bytes, more than GitLab accepts for this project (413 Request Entity Too Large)`, {
          hint: 'Upload less (artifacts:paths/exclude), or raise the maximum artifacts size (Admin > Settings > CI/CD, or the project\'s setting).',
        })
      }
      if (last !== 0 && last < 500 && last !== 429) break
      await new Promise((r) => setTimeout(r, 1000 * 2 ** attempt))
    }
    throw new GlrunError('GLRUN_ARTIFACT_UPLOAD', `uploading the ${p.type} artifact (${size} bytes) failed: ${last ? `GitLab answered ${last}` : 'GitLab could not be reached'}`, { hint: 'Retry the job; a 400 means GitLab refused the archive (e.g. another artifact of that type exists).' })
  }
}
