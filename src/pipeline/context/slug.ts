/**
 * GitLab's `Gitlab::Utils.slugify` (CI_COMMIT_REF_SLUG, CI_PROJECT_PATH_SLUG, CI_JOB_NAME_SLUG):
 * lowercase, every character but a-z and 0-9 becomes `-`, at most 63 bytes, no leading or
 * trailing `-`.
 */
export function slugify(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]/g, '-').slice(0, 63).replace(/^-+|-+$/g, '')
}
