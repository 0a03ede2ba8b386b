import { createHash } from 'node:crypto'
import { slugify } from './slug.js'

/**
 * A directory name for a job's files under `.glrun/` (trace, artifacts): readable, and unique
 * per job name. The slug alone would give "x y" and "x-y" one directory, where one job would
 * overwrite the other's trace and artifacts; a name that is not its own slug gets a short hash
 * of itself appended.
 */
export function jobDirName(name: string): string {
  const slug = slugify(name) || 'job'
  if (slug === name) return slug
  return `${slug}-${createHash('sha256').update(name).digest('hex').slice(0, 8)}`
}
