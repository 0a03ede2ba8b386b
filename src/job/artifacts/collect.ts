import picomatch from 'picomatch'
import type { JobFiles } from '../../executors/types.js'
import { readSmall, readTar } from '../files/tar-entries.js'
import { ZipWriter } from './zip.js'

/**
 * The files an `artifacts:` or `cache:` entry captures, with gitlab-runner's path rules: paths
 * are relative to the project directory, `*` stays in a directory and `**` crosses them, a
 * directory means everything under it, `exclude` removes matches, `untracked` adds the files git
 * does not track. Read from archives the job's environment makes (JobFiles), so nothing outside
 * the project directory, and no link a job planted, is ever followed.
 */
export interface CollectSpec {
  paths: readonly string[]
  exclude: readonly string[]
  untracked: boolean
  /** The files git tracks at the job's commit (from the runner's own repository, never the job's). */
  tracked?: () => Promise<Set<string>>
  /** How the project directory is named in warnings (the job's CI_PROJECT_DIR). */
  projectDir: string
}

export interface Collected {
  /** Files and links written into the zip. */
  count: number
  size: number
  warnings: string[]
}

const GLOB = /[*?[\]{}()!+@]/

/** The part of a pattern before its first wildcard: the directory to ask the job for. */
function literalPrefix(p: string): string {
  const parts = p.split('/')
  const i = parts.findIndex((x) => GLOB.test(x))
  return (i < 0 ? parts : parts.slice(0, i)).join('/')
}

export async function collectToZip(files: JobFiles, spec: CollectSpec, zipPath: string): Promise<Collected> {
  const warnings: string[] = []
  const patterns: { raw: string; match: (f: string) => boolean; prefix: string; hits: number }[] = []
  for (const raw of spec.paths) {
    const p = raw.replace(/^\.\//, '').replace(/\/+$/, '')
    if (p.startsWith('/') || p.split('/').includes('..')) {
      warnings.push(`${raw}: artifact path is not a subpath of project directory: ${spec.projectDir}`)
      continue
    }
    patterns.push({ raw, match: picomatch([p, `${p}/**`], { dot: true }), prefix: literalPrefix(p), hits: 0 })
  }
  const excluded = spec.exclude.length > 0 ? picomatch(spec.exclude.flatMap((e) => [e, `${e.replace(/\/+$/, '')}/**`]), { dot: true }) : () => false
  let tracked: Set<string> | undefined
  if (spec.untracked) {
    if (spec.tracked) {
      try {
        tracked = await spec.tracked()
      } catch (e) {
        warnings.push(`untracked: ${(e as Error).message}; no untracked files collected (untracked: needs the job's sources: GIT_STRATEGY fetch or clone)`)
      }
    } else warnings.push('untracked: the list of tracked files is not available here; no untracked files collected')
  }
  // Ask for each distinct prefix once, skipping those inside another one asked for.
  const prefixes = [...new Set(tracked ? [''] : patterns.map((p) => p.prefix))].sort()
  const asked = prefixes.filter((p, i) => !prefixes.slice(0, i).some((q) => q === '' || p.startsWith(`${q}/`)))
  const zip = new ZipWriter(zipPath)
  const seen = new Set<string>()
  for (const prefix of asked) {
    const tar = await files.get(prefix)
    if (!tar) continue
    await readTar(tar, async (e, content) => {
      if (e.kind === 'directory' || e.name === '.git' || e.name.startsWith('.git/') || seen.has(e.name)) return
      let hit = false
      for (const p of patterns) if (p.match(e.name)) { p.hits++; hit = true }
      if (!hit && tracked && !tracked.has(e.name)) hit = true
      if (!hit || excluded(e.name)) return
      seen.add(e.name)
      await zip.add(e, content)
    }, { onRefused: (name, why) => warnings.push(`${name}: not archived: ${why}`) })
  }
  warnings.push(...(files.takeRefusals?.() ?? []))
  for (const p of patterns) {
    if (p.hits === 0) warnings.push(`${p.raw}: no matching files. Ensure that the artifact path is relative to the working directory (${spec.projectDir})`)
  }
  const size = await zip.close()
  return { count: seen.size, size, warnings }
}

/**
 * A report file (dotenv) as text, read from the job's environment. A link, a directory or a file
 * over `max` bytes is refused with a reason: the report is the job's output, not a path to follow.
 */
export async function readReport(files: JobFiles, path: string, max: number): Promise<{ text?: string; problem?: string }> {
  const p = path.replace(/^\.\//, '')
  const tar = await files.get(p)
  if (!tar) return { problem: `${path}: no matching files` }
  let result: { text?: string; problem?: string } = { problem: `${path}: no matching files` }
  let first = true
  await readTar(tar, async (e, content) => {
    if (!first) return
    first = false
    if (e.kind === 'symlink') result = { problem: `${path} is a symbolic link; a report must be a regular file (not read)` }
    else if (e.kind !== 'file') result = { problem: `${path} is not a regular file (not read)` }
    else {
      const text = await readSmall(content, max)
      result = text === undefined ? { problem: `${path} is larger than ${max} bytes (not read)` } : { text }
    }
  })
  return result
}
