import { readFileSync } from 'node:fs'
import { arch, hostname } from 'node:os'
import { GLRUN_VERSION } from '../job/job-variables.js'
import { RunnerApi } from '../runner/api.js'
import type { RunnerSettings } from '../runner-config/types.js'
import type { CheckContext, Finding } from './types.js'

/**
 * Whether GitLab still knows the runner's token (`POST /api/v4/runners/verify`, what
 * `gitlab-runner verify` asks). A runner deleted in the UI or whose token was reset keeps polling
 * with a dead token and only gets 403s: nothing runs, and nothing in the job list says why.
 */
export async function checkRunnerToken(scope: string, r: RunnerSettings, ctx: CheckContext): Promise<Finding> {
  const base = { scope, check: 'token' }
  let ca: string | undefined
  try {
    ca = r.tlsCaFile ? readFileSync(r.tlsCaFile, 'utf8') : undefined
  } catch {
    ca = undefined // the tls-ca-file finding above already says so
  }
  const api = new RunnerApi({ url: r.url!, ...(ca ? { caPem: ca } : {}) })
  const info = { name: r.name, version: GLRUN_VERSION, revision: 'glrun', platform: 'linux', architecture: arch() === 'x64' ? 'amd64' : arch(), executor: r.executor, shell: 'bash', features: {} }
  let status: number
  let body = ''
  try {
    const a = await api.verify(r.token!, `s_glrun${hostname().replace(/[^a-z0-9]/gi, '').slice(0, 12)}`, info, ctx.timeoutMs)
    status = a.status
    body = a.body.toString('utf8')
  } catch (e) {
    return { ...base, status: 'warn', what: `could not ask GitLab whether it knows this runner's token: ${(e as Error).message}`, fix: 'Run glrun doctor again once GitLab answers; `glrun verify --config <config.toml>` asks the same.' }
  }
  if (status === 200) {
    const id = runnerId(body)
    if (id !== undefined || body.trim().replace(/"/g, '') === '200') return { ...base, status: 'ok', what: `GitLab knows this runner's token${id ? ` (runner #${id})` : ''}` }
    // A 200 without the runner in it came from something else on that address (a proxy, a web page).
    return { ...base, status: 'warn', what: `${r.url} answered 200 to the runner verify call, but not as GitLab does (no runner in the answer)`, fix: 'Check that url is GitLab\'s own address, not a proxy or another web server\'s.' }
  }
  if (status === 403) {
    return {
      ...base, status: 'fail', what: 'GitLab does not know this runner\'s token (403): register again',
      fix: 'The runner was deleted in GitLab or its token was reset: create the runner again (Settings > CI/CD > Runners > New project runner) and register with its new token; then drop the dead entry (`glrun verify --delete` removes every entry GitLab no longer knows):',
      snippet: `glrun register --url ${r.url} --token <new glrt-… token> --executor ${r.executor} --name ${JSON.stringify(r.name)}${r.tlsCaFile ? ` --tls-ca-file ${r.tlsCaFile}` : ''}\nglrun verify --delete`,
    }
  }
  return { ...base, status: 'warn', what: `GitLab answered ${status} when asked about this runner's token`, fix: 'Check GitLab\'s status (a 5xx is GitLab\'s side); `glrun verify` asks the same question.' }
}

/** The runner's id in the newer JSON answer; undefined for the older plain "200" or anything else. */
function runnerId(body: string): number | undefined {
  try {
    const id = (JSON.parse(body) as { id?: unknown } | null)?.id
    return typeof id === 'number' ? id : undefined
  } catch {
    return undefined
  }
}
