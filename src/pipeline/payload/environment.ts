import { createHash } from 'node:crypto'
import { isPlainObject } from '../model/keywords.js'
import { scalarString } from '../model/job.js'

export interface EnvironmentSpec {
  name: string
  url?: string
  action?: string
  tier?: string
}

export function readEnvironment(v: unknown): EnvironmentSpec | undefined {
  if (typeof v === 'string') return { name: v }
  if (!isPlainObject(v) || v['name'] === undefined) return undefined
  const env: EnvironmentSpec = { name: scalarString(v['name']) }
  if (v['url'] !== undefined) env.url = scalarString(v['url'])
  if (v['action'] !== undefined) env.action = scalarString(v['action'])
  if (v['deployment_tier'] !== undefined) env.tier = scalarString(v['deployment_tier'])
  return env
}

/**
 * CI_ENVIRONMENT_SLUG, GitLab's `Gitlab::Slug::Environment`: DNS-safe, at most 24 characters,
 * starts with a letter; when the name had to change, a 6-character suffix derived from the
 * name's SHA-256 keeps different names apart.
 */
export function environmentSlug(name: string): string {
  let slug = name.toLowerCase().replace(/[^a-z0-9]/g, '-')
  if (!/^[a-z]/.test(slug)) slug = `env-${slug}`
  slug = slug.replace(/-+/g, '-')
  if (slug.length > 24 || slug !== name) {
    const short = slug.slice(0, 17)
    const suffix = BigInt(`0x${createHash('sha256').update(name).digest('hex')}`).toString(36).slice(-6)
    return short + (short.endsWith('-') ? '' : '-') + suffix
  }
  return slug.replace(/-$/, '')
}

/** The deployment tier GitLab infers from an environment name when none is given. */
export function inferTier(name: string): string {
  const n = name.toLowerCase()
  if (/(^|[^a-z])(prod|production|live)([^a-z]|$)/.test(n)) return 'production'
  if (/(^|[^a-z])(stag|staging|model|pre|demo)/.test(n)) return 'staging'
  if (/(^|[^a-z])(test|qc|qa)/.test(n)) return 'testing'
  if (/(^|[^a-z])(dev|review|trunk)/.test(n)) return 'development'
  return 'other'
}
