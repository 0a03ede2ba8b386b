import { LOOPBACK_NAMED, Scan, diagnosis, evidence, hostOf } from '../scan.js'
import { retryFix } from '../snippets.js'
import type { Diagnosis, Rule } from '../types.js'

/**
 * Package indexes and APIs that throttle the job: GitHub's REST API as Composer (its dist downloads
 * of GitHub packages) and the gh CLI word it, and pip's 429 from an index (pip retries 5xx but not
 * 429: src/pip/_internal/network/session.py). Docker registries' throttling is registry.ts's, git
 * servers' git-transport.ts's; these share the class (the egress IP's anonymous quota is spent).
 */

// Composer's interactive and non-interactive wordings; GitHub's own message as gh and any client print it.
const GITHUB = /GitHub API limit \((\d+) calls\/hr\) is exhausted|GitHub API limit exhausted\. Failed to get metadata|(?:^|HTTP 403: |"message":\s?"|HttpError\]?: |: 403 )API rate limit exceeded for (?:user ID |installation ID )?\S+/
// An authenticated quota (5,000 an hour per user or token; an App installation's own) spent: a token will not help.
const AUTHENTICATED = /You are already authorized|rate limit exceeded for (?:user|installation) ID/
// pip's own line, or requests' (pip's wording too) for a package index; a test's or script's own API is not the job throttled.
const INDEX = /HTTP error 429 while getting (\S+)|^(?:ERROR: )?429 Client Error: Too Many Requests for url: (\S+)/
const INDEX_URL = /\/simple\/|\/whl\/|files\.pythonhosted\.org|pypi\.|\/pypi\/|\/packages\//

function github(s: Scan): Diagnosis[] {
  const hit = s.last(GITHUB)
  if (!hit) return []
  const composer = /GitHub API limit/.test(hit.line.text)
  if (AUTHENTICATED.test(hit.line.text)) {
    return [diagnosis('registry_rate_limited', 'GitHub\'s API rate limit is spent, although the calls are authenticated',
      `"${hit.line.text.trim().slice(0, 160)}": the job already authenticates, and that account's (or GitHub App installation's) hourly quota is spent: many jobs, or other tools, share the same token.`,
      evidence(s.commandAt(hit.line.n), hit), [
        { text: 'Give these jobs a token of their own (a separate bot account or App), so they do not share the quota with other automation.' },
        { text: 'Call the API less: cache what the jobs download (Composer\'s cache, release assets) between jobs.', snippet: 'cache:\n  key: composer\n  paths: [.composer-cache/]\nvariables:\n  COMPOSER_CACHE_DIR: "$CI_PROJECT_DIR/.composer-cache"' },
        { ...retryFix(), text: 'Or wait for the hour to pass and retry (the limit resets hourly).' },
      ], 0.85)]
  }
  return [diagnosis('registry_rate_limited', 'GitHub\'s API rate limit is spent',
    `"${hit.line.text.trim().slice(0, 160)}": ${composer ? 'Composer fetches packages hosted on GitHub through its API, and' : ''} anonymous calls to GitHub's API are limited to 60 an hour per IP address, shared by every job behind the same NAT address; authenticated calls get 5,000.`,
    evidence(s.commandAt(hit.line.n), hit), [
      composer
        ? { text: 'Give Composer a GitHub token (a masked CI/CD variable; a fine-grained token with public read access is enough).', snippet: 'variables:\n  COMPOSER_AUTH: \'{"github-oauth": {"github.com": "$GITHUB_TOKEN"}}\'' }
        : { text: 'Authenticate the calls: gh and most clients read GH_TOKEN / GITHUB_TOKEN (a masked CI/CD variable).', snippet: 'variables:\n  GH_TOKEN: $GITHUB_TOKEN' },
      { text: 'Or keep what the job downloads in the cache or in the project\'s package registry, so each job does not fetch it again.' },
      { ...retryFix(), text: 'Or wait for the hour to pass and retry (the limit resets hourly).' },
    ], 0.85)]
}

function index(s: Scan): Diagnosis[] {
  const hit = s.lastWhere(INDEX, (h) => h.m[1] !== undefined || INDEX_URL.test(h.m[2] ?? ''))
  if (!hit || LOOPBACK_NAMED.test(hit.m[1] ?? hit.m[2] ?? '')) return []
  const host = hostOf(hit.m[1] ?? hit.m[2]) ?? 'the package index'
  return [diagnosis('registry_rate_limited', `${host} is throttling the job (HTTP 429)`,
    `${host} answered 429 Too Many Requests: it counts requests per IP address (or per account), and jobs behind one NAT address share the count; pip does not retry a 429.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Cache the downloads between jobs so fewer requests reach the index.', snippet: 'variables:\n  PIP_CACHE_DIR: "$CI_PROJECT_DIR/.cache/pip"\ncache:\n  paths: [.cache/pip]' },
      { text: 'Or install through a mirror or proxy of the index (a GitLab PyPI package registry, devpi, Nexus/Artifactory).', snippet: 'variables:\n  PIP_INDEX_URL: https://<mirror>/simple' },
      retryFix(),
    ], 0.8)]
}

export const rateLimitsRule: Rule = {
  id: 'rate-limits',
  categories: ['registry_rate_limited'],
  match(ev) {
    const s = Scan.of(ev)
    return [...github(s), ...index(s)]
  },
}
