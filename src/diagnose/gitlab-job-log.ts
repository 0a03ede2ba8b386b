import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { GlrunError } from '../diagnostics/errors.js'

/** A GitLab job page: `https://gitlab.example.com/group/sub/project/-/jobs/123`. */
export function parseJobUrl(text: string): { base: string; project: string; jobId: number } | undefined {
  let u: URL
  try {
    u = new URL(text)
  } catch {
    return undefined
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return undefined
  const m = /^(.*?)\/([^/].*?)\/-\/jobs\/(\d+)\/?(?:raw)?$/.exec(u.pathname)
  if (!m) return undefined
  return { base: `${u.origin}${m[1]}`, project: m[2]!, jobId: Number(m[3]) }
}

/**
 * The raw log of a GitLab job, through the jobs API (`GET /projects/:id/jobs/:job_id/trace` with
 * a personal, project or group access token), as a stream: a log of gigabytes never sits in
 * memory. Errors say what GitLab answered and what to do.
 */
export function fetchJobLog(url: string, token: string | undefined, caPem?: string): Promise<IncomingMessage> {
  const job = parseJobUrl(url)
  if (!job) throw new GlrunError('GLRUN_EXPLAIN_URL', `"${url}" is not a GitLab job URL`, { hint: 'Give the job page\'s address, e.g. https://gitlab.example.com/group/project/-/jobs/123.' })
  if (!token) {
    throw new GlrunError('GLRUN_EXPLAIN_TOKEN', 'reading a job log from GitLab needs an access token', {
      hint: 'Pass --gitlab-token or set GLRUN_GITLAB_TOKEN to a token with read_api (a personal, project or group access token).',
    })
  }
  const api = new URL(`${job.base}/api/v4/projects/${encodeURIComponent(job.project)}/jobs/${job.jobId}/trace`)
  const send = api.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = send(api, { headers: { 'PRIVATE-TOKEN': token, 'User-Agent': 'glrun' }, ...(caPem ? { ca: caPem } : {}) }, (res) => {
      if (res.statusCode === 200) return resolve(res)
      res.resume()
      const status = res.statusCode ?? 0
      reject(new GlrunError('GLRUN_EXPLAIN_FETCH', `GitLab answered ${status} for the log of job ${job.jobId} of ${job.project}`, {
        hint: status === 401 ? 'The token is not valid (expired or revoked): create a new one with read_api.'
          : status === 403 ? 'The token may not read this project\'s jobs: it needs read_api and at least Reporter access.'
          : status === 404 ? 'No such job or project for this token (a private project looks missing without access).'
          : 'Retry later; download the log from the job page ("Show complete raw") and run glrun explain on the file.',
      }))
    })
    req.setTimeout(30_000, () => req.destroy(new Error('no answer within 30 s')))
    req.on('error', (e) => reject(new GlrunError('GLRUN_EXPLAIN_FETCH', `cannot reach ${api.origin}: ${e.message}`, {
      hint: /certificate|self.signed|CERT_/i.test(e.message) ? 'GitLab\'s certificate is not trusted here: pass its CA with --ca-file.' : 'Check the URL and the network.',
    })))
    req.end()
  })
}
