import { Scan, diagnosis, evidence, hostOf } from '../scan.js'
import type { Diagnosis, Fix, Rule } from '../types.js'

/**
 * gitlab_api_token_invalid (proposed by the corpus's twenty-fourth pass): a tool in the job (the
 * SonarQube GitLab plugin, release and report tools) calls GitLab's REST API with a personal, project
 * or group token that is missing, expired, lacks the `api` scope, or whose user cannot see the
 * project. A refusal of CI_JOB_TOKEN is job_token_api_scope (job-token.ts); a 5xx is the server's.
 *
 * The SonarQube GitLab plugin (sonar-gitlab-plugin) wraps every API failure in "Failed to execute
 * project builder: …CommitProjectBuilder"; without its "Caused by" lines, the usual causes are offered
 * in turn: the token, the plugin's API version (2.x speaks API v3, which GitLab 11.0 removed), the server.
 */

// The plugin's "Unable found project for <path>", with or without its later "Verify Configuration …" (not "null").
const REFUSED = /Server returned HTTP response code: (401|403) for URL: (https?:\/\/\S+\/api\/v[34]\/\S*)|Unable found project for (?!null\b)(\S+?)(?: Verify Configuration sonar\.gitlab\.project_id or sonar\.gitlab\.user_token[^\n]*)?$/
const API_V3_GONE = /Server returned HTTP response code: 404 for URL: (https?:\/\/\S+\/api\/v3\/\S*)/
// talanlabs since 2.x, synaptix before (the releases that still speak API v3).
const SONAR_GITLAB = /Failed to execute project builder: com\.(?:talanlabs|synaptix)\.sonar\.plugins\.gitlab\.CommitProjectBuilder/
// The plugin cannot tell which project is meant: no project id, or a name several visible projects share.
const PROJECT_UNKNOWN = /Unable found project for null project name|Multiple found projects for (\S+)/
const NOT_RESPONDING = /Caused by: GitLab is not responding/

const tokenFixes: Fix[] = [
  { text: 'Give the tool a token that can read the project through the API: a project or group access token (or a bot user\'s personal token) with the api (or read_api) scope, in a masked CI/CD variable, and pass it explicitly.', snippet: 'variables:\n  SONAR_GITLAB_TOKEN: $GITLAB_API_TOKEN   # masked CI/CD variable\nscript:\n  - sonar-scanner -Dsonar.gitlab.user_token="$GITLAB_API_TOKEN" -Dsonar.gitlab.project_id="$CI_PROJECT_ID"' },
  { text: 'Check the token still works (tokens expire; a revoked or blocked user\'s tokens stop) and that its user is a member of the project.', snippet: 'curl -sS --header "PRIVATE-TOKEN: $GITLAB_API_TOKEN" "$CI_API_V4_URL/projects/$CI_PROJECT_ID" | head -c 300' },
]

function refused(s: Scan): Diagnosis[] {
  const hit = s.lastWhere(REFUSED, (h) => !s.inAfterScript(h.line) && gitlabUrl(s, h.m[2]))
  // The job token's refusals are job-token.ts's answer.
  if (!hit || /CI_JOB_TOKEN/.test(s.commandAt(hit.line.n)?.text ?? '')) return []
  const host = hostOf(hit.m[2]) ?? s.gitlabHost() ?? 'GitLab'
  return [diagnosis('gitlab_api_token_invalid', `${host}'s API refused the token the job's tool uses`,
    hit.m[3]
      ? `"${hit.line.text.trim().slice(0, 160)}": the SonarQube GitLab plugin could not see the project through the API: no user token reached it in this run (a token set only in SonarQube's global settings is not always used), or the token's user has no access.`
      : `The tool's call to ${hit.m[2] ?? 'the API'} was answered ${hit.m[1]}: the token it sends is missing, expired, lacks the api scope, or belongs to a user without access to the project.`,
    evidence(s.commandAt(hit.line.n), hit), tokenFixes, 0.8)]
}

// Other products serve /api/v3/ (GitHub Enterprise) and /api/v4/ (Mattermost) too: the host must be GitLab's,
// or the path one of GitLab's own resources.
function gitlabUrl(s: Scan, url: string | undefined): boolean {
  if (url === undefined) return true
  const host = hostOf(url) ?? ''
  return host === s.gitlabHost() || /gitlab/i.test(host) || /\/api\/v4\/(?:projects|groups|merge_requests|namespaces|runners|jobs)\b/.test(url)
}

function projectUnknown(s: Scan): Diagnosis[] {
  const hit = s.lastWhere(PROJECT_UNKNOWN, (h) => !s.inAfterScript(h.line))
  if (!hit) return []
  return [diagnosis('gitlab_api_token_invalid', 'The SonarQube GitLab plugin cannot tell which GitLab project to use',
    hit.m[1] ? `"${hit.line.text.trim().slice(0, 160)}": the plugin looked the project up by name and the token's user sees several projects called ${hit.m[1]}.` : `"${hit.line.text.trim().slice(0, 160)}": the plugin was given no project id, so it has no project to look up.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Pass the project id (and the commit) explicitly.', snippet: 'sonar-scanner -Dsonar.gitlab.project_id="$CI_PROJECT_ID" -Dsonar.gitlab.commit_sha="$CI_COMMIT_SHA" -Dsonar.gitlab.ref_name="$CI_COMMIT_REF_NAME"' },
      tokenFixes[0] as Fix,
    ], 0.75)]
}

function sonarGitlab(s: Scan): Diagnosis[] {
  const hit = s.last(SONAR_GITLAB)
  if (!hit || s.has(REFUSED) || s.has(PROJECT_UNKNOWN)) return []
  // The plugin's own reason, when it gives one that is not an API call (a scanner mode it refuses), is the answer.
  const causes = s.ev.trace.lines.filter((l) => l.n > hit.line.n && l.n - hit.line.n <= 4 && /Caused by: /.test(l.text))
  if (causes.length > 0 && !causes.some((l) => /GitLab WS operation|GitLab is not responding|HTTP response code|Unauthorized|Forbidden|Not Found|"message"/.test(l.text))) return []
  const v3 = s.last(API_V3_GONE)
  const down = s.last(NOT_RESPONDING)
  const ev = evidence(s.commandAt(hit.line.n), hit, v3 ?? down)
  const version = diagnosis('toolchain_version_too_old', v3 ? 'The SonarQube GitLab plugin still calls API v3' : 'Or: the SonarQube GitLab plugin is too old for this GitLab',
    'sonar-gitlab-plugin 2.x speaks GitLab\'s API v3, which GitLab 11.0 removed; every call then fails and the plugin stops in its project builder.', ev,
    [{ text: 'Upgrade the plugin to 3.x or later (API v4), on the SonarQube server or in the scanner\'s plugin path.' }], v3 ? 0.8 : 0.4)
  const server = diagnosis('gitlab_server_error', down ? 'GitLab did not answer the SonarQube GitLab plugin' : 'Or: GitLab failed the plugin\'s calls',
    'The plugin reports "GitLab is not responding" for a 5xx or a timeout from GitLab\'s API — often while it pages through every project it can see to find this one.', ev,
    [{ text: 'Give the plugin the project id, so it does not page through the project list, and retry.', snippet: 'sonar-scanner -Dsonar.gitlab.project_id="$CI_PROJECT_ID" -Dsonar.gitlab.commit_sha="$CI_COMMIT_SHA" -Dsonar.gitlab.ref_name="$CI_COMMIT_REF_NAME"' }], down ? 0.7 : 0.35)
  const token = diagnosis('gitlab_api_token_invalid', 'The SonarQube GitLab plugin could not use GitLab\'s API',
    'The plugin stopped in its project builder, which calls GitLab\'s API for the project and commit: most often the user token is missing or cannot see the project.', ev, tokenFixes, v3 || down ? 0.3 : 0.45)
  return [token, version, server]
}

export const gitlabApiTokenRule: Rule = {
  id: 'gitlab-api-token',
  categories: ['gitlab_api_token_invalid', 'toolchain_version_too_old', 'gitlab_server_error'],
  match(ev) {
    const s = Scan.of(ev)
    return [...refused(s), ...projectUnknown(s), ...sonarGitlab(s)]
  },
}
