import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * `.glrun/` (builds, traces, artifacts, caches) must never show up in the user's `git status`:
 * list it in the repository's .git/info/exclude, which is local and never committed.
 */
export function keepGlrunOutOfGit(projectDir: string): void {
  const gitDir = join(projectDir, '.git')
  if (!existsSync(gitDir)) return
  try {
    const exclude = join(gitDir, 'info', 'exclude')
    mkdirSync(join(gitDir, 'info'), { recursive: true })
    const text = existsSync(exclude) ? readFileSync(exclude, 'utf8') : ''
    if (!text.split('\n').includes('/.glrun/')) appendFileSync(exclude, `${text && !text.endsWith('\n') ? '\n' : ''}/.glrun/\n`)
  } catch {
    // A worktree's .git is a file, or the repository is read-only: nothing to do.
  }
}
