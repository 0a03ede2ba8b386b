import { posix } from 'node:path'
import type { GlrunError } from '../../diagnostics/errors.js'
import type { SourceSpan } from '../../diagnostics/source.js'
import { scalarString } from '../model/job.js'
import { isPlainObject } from '../model/keywords.js'
import type { JobSource, PlannedJob } from '../plan/types.js'
import { expandExisting } from '../variables/expand.js'
import { valueSpan } from '../yaml/positions.js'
import { Findings } from './findings.js'

/**
 * `artifacts:` and `cache:` paths the runner can never archive because they are outside the
 * project directory: absolute paths (`/tmp/report.xml`, `~/.npm`) and relative ones that climb
 * out (`../out`). The runner archives only files under $CI_PROJECT_DIR, so such a path matches
 * nothing: for artifacts "no matching files" / "No files to upload" (taxonomy
 * `artifacts_no_matching_files`, `GLRUN_ARTIFACTS_OUTSIDE_PROJECT`), for a cache an empty cache
 * every run (`GLRUN_CACHE_OUTSIDE_PROJECT`).
 *
 * Low false-positive by construction: `$CI_PROJECT_DIR/…` is inside; a path still starting with
 * another variable after expansion, or with /builds/ (where runners put projects by default,
 * depending on their builds_dir), is not judged.
 */
export function outsideProjectPathPitfalls(jobs: readonly PlannedJob[]): GlrunError[] {
  const findings = new Findings()
  for (const job of jobs) {
    const src = job.source
    if (!src) continue
    for (const p of artifactPaths(src.definition)) {
      if (!outside(p.path, src)) continue
      findings.add('GLRUN_ARTIFACTS_OUTSIDE_PROJECT', job.name, p.where ?? job.span,
        (j) => `${j}: ${p.key} "${p.path}" is outside the project directory; the runner only archives files under $CI_PROJECT_DIR, so it uploads nothing for it ("no matching files")`,
        `Write it inside the project (make the tool write to \`$CI_PROJECT_DIR/out\`, or copy it: \`mkdir -p out && cp -r ${p.path} out/\`) and list it relative to the project: \`out/${posix.basename(p.path).replace(/^\.\.?$/, '') || 'report'}\`.`)
    }
    for (const p of cachePaths(src.definition)) {
      if (!outside(p.path, src)) continue
      findings.add('GLRUN_CACHE_OUTSIDE_PROJECT', job.name, p.where ?? job.span,
        (j) => `${j}: cache:paths "${p.path}" is outside the project directory; the runner only caches files under $CI_PROJECT_DIR, so this cache stays empty`,
        'Point the tool\'s cache into the project and cache that relative path, e.g. `variables: {PIP_CACHE_DIR: "$CI_PROJECT_DIR/.cache/pip"}` with `cache: {paths: [.cache/pip]}` (npm: `npm_config_cache`, Gradle: `GRADLE_USER_HOME`, Maven: `-Dmaven.repo.local`).')
    }
  }
  return findings.warnings()
}

interface WrittenPath {
  readonly path: string
  readonly key: string
  readonly where: SourceSpan | undefined
}

function strings(container: unknown, key: string | number, label: string): WrittenPath[] {
  if (typeof container !== 'object' || container === null) return []
  const v = (container as Record<string | number, unknown>)[key]
  if (typeof v === 'string') return [{ path: v, key: label, where: valueSpan(container, key) }]
  if (Array.isArray(v)) return v.flatMap((_, i) => (typeof v[i] === 'string' ? [{ path: v[i] as string, key: label, where: valueSpan(v, i) }] : []))
  return []
}

/** `artifacts:paths` and the file names of `artifacts:reports` (string, list or `{path}`). */
function artifactPaths(def: Readonly<Record<string, unknown>>): WrittenPath[] {
  const a = def['artifacts']
  if (!isPlainObject(a)) return []
  const out = strings(a, 'paths', 'artifacts:paths')
  const reports = a['reports']
  if (isPlainObject(reports)) {
    for (const name of Object.keys(reports)) {
      const r = reports[name]
      if (isPlainObject(r)) out.push(...strings(r, 'path', `artifacts:reports:${name}:path`))
      else out.push(...strings(reports, name, `artifacts:reports:${name}`))
    }
  }
  return out
}

function cachePaths(def: Readonly<Record<string, unknown>>): WrittenPath[] {
  const c = def['cache']
  const list = Array.isArray(c) ? c : [c]
  return list.flatMap((entry) => (isPlainObject(entry) ? strings(entry, 'paths', 'cache:paths') : []))
}

/** True when the (expanded) path is surely outside the project directory. */
export function outside(written: string, src: Pick<JobSource, 'variable'>): boolean {
  let path = scalarString(written).trim().replace(/^\$(?:CI_PROJECT_DIR\b|\{CI_PROJECT_DIR\})\/*/, '')
  path = expandExisting(path, (n) => src.variable(n))
  if (path.includes('$') || path.startsWith('/builds/') || /^[A-Za-z]:[\\/]/.test(path)) return false
  if (path.startsWith('/') || path === '~' || path.startsWith('~/')) return true
  const clean = posix.normalize(path)
  return clean === '..' || clean.startsWith('../')
}
