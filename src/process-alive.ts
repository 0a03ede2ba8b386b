import { readFileSync } from 'node:fs'

/**
 * Whether the process `pid` on this machine still runs: what decides that a lock, a container
 * or a pod another glrun made is a leftover of one that was killed.
 */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
  // A killed glrun whose parent has not reaped it yet is a zombie: gone for our purpose.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return true
  }
}
