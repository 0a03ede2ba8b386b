import { Scan, diagnosis, evidence } from '../scan.js'
import { retryFix } from '../snippets.js'
import type { Diagnosis, Rule } from '../types.js'

/**
 * What happens to a job around its script, on the runner's side: the runner stopped under it, the
 * job was canceled, the runner lost its registration, the runner's allow-lists refused what the
 * job asked for, the shell's profile broke the preparation, secrets could not be resolved,
 * artifacts of an earlier job could not be downloaded, a (non-dind) service did not start, the job's
 * environment (GitLab's variables, the commit message among them) too large to start programs. Each is
 * told by gitlab-runner's own wording (common/build.go, network/gitlab.go, common/allowed_images.go,
 * helpers/pull_policies, executors/docker/internal/wait, commands/helpers/artifacts_downloader.go).
 */

// build.go: fmt.Errorf("aborted: %v", signal) — the runner process got a signal (service stop, upgrade, Helm rollout).
const INTERRUPTED = /Job failed \(system failure\): aborted: (terminated|interrupt|hangup|quit|killed)\b/
const CANCELED = /^WARNING: script canceled externally|^(?:ERROR: )?Job failed: canceled\b|^ERROR: Job failed: (?:execution|job) (?:was )?canceled/
// network/gitlab.go: the runner's token refused by GitLab (runner deleted, token reset or expired).
const TOKEN = /Checking for jobs\.\.\. (forbidden|unauthorized)|Verifying runner\.\.\. is (?:removed|not valid)|Registering runner\.\.\. forbidden|Failed to verify the runner/
const POLICY = /image is not present on list of allowed images|Please check runner's allowed_images configuration|The "([^"]+)" image is not present on list of allowed (?:images|services)|is not one of the allowed_pull_policies|pull_policy \(\[[^\]]*\]\) defined in (?:GitLab pipeline config|the job) is not one of the allowed|user "([^"]+)" is not an allowed user|setting GIT_CLONE_PATH is not allowed|is not allowed by the allowed_privileged_(?:images|services)|Privileged mode is not allowed/
const PROFILE = /prepare environment: (?:exit status|Process exited with status) \d+\. Check https:\/\/docs\.gitlab\.com\/runner\/shells\/(?:index\.html)?#shell-profile-loading/
const SECRETS = /resolving secrets:|secret not found: ([\w-]+)|Not resolved: no resolver that can handle the secret|(?:initializing|reading from|writing to) Vault|Vault (?:service|client)|failed to exchange sts token|Role ARN is required when using JWT|getting secret failed/
const DEPENDENCY = /Downloading artifacts (?:from coordinator|for [\w./ -]+ \(\d+\))\.\.\. (not found|forbidden|unauthorized)/
const SERVICE_WARNING = /\*\*\* WARNING: Service (\S+) probably didn't start properly/
const DIND = /docker-\d+$|dind|docker:|-docker-/

function interrupted(s: Scan): Diagnosis[] {
  const hit = s.last(INTERRUPTED)
  if (!hit) return []
  return [diagnosis('runner_interrupted', 'The runner stopped while the job ran', `The runner process received "${hit.m[1]}" and aborted its jobs: the gitlab-runner service was stopped, restarted or upgraded, its pod was rolled (Helm upgrade, node drain), or its host shut down. The job's own commands did not fail.`,
    evidence(hit), [
      retryFix(),
      { text: 'Let the runner finish its jobs before it stops: only SIGQUIT waits for running jobs, and systemd sends SIGTERM unless told otherwise.', snippet: '# /etc/systemd/system/gitlab-runner.service.d/graceful.conf\n[Service]\nKillSignal=SIGQUIT\nTimeoutStopSec=3600   # the longest job\n# then: sudo systemctl daemon-reload' },
      { text: 'Kubernetes (Helm chart): give the runner pod time to drain.', snippet: 'terminationGracePeriodSeconds: 3600' },
    ], 0.85)]
}

function canceled(s: Scan): Diagnosis[] {
  const hit = s.last(CANCELED)
  if (!hit) return []
  return [diagnosis('job_canceled', 'The job was canceled, it did not fail', 'Something outside the job canceled it: a person (UI, API), a newer pipeline for the same branch canceling redundant ones (interruptible jobs, auto-cancel), or a pipeline that was canceled as a whole. The runner stopped the script where it was.',
    evidence(hit), [
      { text: 'Check who canceled it in the job and pipeline pages (the pipeline\'s "canceled by" and the project audit log).' },
      { text: 'If newer pipelines cancel it (auto-cancel redundant pipelines), mark what must finish as not interruptible.', snippet: 'deploy:\n  interruptible: false' },
      { text: 'If a timeout canceled it, the job page says "timeout"; see job_timeout instead.' },
    ], 0.8)]
}

function tokenInvalid(s: Scan): Diagnosis[] {
  const hit = s.last(TOKEN)
  if (!hit) return []
  return [diagnosis('runner_token_invalid', 'GitLab no longer accepts this runner\'s token', `GitLab refused the runner ("${hit.line.text.trim().slice(0, 140)}"): the runner was deleted in GitLab, its token was reset, or it expired. The runner can take no jobs until it is registered again.`,
    evidence(hit), [
      { text: 'Create the runner again in GitLab (Settings > CI/CD > Runners, or the group/instance page) and register with the new authentication token.', snippet: 'sudo gitlab-runner register --url https://<gitlab> --token glrt-<new token>' },
      { text: 'Remove the stale entry from config.toml.', snippet: 'sudo gitlab-runner verify --delete' },
    ], 0.85)]
}

function policyRefused(s: Scan): Diagnosis[] {
  const hit = s.last(POLICY)
  if (!hit) return []
  const what = /pull_polic/.test(hit.line.text) ? 'pull policy' : /allowed user|user "/.test(hit.line.text) ? 'user' : /GIT_CLONE_PATH/.test(hit.line.text) ? 'clone path' : /privileged/i.test(hit.line.text) ? 'privileged mode' : 'image'
  const fixes = {
    'image': { text: 'Use an image the runner allows, or ask its administrator to add it (glob patterns are allowed).', snippet: '[runners.docker]\n  allowed_images = ["ruby:*", "registry.example.com/ci/*"]\n  allowed_services = ["postgres:*"]' },
    'pull policy': { text: 'Drop pull_policy from the job, or use one the runner allows.', snippet: '[runners.docker]\n  allowed_pull_policies = ["always", "if-not-present"]' },
    'user': { text: 'Run as a user the runner allows, or ask for it to be added.', snippet: '[runners.docker]\n  allowed_users = ["1000", "app"]' },
    'clone path': { text: 'GIT_CLONE_PATH needs the runner to allow custom build directories.', snippet: '[runners.custom_build_dir]\n  enabled = true' },
    'privileged mode': { text: 'The runner allows privileged containers only for listed images.', snippet: '[runners.docker]\n  privileged = true\n  allowed_privileged_images = ["docker:*-dind"]' },
  }[what]
  return [diagnosis('runner_policy_refused', `The runner does not allow this job's ${what}`, `The runner's configuration limits what jobs may ask for, and this job asked for something outside it: "${hit.line.text.trim().slice(0, 160)}". It is the runner administrator's policy, not a failure of the job's commands.`,
    evidence(hit, s.near(hit.line.n, /allowed_(?:images|services|pull_policies|users)|custom_build_dir/, 2)), [fixes, { text: 'Or run the job on another runner (tags:) whose policy allows it.', snippet: 'job:\n  tags: [<runner that allows it>]' }], 0.85)]
}

// The shell executor's cd into the build directory failing right after preparation: a profile or
// .bash_logout (Debian's skeleton runs clear_console) broke the login shell the runner scripts run in.
const PROFILE_CD = /^\s*(?:bash|sh): line \d+: cd: (\S*builds\S*): No such file or directory$/

function profileBroken(s: Scan): Diagnosis[] {
  const cd = s.family === 'shell' && !s.has(/^Getting source from Git repository|^Fetching changes|^Cloning repository|^\$ /) ? s.last(PROFILE_CD) : undefined
  const hit = s.last(PROFILE) ?? cd
  // Only when nothing else is named: on Kubernetes the same hint wraps API errors, which other rules read.
  if (!hit || (hit !== cd && !/prepare environment: (?:exit status|Process exited with status) \d+\./.test(hit.line.text)) || s.family === 'kubernetes') return []
  return [diagnosis('shell_profile_broken', 'The runner user\'s shell profile broke the job\'s preparation', 'Before the first stage the runner starts a login shell, which reads the runner user\'s profile files; one of them exited or misbehaved (a .bash_logout running clear_console, an interactive conda/rvm/nvm init, a command that fails without a terminal, an SELinux denial), so the preparation ended with a bare exit status.',
    evidence(hit), [
      { text: 'Look at the runner user\'s profile files and remove what fails without a terminal; the known culprit is clear_console in ~/.bash_logout.', snippet: 'sudo -u gitlab-runner -i bash -lc true; echo $?\nsudo sed -i \'/clear_console/d\' ~gitlab-runner/.bash_logout' },
      { text: 'Docker executor: the image\'s /etc/profile or ~/.profile can do the same; try the job\'s image with a login shell.', snippet: 'docker run --rm -it <image> sh -lc true' },
    ], 0.7)]
}

function secrets(s: Scan): Diagnosis[] {
  const hit = s.all(SECRETS).filter((h) => /ERROR|WARNING|Job failed|resolving secrets|secret not found|Not resolved/.test(h.line.text)).pop()
  if (!hit) return []
  const vault = /Vault/i.test(hit.line.text)
  const code = /status code (\d{3})/.exec(hit.line.text)?.[1]
  const cause = code === '403' ? 'Vault authenticated the job but its policy does not allow reading that path'
    : code === '400' ? 'Vault refused to log the job in: its JWT role does not accept this job (bound claims such as project, ref or protected status, or the audience)'
    : hit.m[1] ? `the secret ${hit.m[1]} does not exist at the path the job names`
    : 'the secrets provider refused or could not be reached'
  return [diagnosis('secrets_resolution_failed', 'The job\'s secrets could not be resolved', `Before the job started, the runner resolved its secrets: ${cause}. ("${hit.line.text.trim().slice(0, 160)}")`,
    evidence(hit), [
      ...(vault ? [{ text: 'Check the JWT role: its bound_claims must match this job (project_id, ref, ref_protected, ref_type), and its policy must allow the path.', snippet: 'vault read auth/jwt/role/<role>\nvault policy read <policy>' }] : []),
      { text: 'Check the secret\'s path, field and engine in the job.', snippet: 'secrets:\n  DATABASE_PASSWORD:\n    vault: production/db/password@ops   # <path>/<field>@<engine mount>\n    token: $VAULT_ID_TOKEN' },
      { text: 'The job must request the ID token the provider expects.', snippet: 'id_tokens:\n  VAULT_ID_TOKEN:\n    aud: https://vault.example.com' },
    ], 0.8)]
}

function dependency(s: Scan): Diagnosis[] {
  const hit = s.last(DEPENDENCY)
  if (!hit) return []
  const why = hit.m[1]
  return [diagnosis('artifacts_dependency_unavailable', 'Artifacts of an earlier job could not be downloaded', why === 'not found'
    ? 'The job depends on another job\'s artifacts (needs: or dependencies:), and GitLab has none for it: they expired (expire_in), were deleted, or that job uploaded nothing.'
    : `GitLab refused the artifacts download (${why}): the job token may not read that job's artifacts (another project's job token allowlist, artifacts:access), or the job is no longer running when it asks.`,
    evidence(hit, s.near(hit.line.n, /FATAL: |file does not exist/, 2)), [
      { text: 'Re-run the pipeline from the job that produces them, or keep them longer.', snippet: 'build:\n  artifacts:\n    expire_in: 1 week' },
      { text: 'Depend only on what this job needs.', snippet: 'test:\n  needs:\n    - job: build\n      artifacts: true' },
    ], 0.8)]
}

function service(s: Scan): Diagnosis[] {
  const warning = s.last(SERVICE_WARNING)
  if (!warning || DIND.test(warning.m[1] ?? '')) return []
  // The service's own log is the block between "Service container logs:" and the row of asterisks.
  const lines = s.ev.trace.lines.filter((l) => l.n > warning.line.n)
  const from = lines.find((l) => /^Service container logs:/.test(l.text))?.n
  const to = lines.find((l) => /^\*{5,}$/.test(l.text.trim()))?.n ?? Number.MAX_SAFE_INTEGER
  const said = from === undefined ? undefined : lines.find((l) => l.n > from && l.n < to && /(?:error|fatal|panic|not specified|too low|denied|failed)/i.test(l.text))
  // A warning with nothing in the service's log, followed by another failure, is background.
  if (!said && s.failsAfter(to === Number.MAX_SAFE_INTEGER ? warning.line.n : to, /Health check|wait-for-service|probably didn't start/)) return []
  return [diagnosis('service_failed_to_start', 'A service of the job did not start', `The runner waited for the service container ${warning.m[1]} and it never answered${said ? `; its own log says: "${said.text.trim().slice(0, 160)}"` : ' (the health check found no open port in time)'}. Anything the job does with it then fails.`,
    evidence(warning, said), [
      { text: 'Give the service what its image needs to start (for databases: the password variables; Elasticsearch: discovery.type=single-node).', snippet: 'services:\n  - name: postgres:16\nvariables:\n  POSTGRES_PASSWORD: "ci"\n  POSTGRES_HOST_AUTH_METHOD: trust' },
      { text: 'See the whole service log.', snippet: 'variables:\n  CI_DEBUG_SERVICES: "true"' },
      { text: 'A slow service: wait for it in the script, or raise the runner\'s wait_for_services_timeout.', snippet: '[runners.docker]\n  wait_for_services_timeout = 120' },
    ], said ? 0.75 : 0.55)]
}

// E2BIG as the kernel's limit on arguments plus environment is reported: strerror in a shell or Python, Go's
// lower-case form from the runner's own exec, GNU xargs, and GNU Global's htags (its exec line limit is
// what the environment leaves of ARG_MAX).
const E2BIG = /: Argument list too long$|\[Errno 7\] Argument list too long|(?:fork\/)?exec \S+: argument list too long|xargs: environment is too large for exec|htags: Negative exec line limit|\bspawn E2BIG\b|Argument list too long \(os error 7\)|error=7, Argument list too long|find: The environment is too large for exec/

function environmentTooLarge(s: Scan): Diagnosis[] {
  const hit = s.last(E2BIG)
  if (!hit) return []
  // The runner starting the shell (no script line ran yet), xargs and htags say the environment itself is too big.
  const environment = /environment is too large|Negative exec line limit/i.test(hit.line.text) || (/exec \S+: argument list too long/.test(hit.line.text) && !s.commandAt(hit.line.n))
  const files: Diagnosis['fixes'][number] = { text: 'For long file lists, pass them through xargs or a response file instead of one command line.', snippet: 'find . -name "*.o" -print0 | xargs -0 rm -f' }
  const unset: Diagnosis['fixes'][number] = { text: 'Keep large values out of the environment: file-type CI/CD variables (the job gets a path), not plain ones; drop what the step does not need.', snippet: 'script:\n  - unset CI_COMMIT_MESSAGE CI_COMMIT_DESCRIPTION CI_COMMIT_TAG_MESSAGE\n  - <command>' }
  // A glob or a generated file list on the command line: the list is the likelier culprit.
  const list = /[*?]|\$\(/.test(s.commandAt(hit.line.n)?.text ?? '')
  return [diagnosis('job_environment_too_large', environment ? 'The job\'s environment is too large to start programs' : 'A command line (with the job\'s environment) is over the kernel\'s limit',
    `"${hit.line.text.trim().slice(0, 160)}": the arguments and environment of a program together may not exceed the kernel's limit (ARG_MAX, about 2 MB on Linux, and 128 KB for any one variable). GitLab exports every CI/CD variable to the job, among them the commit message (CI_COMMIT_MESSAGE, CI_COMMIT_DESCRIPTION, CI_COMMIT_TAG_MESSAGE) and any large variable a project or group defines${environment ? ', so a long commit message or a big variable makes starting programs fail' : '; what is left for arguments shrinks with them (or the command line itself is too long, e.g. a glob over many files)'}.`,
    evidence(s.commandAt(hit.line.n), hit), list && !environment ? [files, unset] : [unset, files], environment ? 0.8 : 0.6)]
}

export const lifecycleRule: Rule = {
  id: 'lifecycle',
  categories: ['job_environment_too_large', 'runner_interrupted', 'job_canceled', 'runner_token_invalid', 'runner_policy_refused', 'shell_profile_broken', 'secrets_resolution_failed', 'artifacts_dependency_unavailable', 'service_failed_to_start'],
  match(ev) {
    const s = Scan.of(ev)
    return [...interrupted(s), ...canceled(s), ...tokenInvalid(s), ...policyRefused(s), ...profileBroken(s), ...secrets(s), ...dependency(s), ...service(s), ...environmentTooLarge(s)]
  },
}
