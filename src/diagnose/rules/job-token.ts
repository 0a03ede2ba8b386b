import { AFTERMATH } from '../trace-line.js'
import { type Hit, Scan, diagnosis, evidence, phaseName, restApiCall } from '../scan.js'
import type { Diagnosis, Fix, Rule, TraceLine } from '../types.js'

/**
 * The job called GitLab's REST API with CI_JOB_TOKEN and was refused (job_token_api_scope, proposed by the
 * corpus's nineteenth pass). A job token opens only the endpoints GitLab's "CI/CD job token" page lists, with
 * the role of the user who started the pipeline, and another project only when that project's job token
 * allowlist names this one; GitLab answers 401, 403 or a 404 "Project Not Found".
 * Git over HTTPS with the same token is git_auth_job_token's (host.ts).
 */

// GitLab's refusal as clients relay it: curl's JSON body (GitLab appends " - <reason>" to a 403 it explains, e.g.
// the allowlist's "Authentication by CI/CD job token not allowed from a to b."), python-gitlab's
// "<status>: <message>", gitbeaker, go-gitlab (glab, terraform's provider), glab, release-cli (what `release:`
// runs), got's HTTPError (semantic-release's GitLab plugin, old gitbeaker; only next to a GitLab word), and
// curl's own exit-22 line (only for a curl/wget call of the API). Runs are bounded: linear on long lines.
const CURL22 = /^curl: \(22\) The requested URL returned error: (40[134])\b/
const GOT = /HTTPError: Response code (40[134]) \((?:Unauthorized|Forbidden|Not Found)\)/
const REFUSED = new RegExp([
  String.raw`\{"message":"(?:401 Unauthorized|403 Forbidden|404 (?:Project|Group|Not) (?:Not )?Found)(?:"\}| {1,2}- )`,
  String.raw`^404 Project Not Found$`,
  String.raw`Gitlab\w{0,30}Error: (?:40[13]\b|404: 404 (?:Project|Group) Not Found)`,
  String.raw`GitbeakerRequestError: (?:Not Found|Unauthorized|Forbidden)`,
  String.raw`\/api\/v4\/[^\s:]{0,500}: 40[134] \{message`,
  String.raw`glab: (?:401 Unauthorized|403 Forbidden|404 Not Found)`,
  String.raw`API Error Response status_code: 40[134] message`,
  GOT.source,
  CURL22.source,
].join('|'))

// A command handing the request the job token, or naming another token (which then is what was refused).
const TOKEN_ARG = /\$\{?CI_JOB_TOKEN\b|JOB-TOKEN|job_token\s*=|--job-token\b/
const OTHER_TOKEN = /PRIVATE-TOKEN: ?["']?\$(?!\{?CI_JOB_TOKEN\b)|--private-token\b|Authorization: Bearer \$(?!\{?CI_JOB_TOKEN\b)/i
// An earlier command that made the job token the script's token: exported, glab's job-token login, auto-login.
const TOKEN_SET = /\b\w{0,40}TOKEN\w{0,20}=["']?\$\{?CI_JOB_TOKEN\b|\bglab auth login\b.{0,300}--job-token\b|\bGLAB_ENABLE_CI_AUTOLOGIN=["']?true\b/
const JOB_TOKEN_VALUE = /^\$\{?CI_JOB_TOKEN\}?$/
// Endpoints no job token opens (GitLab issue 506668: jobs and pipelines); a job's artifacts stay open.
const CLOSED_ENDPOINT = /\/(?:pipelines|jobs)(?=[/?"'\s]|$)(?!\/(?:artifacts|[^/\s"']{1,80}\/artifacts)\b)/
const OWN_PROJECT = /\bCI_PROJECT_(?:ID|PATH)\b/

interface Source { how: string; glabToken: boolean }

function status(h: Hit): number {
  const s = h.m[0]
  return /401|Unauthorized/.test(s) ? 401 : /403|Forbidden/.test(s) ? 403 : 404
}

// Where the job token came from, for the command at the refusal; undefined when it did not use it.
function tokenSource(s: Scan, cmd: TraceLine | undefined): Source | undefined {
  const text = cmd?.text ?? ''
  if (OTHER_TOKEN.test(text)) return undefined
  const glab = /^\$ (?:\S+=\S+ )*glab\b/.test(text)
  if (TOKEN_ARG.test(text)) return { how: 'the command passes CI_JOB_TOKEN', glabToken: glab && !/--job-token\b/.test(text) && /GITLAB_TOKEN=/.test(text) }
  if (/^\$ release-cli\b/.test(text)) return { how: 'release-cli (what the release: keyword runs) uses CI_JOB_TOKEN unless given --private-token', glabToken: false }
  const earlier = s.ev.trace.lines.filter((l) => cmd !== undefined && l.n < cmd.n && l.text.startsWith('$ ') && TOKEN_SET.test(l.text)).pop()
  if (earlier) return { how: `an earlier command made it the script's token (${earlier.text.slice(2, 90).trim()})`, glabToken: glab && /\bGITLAB_TOKEN=/.test(earlier.text) }
  // With --ci: every YAML job the log can be hands a tool the job token as its *TOKEN* variable, or lets glab log in with it.
  const jobs = s.ciJobs()
  if (jobs.length === 0) return undefined
  const fed = (vars: Record<string, string>) => Object.entries(vars).find(([k, v]) => /TOKEN/.test(k) && JOB_TOKEN_VALUE.test(v.trim()))
  if (jobs.every((j) => fed(j.variables))) {
    const [name] = fed(jobs[0]!.variables)!
    return { how: `the job ${jobs[0]!.name} sets ${name}: $CI_JOB_TOKEN`, glabToken: glab && name === 'GITLAB_TOKEN' }
  }
  if (glab && jobs.every((j) => /^true$/i.test(j.variables['GLAB_ENABLE_CI_AUTOLOGIN'] ?? ''))) return { how: `GLAB_ENABLE_CI_AUTOLOGIN lets glab log in with CI_JOB_TOKEN`, glabToken: false }
  return undefined
}

function refusal(s: Scan): Hit | undefined {
  const api = (h: Hit) => restApiCall(s.commandAt(h.line.n)?.text)
  const hits = s.all(REFUSED).filter((h) => !s.inDiff(h.line) && !AFTERMATH.has(phaseName(h.line.section)) &&
    (!CURL22.test(h.line.text) || api(h)) && (!GOT.test(h.line.text) || s.near(h.line.n, /gitlab/i, 3) !== undefined))
  const last = hits.pop()
  if (!last || !CURL22.test(last.m[0])) return last
  // curl prints the body first: it carries GitLab's reason.
  const body = hits.filter((h) => h.line.n >= last.line.n - 2 && !CURL22.test(h.m[0])).pop()
  return body ?? last
}

function jobToken(s: Scan): Diagnosis[] {
  const hit = refusal(s)
  if (!hit || s.wentPast(hit.line)) return []
  const cmd = s.commandAt(hit.line.n)
  const source = tokenSource(s, cmd)
  if (!source) return []
  const code = status(hit)
  const where = `${cmd?.text ?? ''}\n${hit.line.text}`
  const closed = CLOSED_ENDPOINT.test(where)
  const own = OWN_PROJECT.test(where) || /^\$ release-cli\b/.test(cmd?.text ?? '') ||
    (/^\$ (?:\S+=\S+ )*glab\b/.test(cmd?.text ?? '') && !/\s(?:-R|--repo)[\s=]/.test(cmd?.text ?? ''))
  const allowlistReason = /job token not allowed from/i.test(hit.line.text)
  const accessToken: Fix = { text: 'For endpoints a job token never opens (pipelines and jobs lists, users, merge request notes, project settings): use a project or group access token with the api scope, in a masked CI/CD variable.', snippet: 'variables:\n  GITLAB_TOKEN: $PROJECT_API_TOKEN   # a masked variable holding a project access token (scope: api)' }
  const allowlist: Fix = { text: 'For another project: add this project to that project\'s job token allowlist (its Settings › CI/CD › Job token permissions).' }
  const role: Fix = { text: 'In the job\'s own project the job token acts with the role of the user who started the pipeline: that user needs the role the endpoint asks (at least Developer to create a release; a protected tag or branch needs a role allowed to create it).' }
  const glabFix: Fix = { text: 'glab sends GITLAB_TOKEN as a personal access token, which GitLab refuses for a job token: let glab log in with the job token as one instead, and leave GITLAB_TOKEN unset.', snippet: 'glab auth login --job-token "$CI_JOB_TOKEN" --hostname "$CI_SERVER_HOST" --api-protocol https\n# or, in the job: variables: { GLAB_ENABLE_CI_AUTOLOGIN: "true" }' }
  const fixes = source.glabToken ? [glabFix, allowlist, accessToken]
    : allowlistReason ? [allowlist, accessToken]
    : closed ? [accessToken]
    : own ? [role, accessToken]
    : [allowlist, accessToken]
  const answer = code === 404 ? 'GitLab answers "404 Not Found" for a project or endpoint the token may not see' : `GitLab answered ${code}`
  return [diagnosis('job_token_api_scope', 'GitLab\'s API refused the job token for this request',
    `"${hit.line.text.trim().slice(0, 160)}": the request used CI_JOB_TOKEN (${source.how}), and ${answer}. A job token opens only the endpoints GitLab's "CI/CD job token" page lists (packages, the container registry, releases, deployments and environments, job artifacts and the job's own GET /job, Terraform state, secure files; newer versions add some read APIs), never the pipelines or jobs lists; it acts with the role of the user who started the pipeline, and reaches another project only when that project's job token allowlist names this one.${closed ? ' This request is one of the endpoints a job token never opens.' : ''}`,
    evidence(cmd, hit), fixes, 0.65)]
}

export const jobTokenRule: Rule = {
  id: 'job-token',
  categories: ['job_token_api_scope'],
  match: (ev) => jobToken(Scan.of(ev)),
}
