/**
 * The stages gitlab-runner runs in its helper container rather than the job's image: sources
 * (git) and the artifact and cache steps (its artifacts-uploader and cache-archiver, which read
 * `git ls-files` for `untracked:`). The job's image need not have git; the helper has.
 */
const HELPER_STAGES = new Set(['get_sources', 'restore_cache', 'download_artifacts', 'archive_cache', 'archive_cache_on_failure', 'upload_artifacts_on_success', 'upload_artifacts_on_failure'])

export function runsInHelper(stage: string): boolean {
  return HELPER_STAGES.has(stage)
}
