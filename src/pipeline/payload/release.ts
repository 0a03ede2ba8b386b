import type { JobStep } from '../../payload/types.js'
import { isPlainObject } from '../model/keywords.js'
import { flattenStrings, scalarString } from '../model/job.js'

const SINGLE = ['name', 'description', 'tag_name', 'tag_message', 'ref', 'released_at'] as const

/**
 * `release:` becomes a `release` step running release-cli, built the way GitLab builds it
 * (`Gitlab::Ci::Build::Releaser`): one `--flag "value"` per keyword, milestones repeated,
 * asset links as JSON.
 */
export function releaseStep(release: unknown, timeout: number): JobStep | undefined {
  if (!isPlainObject(release)) return undefined
  let command = 'release-cli create'
  for (const key of SINGLE) {
    if (release[key] !== undefined && release[key] !== null) command += ` --${key.replace(/_/g, '-')} "${scalarString(release[key])}"`
  }
  for (const m of flattenStrings(release['milestones'])) command += ` --milestone "${m}"`
  const assets = release['assets']
  if (isPlainObject(assets) && Array.isArray(assets['links'])) {
    for (const link of assets['links']) if (isPlainObject(link)) command += ` --assets-link ${JSON.stringify(JSON.stringify(link))}`
  }
  return { name: 'release', script: [command], timeout, when: 'on_success', allow_failure: false }
}
