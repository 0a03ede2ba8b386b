import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

/**
 * A real git repository in a temp dir, committed with a fixed author, committer and date so
 * commit SHAs (and everything derived from them) are identical on every machine.
 */
export interface RepoOptions {
  files?: Record<string, string>
  copyFrom?: string
  branch?: string
  origin?: string
  /** Extra commits before the main one, so CI_COMMIT_BEFORE_SHA has a parent. */
  history?: boolean
}

const FIXED_ENV = {
  GIT_AUTHOR_NAME: 'Ada Lovelace',
  GIT_AUTHOR_EMAIL: 'ada@example.com',
  GIT_COMMITTER_NAME: 'Ada Lovelace',
  GIT_COMMITTER_EMAIL: 'ada@example.com',
  GIT_AUTHOR_DATE: '2026-01-02T03:04:05Z',
  GIT_COMMITTER_DATE: '2026-01-02T03:04:05Z',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
}

export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, encoding: 'utf8', env: { ...process.env, ...FIXED_ENV }, stdio: ['ignore', 'pipe', 'pipe'] })
}

export function makeRepo(opts: RepoOptions = {}): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'glrun-repo-'))
  git(dir, 'init', '-q', '-b', opts.branch ?? 'main')
  git(dir, 'config', 'user.name', 'Ada Lovelace')
  git(dir, 'config', 'user.email', 'ada@example.com')
  git(dir, 'config', 'commit.gpgsign', 'false')
  if (opts.origin !== undefined) git(dir, 'remote', 'add', 'origin', opts.origin)
  if (opts.history) {
    writeFileSync(join(dir, 'README.md'), '# project\n')
    git(dir, 'add', '-A')
    git(dir, 'commit', '-q', '-m', 'Initial commit')
  }
  if (opts.copyFrom) cpSync(opts.copyFrom, dir, { recursive: true })
  for (const [path, text] of Object.entries(opts.files ?? {})) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  git(dir, 'add', '-A')
  git(dir, 'commit', '-q', '--allow-empty', '-m', 'Add pipeline\n\nThe body of the commit message.')
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}
