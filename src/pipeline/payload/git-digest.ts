import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import type { FilesDigest } from './cache.js'

/**
 * `cache:key:files` as GitLab computes it: the SHA-1 of the ids of the last commits that
 * changed each listed file (patterns allowed), joined by '-'; null when none of them was ever
 * committed (the caller then uses `default`). Runs git only for jobs that use it.
 */
export function gitFilesDigest(projectDir: string, sha: string): FilesDigest {
  const memo = new Map<string, string | null>()
  return (files) => {
    const memoKey = files.join('\0')
    const hit = memo.get(memoKey)
    if (hit !== undefined) return hit
    const ids: string[] = []
    for (const file of files) {
      try {
        const id = execFileSync('git', ['log', '-1', '--format=%H', sha, '--', `:(glob)${file}`], {
          cwd: projectDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'],
        }).trim()
        if (id) ids.push(id)
      } catch {
        // An unknown path or revision contributes nothing, as in GitLab.
      }
    }
    const digest = ids.length > 0 ? createHash('sha1').update(ids.join('-')).digest('hex') : null
    memo.set(memoKey, digest)
    return digest
  }
}
