import { randomBytes } from 'node:crypto'
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { JobFiles } from '../../executors/types.js'
import type { JobArtifact, JobCache, JobPayload } from '../../payload/types.js'
import type { TraceWriter } from '../../trace/trace-writer.js'
import { expandValue } from '../variables/runner-expand.js'
import { collectToZip, readReport } from './collect.js'
import { DOTENV_MAX_BYTES, parseDotenv } from './dotenv.js'
import type { ArtifactStore, CacheStore, DotenvVariable } from './stores.js'
import { zipToTar } from './zip.js'

type Lookup = (k: string) => string | undefined

/** What the artifact and cache steps of one job work with. */
export interface TransferContext {
  trace: TraceWriter
  job: JobPayload
  files: JobFiles
  artifacts: ArtifactStore
  cache: CacheStore
  /** A directory of glrun's own for zip files on their way (never inside a job's directory). */
  tmpDir: string
  /** CI_PROJECT_DIR as the job sees it, for messages. */
  projectDir: string
  tracked?: () => Promise<Set<string>>
  vars: Lookup
}

function fits(when: JobArtifact['when'], succeeded: boolean): boolean {
  return when === 'always' || (when === 'on_success') === succeeded
}

function tmpZip(c: TransferContext): string {
  mkdirSync(c.tmpDir, { recursive: true })
  return join(c.tmpDir, `${randomBytes(6).toString('hex')}.zip`)
}

/** upload_artifacts_on_success / _on_failure: archives and dotenv reports. */
export async function uploadArtifacts(c: TransferContext, succeeded: boolean): Promise<void> {
  const { trace, job } = c
  for (const a of (job.artifacts ?? []).filter((x) => fits(x.when, succeeded))) {
    const paths = a.paths.map((p) => expandValue(p, c.vars))
    if (a.artifact_type === 'dotenv') {
      await uploadDotenv(c, paths)
      continue
    }
    if (a.artifact_type !== 'archive') continue
    const zip = tmpZip(c)
    try {
      const found = await collectToZip(c.files, { paths, exclude: a.exclude.map((p) => expandValue(p, c.vars)), untracked: a.untracked, projectDir: c.projectDir, ...(c.tracked ? { tracked: c.tracked } : {}) }, zip)
      for (const w of found.warnings) trace.warn(w)
      if (found.count === 0) {
        trace.error('No files to upload')
        continue
      }
      trace.println(`${paths.join(', ')}: found ${found.count} matching artifact files and directories`)
      const where = await c.artifacts.uploadArchive(job, a, zip)
      trace.println(`Saving artifacts as "archive" to ${where}... ok (${found.size} bytes)`)
    } finally {
      rmSync(zip, { force: true })
    }
  }
}

/** Every file of `reports:dotenv` (GitLab reads them all, in order; later keys win). */
async function uploadDotenv(c: TransferContext, paths: string[]): Promise<void> {
  const variables: DotenvVariable[] = []
  const raw: string[] = []
  let read = 0
  for (const p of paths) {
    const r = await readReport(c.files, p, DOTENV_MAX_BYTES)
    if (r.problem) {
      c.trace.warn(`dotenv report ${r.problem}`)
      continue
    }
    read++
    raw.push(r.text ?? '')
    const parsed = parseDotenv(r.text ?? '')
    for (const e of parsed.errors) c.trace.warn(`dotenv report ${p}: ${e}`)
    variables.push(...parsed.variables)
  }
  if (read === 0) return
  await c.artifacts.uploadDotenv(c.job, variables, raw.map((t) => (t.endsWith('\n') || t === '' ? t : `${t}\n`)).join(''))
  c.trace.println(`Saved ${variables.length} dotenv variable${variables.length === 1 ? '' : 's'} from ${paths.join(', ')}`)
}

/** download_artifacts: the dependencies' archives into the project, and their dotenv variables. */
export async function downloadArtifacts(c: TransferContext): Promise<DotenvVariable[]> {
  const dotenv: DotenvVariable[] = []
  for (const dep of c.job.dependencies) {
    const zip = await c.artifacts.downloadArchive(c.job, dep)
    if (zip) {
      c.trace.println(`Downloading artifacts for ${dep.name} (${dep.id})...`)
      for (const r of await c.files.put(await zipToTar(zip))) c.trace.warn(`artifacts of ${dep.name}: entry not extracted: ${r}`)
      c.trace.println(`Downloaded and extracted artifacts for ${dep.name}`)
    }
    dotenv.push(...(await c.artifacts.dependencyVariables(dep)))
  }
  return dotenv
}

function cacheKey(cc: JobCache, job: JobPayload, vars: Lookup): string {
  const key = expandValue(cc.key, vars)
  return key === '' ? `${job.job_info.name}/${job.git_info.ref}` : key
}

/** restore_cache: the first of key and fallback keys that has an archive. */
export async function restoreCaches(c: TransferContext): Promise<void> {
  for (const cc of c.job.cache ?? []) {
    if (cc.policy === 'push') {
      c.trace.println(`Not downloading cache ${cacheKey(cc, c.job, c.vars)} due to policy`)
      continue
    }
    const keys = [cacheKey(cc, c.job, c.vars), ...cc.fallback_keys.map((k) => expandValue(k, c.vars))]
    const fallback = c.vars('CACHE_FALLBACK_KEY')
    if (fallback) keys.push(fallback)
    let restored = false
    for (const key of keys) {
      c.trace.println(`Checking cache for ${key}...`)
      const zip = await c.cache.find(key)
      if (!zip) continue
      for (const r of await c.files.put(await zipToTar(zip))) c.trace.warn(`cache ${key}: entry not extracted: ${r}`)
      c.trace.println('Successfully extracted cache')
      restored = true
      break
    }
    if (!restored) c.trace.warn(`file does not exist: no cache for ${keys.join(', ')}`)
  }
}

/** archive_cache / archive_cache_on_failure. */
export async function archiveCaches(c: TransferContext, succeeded: boolean): Promise<void> {
  for (const cc of (c.job.cache ?? []).filter((x) => fits(x.when, succeeded))) {
    const key = cacheKey(cc, c.job, c.vars)
    if (cc.policy === 'pull') {
      c.trace.println(`Not uploading cache ${key} due to policy`)
      continue
    }
    c.trace.println(`Creating cache ${key}...`)
    const zip = tmpZip(c)
    try {
      const found = await collectToZip(c.files, { paths: cc.paths.map((p) => expandValue(p, c.vars)), exclude: [], untracked: cc.untracked, projectDir: c.projectDir, ...(c.tracked ? { tracked: c.tracked } : {}) }, zip)
      for (const w of found.warnings) c.trace.warn(w)
      if (found.count === 0) {
        c.trace.warn('Cache is empty, not saving it')
        continue
      }
      c.trace.println(`${cc.paths.join(', ')}: found ${found.count} matching artifact files and directories`)
      await c.cache.save(key, zip)
      c.trace.println('Created cache')
    } finally {
      rmSync(zip, { force: true })
    }
  }
}
