import { Scan, diagnosis, evidence, phaseName } from '../scan.js'
import type { Diagnosis, Rule } from '../types.js'

/**
 * A commit range that starts at forty zeros: GitLab's CI_COMMIT_BEFORE_SHA when there is no previous
 * commit for the pipeline — the first push of a branch, scheduled, manual, web and API pipelines, and
 * merge-request pipelines (ci_before_sha_zero, proposed by the corpus's twentieth pass). A script that
 * diffs or lints "what this push changed" from it asks git for a commit that cannot exist.
 */

const ZERO_RANGE = /\b0{40}\b/
// git's own refusals of a commit it does not have; any "fatal:" only when the command names the variable.
const GIT_REFUSAL = /Invalid revision range|bad object|unknown revision|ambiguous argument|bad revision|Not a valid (?:object name|commit name)|no such commit/i

function beforeSha(s: Scan): Diagnosis[] {
  const hit = s.all(ZERO_RANGE).filter((h) => !s.inDiff(h.line) && phaseName(h.line.section) !== 'after_script'
    && (GIT_REFUSAL.test(h.line.text) || (/\bfatal:/.test(h.line.text) && /CI_COMMIT_BEFORE_SHA/.test(s.commandAt(h.line.n)?.text ?? '')))).pop()
  if (!hit) return []
  // A later command means the script went past the refusal ("|| git ls-files"): not why it failed.
  if (s.wentPast(hit.line)) return []
  return [diagnosis('ci_before_sha_zero', 'A commit range starts at CI_COMMIT_BEFORE_SHA, which is all zeros here',
    `"${hit.line.text.trim().slice(0, 140)}": GitLab sets CI_COMMIT_BEFORE_SHA to forty zeros when the pipeline has no previous commit — the first push of a branch, scheduled, manual, web or API pipelines, and merge-request pipelines — and git has no such commit.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Treat the zero SHA as "no previous commit": compare with the merge base of the default branch instead (or the merge request\'s base).', snippet: 'script:\n  - BASE="$CI_COMMIT_BEFORE_SHA"\n  - if [ "$BASE" = "0000000000000000000000000000000000000000" ]; then git fetch origin "$CI_DEFAULT_BRANCH" && BASE=$(git merge-base "origin/$CI_DEFAULT_BRANCH" HEAD); fi\n  - git diff --name-only "$BASE" HEAD   # merge requests: $CI_MERGE_REQUEST_DIFF_BASE_SHA' },
      { text: 'Or run the job only in push pipelines, where the variable names the previous head.', snippet: 'rules:\n  - if: $CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BEFORE_SHA != "0000000000000000000000000000000000000000"' },
    ], 0.85)]
}

export const beforeShaRule: Rule = {
  id: 'before-sha',
  categories: ['ci_before_sha_zero'],
  match: (ev) => beforeSha(Scan.of(ev)),
}
