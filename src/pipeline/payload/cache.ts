import type { ArtifactWhen, JobCache } from '../../payload/types.js'
import { isPlainObject } from '../model/keywords.js'
import { flattenStrings, scalarString } from '../model/job.js'

/** The commit ids of the last change to each file, for `cache:key:files` (null when unknown). */
export type FilesDigest = (files: readonly string[]) => string | null

function when(v: unknown): ArtifactWhen {
  return v === 'on_failure' || v === 'always' ? v : 'on_success'
}

/**
 * `cache:` (one hash or a list) → the payload list, keyed as GitLab keys it:
 * - `key:` string as written (the runner expands variables in it), default `default`;
 * - `key:files` → `<prefix>-<sha1 of the files' last commit ids>` (`default` when none changed);
 * - then GitLab's separated caches suffix: `-protected` on protected refs unless `unprotect`,
 *   else `-non_protected`, on the key and every fallback key.
 */
export function toCache(v: unknown, opts: { protectedRef: boolean; digest: FilesDigest }): JobCache[] | null {
  if (v === undefined || v === null) return null
  // A list nested by a YAML alias (`cache: [*shared]`) is flattened, as GitLab does.
  const entries = Array.isArray(v) ? v.flat(2) : [v]
  const out: JobCache[] = []
  for (const c of entries) {
    if (!isPlainObject(c)) continue
    const unprotect = c['unprotect'] === true
    const suffix = !unprotect && opts.protectedRef ? 'protected' : 'non_protected'
    const key = cacheKey(c['key'], opts.digest)
    const entry: JobCache = {
      key: `${key}-${suffix}`,
      untracked: c['untracked'] === true,
      policy: c['policy'] === undefined ? 'pull-push' : scalarString(c['policy']),
      paths: flattenStrings(c['paths']),
      when: when(c['when']),
      fallback_keys: flattenStrings(c['fallback_keys']).map((k) => `${k}-${suffix}`),
    }
    if (unprotect) entry.unprotect = true
    out.push(entry)
  }
  return out.length > 0 ? out : null
}

function cacheKey(key: unknown, digest: FilesDigest): string {
  if (key === undefined || key === null) return 'default'
  if (!isPlainObject(key)) return scalarString(key)
  const files = flattenStrings(key['files'])
  const prefix = key['prefix'] === undefined ? '' : scalarString(key['prefix'])
  const hash = files.length > 0 ? digest(files) ?? 'default' : 'default'
  return [prefix, hash].filter((s) => s !== '').join('-')
}
