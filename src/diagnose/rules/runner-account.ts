import { Scan, diagnosis, evidence } from '../scan.js'
import type { Diagnosis, Fix, Rule } from '../types.js'

/**
 * The runner runs jobs as a service account, not as the person who set the machine up, and the job
 * meets that account's context (runner_service_account_context, proposed by the corpus's fifth pass):
 * on Windows the LocalSystem account, whose profile is C:\Windows\System32\config\systemprofile (which
 * 32-bit tools see redirected to SysWOW64, so a cache written by one is missing for the other) and
 * which databases and shares refuse ("NT AUTHORITY\SYSTEM"); on macOS a LaunchDaemon with no login
 * session, so the keychain cannot ask for anything ("User interaction is not allowed").
 */

// A failure line naming the SYSTEM profile or account. Bounded runs: linear on long lines.
const SYSTEM_PROFILE = /\b(?:System32|SysWOW64)[\\/]{1,2}config[\\/]{1,2}systemprofile\b/i
// LocalSystem reaches the network as the computer account (DOMAIN\MACHINE$).
const SYSTEM_ACCOUNT = /Login failed for user '(?:NT AUTHORITY\\{1,2}(?:SYSTEM|NETWORK SERVICE|LOCAL SERVICE)|[^'\\]{1,64}\\{1,2}[^'\\]{1,64}\$)'|NT AUTHORITY\\{1,2}SYSTEM\b.{0,200}\b(?:denied|not authorized|not allowed|failed)\b/i
// Pointers to a log file the tool wrote (npm's "A complete log of this run can be found in: …") name the profile, not a failure in it.
const LOG_POINTER = /complete log of this run|log (?:file )?(?:has been )?(?:written|saved) to|see (?:the )?log(?: file)? at|debug log/i
const FAILURE = /\b(?:error|fatal|failed|cannot|can't|could not|unable|denied|not found|no such|does not exist)\b/i
// macOS Security framework's errSecInteractionNotAllowed, from security(1) or codesign under launchd.
// codesign's errSecInternalComponent: the private key cannot be reached without a session (a locked keychain).
const NO_SESSION = /User interaction is not allowed\.?$|errSecInteractionNotAllowed|: errSecInternalComponent$/

const ANY = new RegExp(`${SYSTEM_PROFILE.source}|${SYSTEM_ACCOUNT.source}|${NO_SESSION.source}`, 'i')

function serviceAccount(s: Scan): Diagnosis[] {
  const hit = s.all(ANY)
    .filter((h) => !s.inDiff(h.line) && (!SYSTEM_PROFILE.test(h.line.text) || (FAILURE.test(h.line.text) && !LOG_POINTER.test(h.line.text)))).pop()
  if (!hit || s.wentPast(hit.line)) return []
  const text = hit.line.text
  if (NO_SESSION.test(text)) {
    const unlock: Fix = { text: 'Unlock the keychain in the job and let codesign use the key without a prompt (password from a masked variable).', snippet: 'security unlock-keychain -p "$KEYCHAIN_PASSWORD" ~/Library/Keychains/login.keychain-db\nsecurity set-key-partition-list -S apple-tool:,apple: -s -k "$KEYCHAIN_PASSWORD" ~/Library/Keychains/login.keychain-db' }
    const agent: Fix = { text: 'Run the runner as a LaunchAgent of a logged-in user (gitlab-runner install as that user, auto-login), not as a LaunchDaemon.' }
    // When the unlock itself was refused, unlocking again cannot be the answer: the session is.
    const unlockRefused = /^\$ security unlock-keychain\b/.test(s.commandAt(hit.line.n)?.text ?? '')
    return [diagnosis('runner_service_account_context', 'The macOS keychain refused: the runner has no login session',
      `"${text.trim().slice(0, 160)}": the Security framework would have to ask (unlock the keychain, allow codesign to use a key), and the runner's service has no user session to ask in — a LaunchDaemon, or a LaunchAgent of a user who is not logged in.`,
      evidence(s.commandAt(hit.line.n), hit), unlockRefused ? [agent, unlock] : [unlock, agent], 0.7)]
  }
  const profile = SYSTEM_PROFILE.test(text)
  const account = /NETWORK SERVICE/i.test(text) ? 'NETWORK SERVICE' : /LOCAL SERVICE/i.test(text) ? 'LOCAL SERVICE' : /\$'/.test(text) ? 'the computer account (LocalSystem on the network)' : 'SYSTEM'
  return [diagnosis('runner_service_account_context', `The runner's service runs jobs as Windows' ${account === 'SYSTEM' ? 'SYSTEM account' : account}`,
    profile
      ? `"${text.trim().slice(0, 160)}": the tool's home is the SYSTEM account's profile (config\\systemprofile), so the Windows runner service runs jobs as LocalSystem. That profile is not your user's (no settings, credentials or caches you set up), and Windows redirects 32-bit processes from System32 to SysWOW64, so what a 64-bit tool wrote there a 32-bit one does not find (and the other way round).`
      : `"${text.trim().slice(0, 160)}": the job ran as a Windows service account (the runner service's LocalSystem or a network service), which the server refuses: it has no rights of the user you tested with.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Run the runner service as a regular user account (with the rights the jobs need), then restart it.', snippet: 'gitlab-runner stop\ngitlab-runner uninstall\ngitlab-runner install --user ".\\ci-runner" --password "<password>"\ngitlab-runner start' },
      ...(profile ? [{ text: 'Or give the tool a home outside the SYSTEM profile in the job (the variable is the tool\'s: CONAN_USER_HOME, NUGET_PACKAGES, npm_config_cache, …).', snippet: 'variables:\n  CONAN_USER_HOME: C:\\ci\\conan' }] : [{ text: 'Or have the job authenticate explicitly (a SQL login or a service principal from masked variables) instead of the service\'s Windows identity.' }]),
    ], profile ? 0.75 : 0.7)]
}

export const runnerAccountRule: Rule = {
  id: 'runner-account',
  categories: ['runner_service_account_context'],
  match: (ev) => serviceAccount(Scan.of(ev)),
}
