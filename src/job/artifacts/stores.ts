import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { JobArtifact, JobPayload } from '../../payload/types.js'
import { jobDirName } from '../../pipeline/context/job-dir-name.js'

export interface DotenvVariable {
  key: string
  value: string
}

/**
 * Where a job's artifacts go and where its dependencies' come from: the local directory of a
 * `glrun run` now, GitLab's job artifacts API in runner mode. Archives are zip files on this
 * machine on both sides of the call, so they are streamed, never held in memory.
 */
export interface ArtifactStore {
  /** Forgets what an earlier run of this job stored (a job that makes none now leaves none). */
  reset(job: JobPayload): Promise<void>
  /** Takes the job's archive (a zip file the caller wrote; the store may move it). Returns where it went. */
  uploadArchive(job: JobPayload, artifact: JobArtifact, zipFile: string): Promise<string>
  /**
   * The job's dotenv reports: the variables as glrun parsed them (for a local run) and the files'
   * text as written (GitLab parses the report itself, by its own rules).
   */
  uploadDotenv(job: JobPayload, variables: DotenvVariable[], raw: string): Promise<void>
  /** A zip file with a dependency's archive, or undefined when it has none. */
  downloadArchive(job: JobPayload, dep: JobPayload['dependencies'][number]): Promise<string | undefined>
  /** A dependency's dotenv variables (GitLab puts them into the payload itself: none here then). */
  dependencyVariables(dep: JobPayload['dependencies'][number]): Promise<DotenvVariable[]>
  /** Whether any dependency has something to download (the section is shown only then). */
  hasDownloads(job: JobPayload): boolean
}

/** Where caches live between jobs: a directory of zip files keyed by GitLab's cache keys. */
export interface CacheStore {
  /** A zip file for the key, or undefined. */
  find(key: string): Promise<string | undefined>
  save(key: string, zipFile: string): Promise<void>
}

/**
 * A local run's artifacts under `.glrun/artifacts/<job>/`: the stand-in for GitLab's
 * coordinator. Artifacts of failed jobs are kept too.
 */
export class LocalArtifactStore implements ArtifactStore {
  constructor(private readonly root: string) {}

  private dir(job: string): string {
    return join(this.root, 'artifacts', jobDirName(job))
  }

  artifactZip(job: string): string {
    return join(this.dir(job), 'artifacts.zip')
  }

  dotenvFile(job: string): string {
    return join(this.dir(job), 'dotenv.json')
  }

  async reset(job: JobPayload): Promise<void> {
    rmSync(this.dir(job.job_info.name), { recursive: true, force: true })
  }

  async uploadArchive(job: JobPayload, _artifact: JobArtifact, zipFile: string): Promise<string> {
    const to = this.artifactZip(job.job_info.name)
    mkdirSync(dirname(to), { recursive: true })
    renameSync(zipFile, to)
    return to
  }

  async uploadDotenv(job: JobPayload, variables: DotenvVariable[], _raw: string): Promise<void> {
    const to = this.dotenvFile(job.job_info.name)
    mkdirSync(dirname(to), { recursive: true })
    writeFileSync(to, JSON.stringify(variables))
  }

  async downloadArchive(_job: JobPayload, dep: { name: string }): Promise<string | undefined> {
    const zip = this.artifactZip(dep.name)
    return existsSync(zip) ? zip : undefined
  }

  async dependencyVariables(dep: { name: string }): Promise<DotenvVariable[]> {
    const f = this.dotenvFile(dep.name)
    return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as DotenvVariable[]) : []
  }

  hasDownloads(job: JobPayload): boolean {
    return job.dependencies.some((d) => existsSync(this.artifactZip(d.name)) || existsSync(this.dotenvFile(d.name)))
  }
}

/** A runner's local cache directory (`.glrun/cache` in local runs, `cache_dir` of a runner). */
export class LocalCacheStore implements CacheStore {
  constructor(private readonly root: string) {}

  cacheZip(key: string): string {
    // Keys may hold any character; the file name is the key, made safe and unambiguous.
    return join(this.root, 'cache', encodeURIComponent(key).replace(/^\.+/, (m) => '%2E'.repeat(m.length)), 'cache.zip')
  }

  async find(key: string): Promise<string | undefined> {
    const zip = this.cacheZip(key)
    return existsSync(zip) ? zip : undefined
  }

  async save(key: string, zipFile: string): Promise<void> {
    const to = this.cacheZip(key)
    mkdirSync(dirname(to), { recursive: true })
    renameSync(zipFile, to)
  }
}

/** The stores of a local run rooted at one directory (`.glrun/`), with its scratch directory. */
export function localStores(root: string): { artifacts: LocalArtifactStore; cache: LocalCacheStore; tmpDir: string } {
  return { artifacts: new LocalArtifactStore(root), cache: new LocalCacheStore(root), tmpDir: join(root, 'tmp') }
}
