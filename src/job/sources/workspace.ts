import { execFile } from 'node:child_process'
import { constants, mkdirSync, rmSync } from 'node:fs'
import { copyFile, lstat, mkdir, readlink, rm, symlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

async function git(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' })
  return stdout
}

/**
 * A snapshot of the user's working tree, made once per pipeline: a git repository at the
 * pipeline's commit (objects shared with the user's repository, so it costs almost nothing)
 * with the working tree's uncommitted and untracked (not ignored) changes laid on top.
 * Each job then gets its own copy (JobFiles.putSnapshot), so jobs can neither disturb each other nor
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
  // -z: NUL-separated, no quoting; untracked-files=all lists files, not just directories. Names
  // stay bytes: a name that is not valid UTF-8 is still a file to copy.
  const { stdout: status } = await run('git', ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--ignored=no'], { cwd: projectDir, maxBuffer: 256 * 1024 * 1024, encoding: 'buffer' })
  const entries = splitNul(status)
  const under = (root: string, rel: Buffer): Buffer => Buffer.concat([Buffer.from(`${root}/`), rel])
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!
    if (e.length < 4) continue
    const code = e.subarray(0, 2).toString('latin1')
    const path = e.subarray(3)
    if (code[0] === 'R' || code[0] === 'C') i++ // the next entry is the rename source
    if (path.subarray(0, 7).toString('latin1') === '.glrun/') continue
    const from = under(projectDir, path)
    const to = under(dest, path)
    const st = await lstat(from).catch(() => undefined)
    if (!st) {
      await rm(to, { force: true, recursive: true })
      continue
    }
    await mkdir(parentOf(to), { recursive: true })
    await rm(to, { force: true, recursive: true })
    if (st.isSymbolicLink()) await symlink(await readlink(from, { encoding: 'buffer' }), to)
    else if (st.isFile()) await copyFile(from, to, constants.COPYFILE_FICLONE)
  }
}

function splitNul(b: Buffer): Buffer[] {
  const out: Buffer[] = []
  let start = 0
  for (let i = b.indexOf(0); i >= 0; i = b.indexOf(0, start)) {
    out.push(b.subarray(start, i))
    start = i + 1
  }
  if (start < b.length) out.push(b.subarray(start))
  return out
}

function parentOf(p: Buffer): Buffer {
  return p.subarray(0, p.lastIndexOf(0x2f))
}

/**
 * The files git tracks at `sha`, read from the runner's own repository (never from a job's
 * directory, where a job could have planted a `.git/config` that makes git run a command).
 */
export async function trackedFiles(repo: string, sha: string): Promise<Set<string>> {
  const out = await git(repo, ['ls-tree', '-r', '-z', '--name-only', '--full-tree', sha])
  return new Set(out.split('\0').filter(Boolean))
}
