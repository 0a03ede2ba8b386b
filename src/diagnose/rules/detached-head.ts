import { Scan, diagnosis, evidence } from '../scan.js'
import type { Diagnosis, Rule } from '../types.js'

/**
 * GitLab's runner checks out the pipeline's commit, not its branch: every job's repository is on a
 * detached HEAD, on branch pipelines too (git_detached_head, proposed by the corpus's nineteenth
 * pass). Release and versioning tools that read, commit to or push "the current branch" (lerna
 * version/publish, git push/pull without a refspec, git symbolic-ref) refuse there.
 */

const DETACHED = new RegExp([
  // lerna's version/publish (ENOGIT) and git's own refusals (also behind Maven's "[ERROR] ").
  String.raw`ENOGIT Detached git HEAD`,
  String.raw`^(?:\[(?:ERROR|INFO)\] )?fatal: You are not currently on a branch\.`,
  String.raw`^(?:\[(?:ERROR|INFO)\] )?fatal: ref HEAD is not a symbolic ref`,
  String.raw`^(?:\[(?:ERROR|INFO)\] )?fatal: HEAD does not point to a branch`,
  // git push of HEAD itself from the detached checkout.
  String.raw`hint: The <src> part of the refspec is a commit object`,
  // GitPython's repo.active_branch, GitVersion.
  String.raw`HEAD is a detached symbolic reference`,
  String.raw`the branch being examined is a detached Head`,
  // A tool that took the branch from git's "(HEAD detached from <sha>)" and pushed to it.
  String.raw`invalid refspec \\?'\(HEAD detached (?:from|at) [0-9a-f]+\)`,
  // Other tools in their words, only on an error line.
  String.raw`(?:ERR!|[Ee]rror|ERROR|fatal|[Cc]annot|[Cc]an't|[Rr]efus)[^\n]{0,80}\bdetached (?:git )?[Hh][Ee][Aa][Dd]\b`,
].join('|'))

function detachedHead(s: Scan): Diagnosis[] {
  // (Not in after_script: it runs after the job's result is decided.)
  const hit = s.all(DETACHED).filter((h) => !s.inClone(h.line) && !s.inDiff(h.line) && !s.inAfterScript(h.line)).pop()
  if (!hit) return []
  // A later command means the script went past this refusal ("|| fallback", "|| true"): not why it failed.
  // (after_script's commands are another stage: they do not mean the script went on.)
  if (s.wentPast(hit.line)) return []
  const tag = s.has(/CI_COMMIT_TAG|Checking out \w+ as (?:detached HEAD \(ref is )?v?\d+\.\d+/)
  return [diagnosis('git_detached_head', 'The job\'s checkout is on a detached HEAD, not a branch',
    `"${hit.line.text.trim().slice(0, 120)}": the runner checks out the pipeline's commit (git checkout <sha>), so the job's repository is on a detached HEAD even in a pipeline for a branch. A tool that versions, commits or pushes "the current branch" finds none.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: tag ? 'A tag pipeline has no branch: run the release from the branch pipeline, or check out the release branch explicitly.' : 'Put a branch at the pipeline\'s commit before the tool runs.', snippet: tag ? 'script:\n  - git checkout -B main "origin/main"' : 'script:\n  - git checkout -B "$CI_COMMIT_REF_NAME" "$CI_COMMIT_SHA"' },
      { text: 'Tools that read tags and history also need the full clone. To push back, the job token works only where the project allows it (GitLab 17.2+: Settings › CI/CD › Job token permissions › allow Git push requests); otherwise use a project access token in the remote URL.', snippet: 'variables:\n  GIT_DEPTH: 0\nscript:\n  - git remote set-url origin "https://oauth2:${RELEASE_TOKEN}@${CI_SERVER_HOST}/${CI_PROJECT_PATH}.git"' },
    ], /ENOGIT|not currently on a branch|not a symbolic ref|does not point to a branch|invalid refspec|detached symbolic reference|being examined is a detached|refspec is a commit object/.test(hit.line.text) ? 0.8 : 0.6)]
}

export const detachedHeadRule: Rule = {
  id: 'detached-head',
  categories: ['git_detached_head'],
  match: (ev) => detachedHead(Scan.of(ev)),
}
