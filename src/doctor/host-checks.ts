import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { type Stats, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import type { Finding } from './types.js'

/**
 * Can jobs write where they will be put: `dir` itself when it exists, else the closest existing
 * directory above it (the runner creates the rest). Proven by creating and removing a file, the
 * only test that covers permissions, ACLs, read-only mounts and full quotas alike.
 */
export function checkWritableDir(scope: string, check: string, dir: string): Finding {
  const path = resolve(dir)
  let existing = path
  let stats: Stats | undefined
  const who = currentUser()
  for (;;) {
    try {
      stats = statSync(existing)
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      // ENOTDIR: a file somewhere above; the walk up finds it.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return { scope, check, status: 'fail', what: `${check} ${path} cannot be checked: ${existing} gives ${code ?? String(e)} to ${who}`, fix: `Give ${who} access to ${existing}, or point ${check} elsewhere.` }
    }
    if (stats || dirname(existing) === existing) break
    existing = dirname(existing)
  }
  if (stats && !stats.isDirectory()) {
    return {
      scope, check, status: 'fail',
      what: existing === path ? `${check} ${path} is a file, not a directory` : `${check} ${path} cannot be created: ${existing} is a file`,
      fix: `Point ${check} at a directory (or move the file ${existing} away).`,
    }
  }
  const probe = join(existing, `.glrun-doctor-${process.pid}-${randomBytes(4).toString('hex')}`)
  try {
    writeFileSync(probe, '')
    unlinkSync(probe)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e)
    if (code === 'EROFS') return { scope, check, status: 'fail', what: `${check} ${path} is on a read-only file system`, fix: `Point ${check} at a writable place.` }
    return {
      scope, check, status: 'fail', what: `${check} ${path} is not writable by ${who} (${code}${existing === path ? '' : ` in ${existing}`})`,
      fix: `Give ${who} write access to ${existing}, or point ${check} elsewhere:`,
      snippet: `chown -R ${who} ${shellQuote(existing)}\nchmod u+rwx ${shellQuote(existing)}`,
    }
  }
  return {
    scope, check, status: 'ok',
    what: existing === path ? `${check} ${path} is writable` : `${check} ${path} does not exist yet; ${existing} is writable, so it can be created`,
  }
}

/** git: glrun reads the project with it, and the shell executor clones with it. */
export function checkGit(scope: string): Finding {
  const r = spawnSync('git', ['--version'], { encoding: 'utf8' })
  if (r.error || r.status !== 0) {
    return { scope, check: 'git', status: 'fail', what: `git cannot be started (${(r.error as NodeJS.ErrnoException | undefined)?.code ?? `exit ${r.status}`})`, fix: 'Install git (apt-get install git, dnf install git, brew install git) and put it on PATH.' }
  }
  const text = r.stdout.trim()
  const m = /(\d+)\.(\d+)/.exec(text)
  if (!m || Number(m[1]) < 2) return { scope, check: 'git', status: 'fail', what: `${text}: glrun needs git 2 or newer`, fix: 'Upgrade git (distributions have packaged git 2 since 2014).' }
  return { scope, check: 'git', status: 'ok', what: text }
}

/** sh runs every job script somewhere; bash is what GitLab's runner prefers when it is there. */
export function checkShells(scope: string): Finding[] {
  const works = (shell: string): boolean => spawnSync(shell, ['-c', 'exit 0']).status === 0
  return [
    works('sh')
      ? { scope, check: 'sh', status: 'ok', what: 'sh runs' }
      : { scope, check: 'sh', status: 'fail', what: 'sh cannot be started: no job can run on this machine', fix: 'Install a POSIX shell at /bin/sh (dash, bash or busybox) and put it on PATH.' },
    works('bash')
      ? { scope, check: 'bash', status: 'ok', what: 'bash runs (the shell executor uses it)' }
      : { scope, check: 'bash', status: 'warn', what: 'bash is missing: the shell executor runs jobs with sh, so scripts with bash syntax ([[ ]], arrays, pipefail) fail', fix: 'Install bash (apt-get install bash, apk add bash).' },
  ]
}

function currentUser(): string {
  try {
    return userInfo().username
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`
  }
}

function shellQuote(s: string): string {
  return /^[\w./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}
