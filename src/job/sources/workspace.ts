import { execFile } from 'node:child_process'
import { constants, mkdirSync, rmSync } from 'node:fs'
import { copyFile, lstat, mkdir, readlink, rm, symlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { copyTree } from './copy-worker.js'

const run = promisify(execFile)

async function git(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' })
  return stdout
}

/**
 * A snapshot of the user's working tree, made once per pipeline: a git repository at the
 * pipeline's commit (objects shared with the user's repository, so it costs almost nothing)
 * with the working tree's uncommitted and untracked (not ignored) changes laid on top.
 * Each job then gets its own copy (`materialize`), so jobs can neither disturb each other nor
 * the user's files.
 */
export async function makeWorkspaceSnapshot(projectDir: string, sha: string, dest: string): Promise<void> {
  rmSync(dest, { recursive: true, force: true })
  mkdirSync(dirname(dest), { recursive: true })
  await git(dirname(dest), ['clone', '-q', '--shared', '--no-checkout', projectDir, dest])
  await git(dest, ['-c', 'advice.detachedHead=false', 'checkout', '-q', '--detach', sha])
  // Every file of the snapshot's .git is copied into every job: keep only what git needs for a
  // detached checkout (HEAD, config, index, packed refs, the alternates link to the objects).
  for (const extra of ['hooks', 'logs', 'info', 'description', 'branches', 'refs/remotes', 'refs/tags']) {
    rmSync(join(dest, '.git', extra), { recursive: true, force: true })
  }
  // -z: NUL-separated, no quoting; untracked-files=all lists files, not just directories.
  const status = await git(projectDir, ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--ignored=no'])
  const entries = status.split('\0')
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!
    if (e.length < 4) continue
    const code = e.slice(0, 2)
    const path = e.slice(3)
    if (code[0] === 'R' || code[0] === 'C') i++ // the next entry is the rename source
    if (path.startsWith('.glrun/')) continue
    const from = join(projectDir, path)
    const to = join(dest, path)
    const st = await lstat(from).catch(() => undefined)
    if (!st) {
      await rm(to, { force: true, recursive: true })
      continue
    }
    await mkdir(dirname(to), { recursive: true })
    await rm(to, { force: true, recursive: true })
    if (st.isSymbolicLink()) await symlink(await readlink(from), to)
    else if (st.isFile()) await copyFile(from, to, constants.COPYFILE_FICLONE)
  }
}

/** The job's own copy of the snapshot (copy-on-write where the filesystem supports it), made off the main thread. */
export function materialize(snapshot: string, dest: string): Promise<void> {
  return copyTree(snapshot, dest)
}
