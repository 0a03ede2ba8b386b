import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { JobArtifact, JobCache, JobPayload } from '../../payload/types.js'
import { slugify } from '../../pipeline/context/slug.js'
import type { TraceWriter } from '../../trace/trace-writer.js'
import { expandValue } from '../variables/runner-expand.js'
import { collectPaths } from './collect.js'
import { parseDotenv } from './dotenv.js'
import { extractZip, writeZip } from './zip.js'

/**
 * Where a local run keeps artifacts and caches (`.glrun/artifacts`, `.glrun/cache`): the
 * stand-in for GitLab's coordinator and cache server. Artifacts of failed jobs are kept too.
 */
export class LocalStore {
  constructor(private readonly root: string) {}

  artifactZip(job: string): string {
    return join(this.root, 'artifacts', slugify(job) || 'job', 'artifacts.zip')
  }

  dotenvFile(job: string): string {
    return join(this.root, 'artifacts', slugify(job) || 'job', 'dotenv.json')
  }

  cacheZip(key: string): string {
    // Keys may hold any character; the file name is the key, made safe and unambiguous.
    return join(this.root, 'cache', encodeURIComponent(key).replace(/^\.+/, (m) => '%2E'.repeat(m.length)), 'cache.zip')
  }
}

type Lookup = (k: string) => string | undefined

function fits(when: JobArtifact['when'], succeeded: boolean): boolean {
  return when === 'always' || (when === 'on_success') === succeeded
}

/** upload_artifacts_on_success / _on_failure. Returns an error message when an upload failed. */
export function uploadArtifacts(trace: TraceWriter, job: JobPayload, projectDir: string, store: LocalStore, succeeded: boolean, vars: Lookup): void {
  for (const a of (job.artifacts ?? []).filter((x) => fits(x.when, succeeded))) {
    const paths = a.paths.map((p) => expandValue(p, vars))
    const found = collectPaths(projectDir, paths, a.exclude.map((p) => expandValue(p, vars)), a.untracked)
    for (const w of found.warnings) trace.warn(w)
    if (a.artifact_type === 'dotenv') {
      const file = found.files[0]
      if (!file) continue
      const parsed = parseDotenv(readFileSync(join(projectDir, file), 'utf8'))
      for (const e of parsed.errors) trace.warn(`dotenv report ${file}: ${e}`)
      mkdirSync(dirname(store.dotenvFile(job.job_info.name)), { recursive: true })
      writeFileSync(store.dotenvFile(job.job_info.name), JSON.stringify(parsed.variables))
      trace.println(`Saved ${parsed.variables.length} dotenv variable${parsed.variables.length === 1 ? '' : 's'} from ${file}`)
      continue
    }
    if (a.artifact_type !== 'archive') continue
    if (found.files.length === 0) {
      trace.error('No files to upload')
      continue
    }
    trace.println(`${paths.join(', ')}: found ${found.files.length} matching artifact files and directories`)
    const zip = store.artifactZip(job.job_info.name)
    const size = writeZip(projectDir, found.files, zip)
    trace.println(`Saving artifacts as "archive" to ${zip}... ok (${size} bytes)`)
  }
}

/** download_artifacts: the dependencies' archives into the project, and their dotenv variables. */
export function downloadArtifacts(trace: TraceWriter, job: JobPayload, projectDir: string, store: LocalStore): { key: string; value: string }[] {
  const dotenv: { key: string; value: string }[] = []
  for (const dep of job.dependencies) {
    const zip = store.artifactZip(dep.name)
    if (existsSync(zip)) {
      trace.println(`Downloading artifacts for ${dep.name} (${dep.id})...`)
      const files = extractZip(zip, projectDir)
      trace.println(`Extracted ${files.length} file${files.length === 1 ? '' : 's'} from ${zip}`)
    }
    const env = store.dotenvFile(dep.name)
    if (existsSync(env)) dotenv.push(...(JSON.parse(readFileSync(env, 'utf8')) as { key: string; value: string }[]))
  }
  return dotenv
}

export function hasArtifactsToDownload(job: JobPayload, store: LocalStore): boolean {
  return job.dependencies.some((d) => existsSync(store.artifactZip(d.name)) || existsSync(store.dotenvFile(d.name)))
}

function cacheKey(c: JobCache, job: JobPayload, vars: Lookup): string {
  const key = expandValue(c.key, vars)
  return key === '' ? `${job.job_info.name}/${job.git_info.ref}` : key
}

/** restore_cache: the first of key and fallback keys that has an archive. */
export function restoreCaches(trace: TraceWriter, job: JobPayload, projectDir: string, store: LocalStore, vars: Lookup): void {
  for (const c of job.cache ?? []) {
    if (c.policy === 'push') {
      trace.println(`Not downloading cache ${cacheKey(c, job, vars)} due to policy`)
      continue
    }
    const keys = [cacheKey(c, job, vars), ...c.fallback_keys.map((k) => expandValue(k, vars))]
    const fallback = vars('CACHE_FALLBACK_KEY')
    if (fallback) keys.push(fallback)
    let restored = false
    for (const key of keys) {
      trace.println(`Checking cache for ${key}...`)
      const zip = store.cacheZip(key)
      if (!existsSync(zip)) continue
      extractZip(zip, projectDir)
      trace.println('Successfully extracted cache')
      restored = true
      break
    }
    if (!restored) trace.warn(`file does not exist: no cache for ${keys.join(', ')}`)
  }
}

/** archive_cache / archive_cache_on_failure. */
export function archiveCaches(trace: TraceWriter, job: JobPayload, projectDir: string, store: LocalStore, succeeded: boolean, vars: Lookup): void {
  for (const c of (job.cache ?? []).filter((x) => fits(x.when, succeeded))) {
    const key = cacheKey(c, job, vars)
    if (c.policy === 'pull') {
      trace.println(`Not uploading cache ${key} due to policy`)
      continue
    }
    trace.println(`Creating cache ${key}...`)
    const found = collectPaths(projectDir, c.paths.map((p) => expandValue(p, vars)), [], c.untracked)
    for (const w of found.warnings) trace.warn(w)
    if (found.files.length === 0) {
      trace.warn('Cache is empty, not saving it')
      continue
    }
    trace.println(`${c.paths.join(', ')}: found ${found.files.length} matching artifact files and directories`)
    writeZip(projectDir, found.files, store.cacheZip(key))
    trace.println('Created cache')
  }
}
