import { Scan, diagnosis, evidence, hostOf } from '../scan.js'
import { retryFix } from '../snippets.js'
import type { Diagnosis, Rule } from '../types.js'

/**
 * git talking to its remotes, in wordings no older class covers: the server's rate limit (HTTP 429;
 * git ≥ 2.54 names it, older git prints the status), an SSH server whose algorithms the image's
 * newer OpenSSH no longer offers (packet.c "Unable to negotiate"), a submodule with no URL in
 * .gitmodules (submodule--helper.c), GitLab answering that LFS is off (its 501), and Go modules
 * whose checksum does not match go.sum (modfetch/fetch.go).
 */

// (Not git's "warning: rate limited, waiting N seconds": it retries and may well get through.)
const RATE = /fatal: rate limited by '([^']+)'|RPC failed; HTTP 429\b|unable to access '([^']+)': The requested URL returned error: 429|batch response: Rate limit exceeded/
const SSH_ALGO = /Unable to negotiate with (\S+) port \d+: no matching (host key type|key exchange method|cipher|MAC) found/
const SUBMODULE_URL = /fatal: No url found for submodule path '([^']+)' in \.gitmodules/
const LFS_OFF = /Git LFS is not enabled on this GitLab server/
const GO_SUM = /verifying (\S+): checksum mismatch/

function rateLimited(s: Scan): Diagnosis[] {
  const hit = s.last(RATE)
  if (!hit) return []
  const url = hit.m[1] ?? hit.m[2] ?? /https?:\/\/[^\s'"]+/.exec(s.commandAt(hit.line.n)?.text ?? '')?.[0]
  const host = hostOf(url)
  // GitLab's own limits and the runner's clone settings only when it is GitLab answering.
  const gitlab = s.inClone(hit.line) || (host !== undefined && (host === s.gitlabHost() || /gitlab/i.test(host)))
  return [diagnosis('git_rate_limited', `${host ?? 'The Git server'} rate-limited the job`, `${host ?? 'The Git server'} answered 429 (too many requests): ${gitlab ? 'GitLab.com and instances with Git HTTP rate limits count requests per user or per IP address, and many jobs behind one NAT address share the count.' : 'the host counts requests per IP address or per account, and many jobs behind one NAT address share the count; anonymous requests get the lowest limit.'}`,
    evidence(s.commandAt(hit.line.n), hit), gitlab ? [
      retryFix(),
      { text: 'Fetch less per job: a shallow fetch, reuse of the checkout, fewer jobs cloning the same repository at once.', snippet: 'variables:\n  GIT_DEPTH: 20\n  GIT_STRATEGY: fetch' },
      { text: 'Self-managed GitLab: an administrator can raise or exempt the limits (Admin > Settings > Network > Git HTTP rate limits), or exempt the runners\' IP addresses.' },
    ] : [
      retryFix(),
      { text: `Authenticate to ${host ?? 'the host'} (a token raises the limit), or keep a mirror or cached copy of what the job clones.` },
    ], 0.8)]
}

function sshAlgorithm(s: Scan): Diagnosis[] {
  const hit = s.last(SSH_ALGO)
  if (!hit) return []
  const offer = /Their offer: (\S+)/.exec(hit.line.text)?.[1]?.split(',')[0]
  const option = { 'host key type': 'HostKeyAlgorithms', 'key exchange method': 'KexAlgorithms', 'cipher': 'Ciphers', 'MAC': 'MACs' }[hit.m[2] ?? ''] ?? 'HostKeyAlgorithms'
  const snippet = option === 'HostKeyAlgorithms'
    ? `Host ${hit.m[1]}\n  HostKeyAlgorithms +${offer ?? 'ssh-rsa'}\n  PubkeyAcceptedAlgorithms +${offer ?? 'ssh-rsa'}`
    : `Host ${hit.m[1]}\n  ${option} +${offer ?? '<the server\'s offer>'}`
  return [diagnosis('ssh_algorithm_mismatch', `ssh and ${hit.m[1]} share no ${hit.m[2]}`, `The SSH client in the job image no longer offers what the server can do (${hit.m[2]}${offer ? `; the server offers ${offer}` : ''}): newer OpenSSH releases dropped ssh-rsa with SHA-1, old key exchanges, ciphers and MACs, and the server is older.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Upgrade the SSH server, or re-enable the old algorithm for that host only (in the job\'s ~/.ssh/config).', snippet },
    ], 0.85)]
}

function submoduleUrl(s: Scan): Diagnosis[] {
  const hit = s.last(SUBMODULE_URL)
  if (!hit) return []
  return [diagnosis('submodule_config_invalid', `The submodule ${hit.m[1]} has no URL in .gitmodules`, `The repository records a submodule at ${hit.m[1]} (a gitlink) but .gitmodules has no entry for it: it was added without git submodule add, or its entry was removed.`,
    evidence(hit), [
      { text: 'Add its entry, or remove the stale gitlink.', snippet: `git submodule add <url> ${hit.m[1]}\n# or: git rm --cached ${hit.m[1]}` },
    ], 0.85)]
}

function lfsOff(s: Scan): Diagnosis[] {
  const hit = s.last(LFS_OFF)
  if (!hit) return []
  return [diagnosis('lfs_disabled_on_server', 'Git LFS is turned off on the GitLab server', 'GitLab answered that LFS is not enabled: for the instance (gitlab.rb) or for the project (Settings > General > Visibility > Git Large File Storage), so LFS objects cannot be downloaded.',
    evidence(hit), [
      { text: 'Enable LFS for the project, or ask an administrator to enable it on the instance.', snippet: "# gitlab.rb\ngitlab_rails['lfs_enabled'] = true" },
      { text: 'Jobs that do not need the large files can skip them.', snippet: 'variables:\n  GIT_LFS_SKIP_SMUDGE: "1"' },
    ], 0.85)]
}

function goSum(s: Scan): Diagnosis[] {
  const hit = s.last(GO_SUM)
  if (!hit) return []
  const database = s.has(/does NOT match the one reported by the checksum server|sum\.golang\.org:/)
  return [diagnosis('go_checksum_mismatch', `The Go module ${hit.m[1]} does not match ${database ? 'the checksum database' : 'go.sum'}`, `What the module proxy (or the module's origin) served for ${hit.m[1]} is not what go.sum recorded: a tag was moved after it was first fetched, a private module went through the public proxy, or go.sum was edited by hand.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Private modules: keep them away from the public proxy and checksum database.', snippet: 'variables:\n  GOPRIVATE: "gitlab.example.com/*"' },
      { text: 'Otherwise find out which side changed before trusting the new content; then go mod tidy and commit go.sum.' },
    ], 0.85)]
}

export const gitTransportRule: Rule = {
  id: 'git-transport',
  categories: ['git_rate_limited', 'ssh_algorithm_mismatch', 'submodule_config_invalid', 'lfs_disabled_on_server', 'go_checksum_mismatch'],
  match(ev) {
    const s = Scan.of(ev)
    return [...rateLimited(s), ...sshAlgorithm(s), ...submoduleUrl(s), ...lfsOff(s), ...goSum(s)]
  },
}
