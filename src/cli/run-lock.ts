import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { GlrunError } from '../diagnostics/errors.js'
import { alive } from '../process-alive.js'

/**
 * One `glrun run` at a time per repository. Runs share `.glrun/` (job directories, traces,
 * artifacts, caches): two at once handed one run's artifacts to the other's jobs and deleted a
 * live job's directory. A second run refuses with who holds the lock; a lock whose process is
 * gone (glrun was killed) is taken over.
 */
export interface RunLock {
  /** Whether the lock was left by a run that did not end (its jobs may still be running). */
  readonly stale: boolean
  release(): void
}

interface Holder {
  pid: number
  host: string
  started: string
}


export function acquireRunLock(glrunDir: string): RunLock {
  mkdirSync(glrunDir, { recursive: true })
  const path = join(glrunDir, 'run.lock')
  let stale = false
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600)
      writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString() } satisfies Holder))
      closeSync(fd)
      const release = (): void => {
        process.off('exit', release)
        try {
          const h = JSON.parse(readFileSync(path, 'utf8')) as Holder
          if (h.pid === process.pid) rmSync(path, { force: true })
        } catch {
          // already gone
        }
      }
      process.on('exit', release)
      return { stale, release }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
    }
    let holder: Holder | undefined
    try {
      holder = JSON.parse(readFileSync(path, 'utf8')) as Holder
    } catch {
      holder = undefined
    }
    if (holder && (holder.host !== hostname() || (alive(holder.pid) && holder.pid !== process.pid))) {
      throw new GlrunError('GLRUN_RUN_BUSY', `another glrun run (pid ${holder.pid}, started ${holder.started}) is running in this repository`, {
        hint: `Runs in one repository share .glrun/ (job directories, artifacts, caches). Wait for it to finish, or stop it with \`kill ${holder.pid}\` (its jobs get their after_script).`,
      })
    }
    // The holder is gone: glrun was killed. Its lock is taken over (once; a race loses cleanly).
    stale = true
    rmSync(path, { force: true })
  }
  throw new GlrunError('GLRUN_RUN_BUSY', 'another glrun run started in this repository at the same moment', { hint: 'Run again when it has finished.' })
}
