import { Scan, diagnosis, evidence } from '../scan.js'
import type { Diagnosis, Rule } from '../types.js'

/**
 * The job called GitLab's REST API with CI_JOB_TOKEN and was refused (job_token_api_scope, proposed by the
 * corpus's nineteenth pass). A job token opens only some endpoints (its project's packages, releases,
 * artifacts and jobs, and what other projects allow it through their job token allowlist), not the API
 * a personal or project access token does; GitLab answers 401, 403 or a 404 "Project Not Found".
 * Git over HTTPS with the same token is git_auth_job_token's (host.ts).
 */

// GitLab's API answers, as clients relay them (curl's JSON body, python-gitlab, gitbeaker, go-gitlab, glab).
const REFUSED = /\{"message":"(?:401 Unauthorized|403 Forbidden|404 (?:Project|Group|Not) (?:Not )?Found)"\}|^404 Project Not Found$|GitlabAuthenticationError: 401|GitlabGetError: 404: 404 Project Not Found|GitbeakerRequestError: (?:Not Found|Unauthorized|Forbidden)|\/api\/v4\/[^\s:]*: 40[134] \{message|glab: (?:401 Unauthorized|403 Forbidden|404 Not Found)/
// The token the request used: the echoed command, or the YAML job's variables feeding a tool its token.
const JOB_TOKEN = /\$\{?CI_JOB_TOKEN\b|JOB-TOKEN|job_token\s*=/

function jobToken(s: Scan): Diagnosis[] {
  const hit = s.all(REFUSED).filter((h) => !s.inDiff(h.line)).pop()
  if (!hit || s.wentPast(hit.line)) return []
  const cmd = s.commandAt(hit.line.n)
  // With --ci: every YAML job the log can be hands CI_JOB_TOKEN to a tool through a variable.
  const jobs = s.ciJobs()
  const yamlJob = jobs.length > 0 && jobs.every((j) => Object.values(j.variables).some((v) => JOB_TOKEN.test(v))) ? jobs[0] : undefined
  if (!JOB_TOKEN.test(cmd?.text ?? '') && !yamlJob) return []
  const notFound = /404|Not Found/.test(hit.line.text)
  return [diagnosis('job_token_api_scope', 'GitLab\'s API refused the job token for this request',
    `"${hit.line.text.trim().slice(0, 140)}": the request used CI_JOB_TOKEN${yamlJob ? ` (the job ${yamlJob.name} passes it to the tool as its token)` : ''}. A job token opens only some endpoints — its project's packages, releases, artifacts and jobs, and projects whose job token allowlist names this one — ${notFound ? 'and GitLab answers "404 Not Found" for a project or endpoint the token may not see' : 'and GitLab refuses the rest with 401 or 403'}.`,
    evidence(cmd, hit), [
      { text: 'For another project: add this project to that project\'s job token allowlist (its Settings › CI/CD › Job token permissions).' },
      { text: 'For endpoints a job token never opens (users, merge request notes, project settings): use a project or group access token with the api scope, in a masked CI/CD variable.', snippet: 'variables:\n  GITLAB_TOKEN: $PROJECT_API_TOKEN   # a masked variable holding a project access token (scope: api)' },
    ], 0.65)]
}

export const jobTokenRule: Rule = {
  id: 'job-token',
  categories: ['job_token_api_scope'],
  match: (ev) => jobToken(Scan.of(ev)),
}
