/** Top-level keys that are not jobs (GitLab's `Gitlab::Ci::Config::Entry::Root`). */
export const GLOBAL_KEYWORDS: ReadonlySet<string> = new Set([
  'default', 'include', 'stages', 'variables', 'workflow', 'spec',
  // Deprecated top-level defaults: still accepted and applied like `default:`.
  'image', 'services', 'cache', 'before_script', 'after_script',
  // Legacy: a top-level `types` is the old name of `stages`.
  'types',
])

/** Keys `default:` may hold (gitlab-ci-semantics §9). */
export const DEFAULT_KEYS: readonly string[] = [
  'after_script', 'artifacts', 'before_script', 'cache', 'hooks', 'id_tokens', 'identity', 'image',
  'interruptible', 'retry', 'services', 'tags', 'timeout',
]

/** The deprecated top-level keywords that act as defaults. */
export const LEGACY_DEFAULT_KEYS: readonly string[] = ['image', 'services', 'cache', 'before_script', 'after_script']

export function isHidden(name: string): boolean {
  return name.startsWith('.')
}

/** Names of the top-level keys that are jobs (visible or hidden), in file order. */
export function jobKeys(config: Record<string, unknown>): string[] {
  return Object.keys(config).filter((k) => !GLOBAL_KEYWORDS.has(k))
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype
}
