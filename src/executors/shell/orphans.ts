import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * The shell executor's running process groups, one file each under the run's state directory.
 * Why: a glrun killed with SIGKILL cannot end its jobs; the next run in the same repository reads
 * these notes and ends the groups that are still the same processes (same start time), before it
 * reuses their directories.
 */
/** Fields of /proc/PID/stat after the command name (which may hold spaces and parentheses). */
function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined
  }
}

/** starttime (field 22), in clock ticks since boot. */
function startTime(pid: number): string | undefined {
  return statFields(pid)?.[19]
}

/**
 * Whether a process of group `pgid` started no earlier than the group's leader did: then it is
 * still the job's (the leader may be gone while its background children live on), not a new
 * process that reused the number.
 */
function groupAlive(pgid: number, leaderStart: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const f = statFields(entry)
    if (f && Number(f[2]) === pgid && Number(f[19]) >= leaderStart) return true
  }
  return false
}

export function rememberGroup(stateDir: string, pgid: number): void {
  try {
    mkdirSync(stateDir, { recursive: true })
    writeFileSync(join(stateDir, `group-${pgid}`), startTime(pgid) ?? '')
  } catch {
    // Best effort: a note that cannot be written only loses the kill -9 recovery.
  }
}

export function forgetGroup(stateDir: string, pgid: number): void {
  rmSync(join(stateDir, `group-${pgid}`), { force: true })
}

/** Ends the process groups a killed run left behind. Returns how many were still running. */
export function killOrphanGroups(stateDir: string): number {
  let killed = 0
  let names: string[]
  try {
    names = readdirSync(stateDir)
  } catch {
    return 0
  }
  for (const n of names) {
    const m = /^group-(\d+)$/.exec(n)
    if (!m) continue
    const pgid = Number(m[1])
    const noted = readFileSync(join(stateDir, n), 'utf8')
    if (noted !== '' && groupAlive(pgid, Number(noted))) {
      try {
        process.kill(-pgid, 'SIGKILL')
        killed++
      } catch {
        // gone meanwhile
      }
    }
    rmSync(join(stateDir, n), { force: true })
  }
  return killed
}
