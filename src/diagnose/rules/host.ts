import { type Hit, Scan, diagnosis, evidence, hostOf, phaseName, firstGroup, restApiCall } from '../scan.js'
import type { Diagnosis, Fix, Rule } from '../types.js'

/**
 * The runner host and git: file permissions (build dirs vs non-root job users), the git client
 * and the clone itself (shallow history, job-token access), and full disks.
 */

const BUILDS_DENIED = /(?:cannot touch|mkdir: cannot create directory|fatal: could not create (?:work tree|leading directories of)|cannot (?:remove|unlink|open)|[Uu]nable to (?:unlink|create|write)|could not lock config file|error: could not write config file)\s*'?([^':]*(?:\/builds|\/cache|builds\/|\.git|\.tmp\/)[^':]*)'?.*Permission denied|fatal: detected dubious ownership in repository at '([^']+)'|fatal: unsafe repository \('([^']+)' is owned by someone else\)|insufficient permission for adding an object to repository database (\S+)/
const NON_ROOT = /could not lock config file \S*\.gitconfig: Permission denied|unable to access '[^']*\.gitconfig': Permission denied|Could not open lock file .*\(13: Permission denied\)|are you root\?|permission denied while trying to connect to the [Dd]ocker (?:daemon socket|API at unix:)|EACCES: permission denied|npm (?:ERR!|error) code EACCES|Your cache folder contains root-owned files|Unable to lock database: Permission denied|\[Errno 13\] Permission denied|ERROR: Unable to lock database|You don't have write permissions for the (?!\S*\/builds\/)\S+ directory|you cannot perform this operation unless you are root/
const GIT_OLD = /fetch-pack: expected shallow list|error: unknown switch|error: unknown option [`']?(?:depth|filter|no-recurse-submodules|progress|prune-tags|no-tags)|Unknown option: -c|^error: unrecognized argument|usage: git fetch|usage: git submodule \[--quiet\]/
// Wordings only an old git prints, in any phase: fetch --filter before git set up partial clone itself, and
// remote-curl's old "result=N, HTTP code = N" (today "RPC failed; HTTP <code> curl <n>") with a 400/422 refusal of the request
// itself (401/403/404 are access, 407 a proxy, 411/413 a body limit, 429 a rate limit: not the git's age).
const GIT_OLD_WORDING = /--filter can only be used when extensions\.partialClone is set|RPC failed; result=\d+, HTTP code = (4(?:00|22))\b/
const SHALLOW = /fatal: reference is not a tree: ([0-9a-f]+)|Fetched in submodule path '[^']+', but it did not contain ([0-9a-f]+)|error: pathspec '([^']+)' did not match any file\(s\) known to git|unresolved reference|couldn't find remote ref ([\w./-]+)|fatal: No names found, cannot describe anything|fatal: ambiguous argument '([^']+)': unknown revision or path not in the working tree|fatal: bad object ([0-9a-f]+)|fatal: No tags can describe '([^']+)'|fatal: Not a valid object name ([\w./-]+)|fatal: No such ref: '([^']+)'|fatal: bad revision '([^']+)'|fatal: no merge base found|fatal: Not a valid commit name ([\w./-]+)|Could not find ref:? '?([\w./-]+?)'? in refs\/heads|(?:LibGit2Sharp\.NotFoundException: |Git error: `)object not found - no match for id \(([0-9a-f]+)\)|is shallow, please correct with "git fetch --unshallow"|Repository is a shallow clone\. Git repositories must contain the full history|Failed to find where HEAD diverged from "?([\w./-]*[\w/-])"?|Cannot find a merge base between danger_base and danger_head|git doesn't contain any tags\. Either add a tag or use --snapshot/
// The commit is on no branch of the server any more (force-pushed away, or a submodule pointer to a commit never pushed).
const UNREACHABLE = /upload-pack: not our ref ([0-9a-f]{7,40})|Server does not allow request for unadvertised object ([0-9a-f]{7,40})/
// GitLab's persistent pipeline ref (refs/pipelines/<id>) is what the runner fetches; its absence is not about depth.
// A merge request's refs (refs/merge-requests/<iid>/head|merge) are GitLab-managed too: gone with the MR's source.
const PIPELINE_REF = /couldn't find remote ref ((?:refs\/heads\/|refs\/tags\/)?refs\/(?:pipelines\/[^/\s]+|merge-requests\/[^/\s]+\/(?:head|merge)))/
const GIT_AUTH = /EGITNOPERMISSION|batch response: (?:Authorization error|Repository or object not found)|HTTP Basic: Access denied|fatal: Authentication failed for '([^']+)'|You are not allowed to download code from this project|could not read (?:Username|Password) for '([^']+)': (?:No such device or address|terminal prompts disabled)|The project you were looking for could not be found or you don't have permission|The requested URL returned error: 40[13]/
const SUBMODULE = /Updating\/initializing submodules|^Submodule '|submodule path|Synchronizing submodule/
const NO_SPACE = /no space left on device|write error\. Out of diskspace|You don't have enough free space in|not enough (?:free )?(?:disk )?space|ENOSPC|Disk quota exceeded|The node was low on resource: ephemeral-storage|exceeded its local ephemeral storage limit|ephemeral local storage usage exceeds the total limit|Usage of EmptyDir volume "[^"]*" exceeds the limit|database or disk is full/i
// SQLite's result code, in capitals only (a test named test_retries_on_sqlite_full is not a full disk).
const SQLITE_FULL = /\bSQLITE_FULL\b/

// dash/sh creating a file by a relative path (a redirection in a Makefile rule) in a directory of the checkout.
// The runner's own checkout and clean refusing files a root container left in the clone (relative paths).
const CHECKOUT_DENIED = /^(?:error: unable to unlink old '([^']+)'|warning: failed to remove ([^:]+)|error: unable to create file ([^:]+)): Permission denied$/
const SH_CREATE = /^(?:\/bin\/)?sh: \d+: cannot create ([^/:\s][^:]*): Permission denied$/
const MAKE_DIR = /(Entering|Leaving) directory '([^']*)'/

function buildsDir(s: Scan): Diagnosis[] {
  // ~/.gitconfig is the user's HOME, not the build directory (permission_denied_non_root).
  let hit = s.all(BUILDS_DENIED).filter((h) => !/\.gitconfig\b/.test(h.line.text)).pop()
  let path = firstGroup(hit)
  if (!hit) {
    // Only before any script command: the same words from a git command of the script are that command's.
    // (On Windows the same words mean a file another process holds open: script.ts's locked checkout.)
    hit = s.onWindows() ? undefined : s.all(CHECKOUT_DENIED).filter((h) => !s.commandAt(h.line.n)).pop()
    if (hit) path = `$CI_PROJECT_DIR/${firstGroup(hit) ?? ''}`
  }
  if (!hit) {
    hit = s.all(SH_CREATE).pop()
    // The directory make is in at that line: the last one it entered and has not left, under /builds.
    const stack: string[] = []
    for (const h of s.all(MAKE_DIR).filter((d) => d.line.n < (hit?.line.n ?? 0))) {
      if (h.m[1] === 'Entering') stack.push(h.m[2] ?? '')
      else if (stack[stack.length - 1] === h.m[2]) stack.pop()
    }
    const dir = stack[stack.length - 1]
    if (!hit || !dir || !/\/builds\//.test(dir)) return []
    path = `${dir}/${hit.m[1]}`
  }
  path = path ?? '<builds dir>'
  // git 2.35.2 said "unsafe repository (… is owned by someone else)"; later versions "dubious ownership".
  const dubious = /dubious ownership|owned by someone else/.test(hit.line.text)
  const dir = path.replace(/\/[^/]*\.git.*$|\/$/, '')
  return [diagnosis('permission_denied_builds_dir', 'The runner cannot write its build directory',
    `${dubious ? `git refuses ${path} because it is owned by another user` : `Writing ${path} was denied`}: the builds/cache directories belong to a different user than the one the runner (or the job image) runs as, typically after reinstalling the service as another user or switching to a non-root image.`,
    evidence(hit), [
      { text: 'Give the directories back to the runner user and (re)install the service with the intended user and working directory.', snippet: `sudo chown -R gitlab-runner: ${/^\/builds/.test(dir) || !dir.includes('/') ? '/home/gitlab-runner/builds' : dir}\nsudo gitlab-runner install --user gitlab-runner --working-directory /home/gitlab-runner` },
      { text: 'Or point builds_dir/cache_dir at a writable path.', snippet: '[[runners]]\n  builds_dir = "/home/gitlab-runner/builds"\n  cache_dir = "/home/gitlab-runner/cache"' },
      ...(dubious ? [{ text: 'Trust the directory for git if the ownership is intended.', snippet: `[[runners]]\n  pre_get_sources_script = "git config --global --add safe.directory '*'"` }] : []),
      { text: 'Non-root job images on the Docker executor: run as a matching user, or disable the umask change.', snippet: '[runners.docker]\n  user = "<uid:gid>"\n[runners.feature_flags]\n  FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR = true' },
    ], 0.85)]
}

function nonRoot(s: Scan): Diagnosis[] {
  // dind's own "mount: permission denied (are you root?)" is a service that is not privileged.
  const hit = s.all(NON_ROOT).filter((h) => !/\bmount: |Could not mount/.test(h.line.text)).pop()
  if (!hit) return []
  if (/\.gitconfig/.test(hit.line.text)) return homeNotWritable(s, hit)
  const socket = /Docker daemon socket|docker API at unix:/i.test(hit.line.text)
  const shell = s.family === 'shell'
  const fixes: Fix[] = s.onInstance()
    ? [
        { text: socket ? 'Instance executor: the job runs on the VM as the connector\'s user; put that user in the docker group in the VM image the autoscaler boots.' : 'Instance executor: preinstall what the job installs in the VM image the autoscaler boots, or let the connector\'s user use sudo there.', snippet: socket ? '# in the VM image\'s build\nsudo usermod -aG docker <connector user>' : '# in the VM image\'s build (Packer, cloud-init)\napt-get install -y <packages>' },
      ]
    : socket
    ? [
        { text: 'Shell executor: let the runner user use Docker, then restart the runner.', snippet: 'sudo usermod -aG docker gitlab-runner\nsudo gitlab-runner restart' },
        { text: 'Or run the job on a Docker-executor runner with a dind service.' },
      ]
    : [
        { text: shell ? 'Shell executor: preinstall what the job installs, or allow exactly those commands via sudo.' : 'Use an image where the job may run as root, or one that already contains the dependencies.', snippet: shell ? 'gitlab-runner ALL=(root) NOPASSWD: /usr/bin/apt-get' : 'image:\n  name: <image>\n  docker:\n    user: root' },
        { text: 'For non-root images, install to user-writable locations (npm --prefix, pip --user) or fix file modes.', snippet: '[runners.docker]\n  user = "root"   # runner-wide alternative' },
      ]
  return [diagnosis('permission_denied_non_root', socket ? 'The job user may not use the Docker socket' : 'The script needs root but runs as an unprivileged user',
    socket && /Preparation failed|system failure/.test(hit.line.text) ? 'The runner\'s own user may not use the Docker socket of [runners.docker] host, so the docker executor cannot start anything: the gitlab-runner service user is not in the docker group (or the socket\'s owner changed).' :
    socket ? `The job runs as ${s.onInstance() ? 'the connector\'s user on the VM' : 'the runner user'}, which is not in the docker group, so the Docker socket refuses it.` : `"${hit.line.text.trim()}": the job runs as an unprivileged user (${s.onInstance() ? 'the instance executor runs as the connector\'s user on the VM' : shell ? 'the shell executor runs as the runner user' : "the image's USER"}) while the script assumes root.`,
    evidence(s.commandAt(hit.line.n), hit), fixes, 0.8)]
}

/** git writes ~/.gitconfig: a non-root user whose HOME is /root or / (Kubernetes keeps the image's HOME). */
function homeNotWritable(s: Scan, hit: Hit): Diagnosis[] {
  return [diagnosis('permission_denied_non_root', 'The build user cannot write its HOME',
    `"${hit.line.text.trim()}": the job runs as a non-root user whose HOME (${/'?(\/[^':]*)\/\.gitconfig/.exec(hit.line.text)?.[1] ?? '/root'}) belongs to root, so git cannot read or write its global configuration.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Give the build user a writable HOME: set it in the image, or in the job.', snippet: 'variables:\n  HOME: /tmp/home   # or ENV HOME=/home/<user> in the Dockerfile\nbefore_script:\n  - mkdir -p "$HOME"' },
      { text: 'Kubernetes executor: export it before the sources are fetched too.', snippet: '[[runners]]\n  pre_get_sources_script = "export HOME=\\"$(mktemp -d)\\""' },
    ], 0.8)]
}

function gitOld(s: Scan): Diagnosis[] {
  const old = s.last(GIT_OLD_WORDING)
  if (old) {
    return [diagnosis('git_client_too_old', 'This git is too old for what the job asks of it',
      old.m[1]
        ? `"${old.line.text.trim()}" is how old git releases word a failed request (current git says "RPC failed; HTTP ${old.m[1]} curl 22"), and the server refused the request with ${old.m[1]}: current GitLab refuses some requests of a git that old (old protocol details, URLs without .git).`
        : `"${old.line.text.trim()}": older git releases refuse \`--filter\` unless the repository was set up for partial clone; newer git sets that up itself. The git that ran (the runner host's on shell and custom executors, else the image's) is older than the job's commands expect.`,
      evidence(s.commandAt(old.line.n), old), [
        { text: 'Print the git version where the job runs and upgrade it (the image, or the runner host on shell/custom executors).', snippet: 'git --version' },
        { text: 'Until then, avoid what it does not support: a plain clone or fetch without --filter, URLs ending in .git.' },
      ], 0.8)]
  }
  const hit = s.first(GIT_OLD, ['get_sources', ''])
  if (!hit) return []
  return [diagnosis('git_client_too_old', 'The git client on the runner host is too old',
    'The runner asks git for shallow fetches and options newer than this git supports (distro git 1.x / 2.0). The shell executor uses the host\'s git.',
    evidence(hit), [
      { text: 'Upgrade git on the runner host (2.x).', snippet: 'git --version   # as the runner user\nsudo yum install -y git236 || sudo apt-get install -y git' },
      { text: 'Workaround: disable shallow clones for the project or job.', snippet: 'variables:\n  GIT_DEPTH: 0\n  GIT_STRATEGY: clone' },
      { text: 'Or use the Docker executor: the helper image ships a current git.' },
    ], 0.85)]
}

function pipelineRef(s: Scan): Diagnosis[] {
  const hit = s.last(PIPELINE_REF)
  if (!hit) return []
  // refs/heads/refs/merge-requests/…: the refspec GitLab sent was built wrong (a branch template around a ref that already was one).
  // Only the runner's own fetch (no command of the script before it) carries GitLab's refspecs.
  if (/^refs\/(?:heads|tags)\/refs\//.test(hit.m[1] ?? '') && !s.commandAt(hit.line.n)) {
    return [diagnosis('pipeline_ref_missing', `GitLab sent the runner a malformed ref (${hit.m[1]})`,
      `The runner fetches exactly the refspecs the job payload carries, and this one wraps a ref that already was a full ref (${hit.m[1]}): no such ref can exist, so the fetch fails. That is GitLab building the job's refspecs wrongly (seen with merge request pipelines), not the project's or the runner's configuration.`,
      evidence(hit), [
        { text: 'Run a new pipeline (or retry from a fresh one); if it repeats, report it to your GitLab administrators / GitLab with the pipeline source and the refspec.' },
        { text: 'Meanwhile, jobs that do not need the merge request ref can fetch by branch.', snippet: 'workflow:\n  rules:\n    - if: $CI_COMMIT_BRANCH' },
      ], 0.8)]
  }
  return [diagnosis('pipeline_ref_missing', `The pipeline's ref ${hit.m[1]} was not on the server`,
    `The runner fetches the pipeline's persistent ref ${hit.m[1]}, which GitLab creates for a running pipeline and removes when it finishes; here the Git server did not have it (the job ran after the pipeline was finished or cancelled, or the repository storage had not caught up), so no sources were fetched. It is not a depth problem: the whole ref is missing.`,
    evidence(hit), [
      { text: 'Retry the job: GitLab recreates the ref when it hands the job to a runner. Let the runner retry the fetch itself for transient cases.', snippet: 'variables:\n  GET_SOURCES_ATTEMPTS: 3' },
      { text: 'If it repeats: check the repository on the server (Gitaly/replication errors, housekeeping) and whether the pipeline was cancelled or finished before this job started.' },
    ], 0.85)]
}

function shallow(s: Scan): Diagnosis[] {
  // "remote: fatal: bad object …" is the server's own repository (remote_repository_corrupt).
  const hit = s.all(SHALLOW).filter((h) => !PIPELINE_REF.test(h.line.text) && !/^remote:/.test(h.line.text)).pop()
  if (!hit) return unreachable(s)
  const describe = /No names found|No tags can describe|doesn't contain any tags/.test(hit.line.text)
  // Tools comparing with another branch (changesets, danger): the runner fetched only the pipeline's ref.
  const base = /Failed to find where HEAD diverged from|danger_base and danger_head/.test(hit.line.text)
  if (base) {
    const branch = (firstGroup(hit) ?? '$CI_DEFAULT_BRANCH').replace(/^origin\//, '')
    return [diagnosis('shallow_clone_missing_ref', `The branch to compare with${firstGroup(hit) ? ` (${firstGroup(hit)})` : ''} is not in the clone`,
      'The tool looks for where this commit left another branch, but the runner fetches only the pipeline\'s own ref, with limited depth: the other branch and the history back to the merge base are not there.',
      evidence(s.commandAt(hit.line.n), hit), [
        { text: 'Fetch the branch the tool compares with, with enough history to reach the merge base.', snippet: `script:\n  - git fetch origin ${branch}:${branch} --depth=200   # or: GIT_DEPTH: 0` },
        { text: 'Or clone with full history for this job.', snippet: 'variables:\n  GIT_DEPTH: 0' },
      ], 0.8)]
  }
  return [diagnosis('shallow_clone_missing_ref', describe ? 'git describe finds no tags in the shallow clone' : 'The commit or ref is outside the shallow clone',
    describe
      ? 'The job clones with a limited depth and without tags, so git describe has nothing to describe.'
      : `The clone fetched only the last GIT_DEPTH commits, and ${firstGroup(hit) ?? 'the needed commit'} is not among them (older job retried, big push, or a diff against another branch).`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Fetch more history for this job (0 = full clone).', snippet: 'variables:\n  GIT_DEPTH: 0' },
      { text: 'Or unshallow only where history is needed.', snippet: 'script:\n  - git fetch --unshallow --tags' },
      { text: 'For tags, add fetch flags.', snippet: 'variables:\n  GIT_FETCH_EXTRA_FLAGS: --tags' },
    ], 0.8)]
}

/** The server refuses to send a commit no branch reaches: depth is not the problem, the commit is gone from the server's refs. */
function unreachable(s: Scan): Diagnosis[] {
  const hit = s.last(UNREACHABLE)
  if (!hit) return []
  const sha = hit.m[1] ?? hit.m[2] ?? '<sha>'
  const sub = s.has(SUBMODULE)
  return [diagnosis('shallow_clone_missing_ref', `The server no longer offers commit ${sha.slice(0, 12)}`,
    `git asked for ${sha}, which no branch or tag on the server reaches: ${sub ? 'a submodule points to a commit that was never pushed (or was force-pushed away) in the submodule\'s repository' : 'it was force-pushed away or its branch was deleted after the pipeline was created (a retried old job)'}.`,
    evidence(s.commandAt(hit.line.n), hit), [
      sub
        ? { text: 'Push the submodule commit the superproject points to (or update the submodule pointer to a pushed commit).', snippet: 'git submodule status\ngit -C <submodule path> push origin HEAD' }
        : { text: 'Run a new pipeline for the current head of the branch instead of retrying a job of an old one.' },
      { text: 'Fetch full history if the job needs commits outside the branch tip.', snippet: 'variables:\n  GIT_DEPTH: 0' },
    ], 0.75)]
}

// GitLab refusing a push by project policy (lib/gitlab/checks, git_access.rb): the token reached the project, the rules said no.
const PUSH_REJECTED = /remote: GitLab: (You are not allowed to push code to protected branches on this project|You are not allowed to (?:force push|delete) (?:code to )?a protected branch|You can't push code to an archived project|The repository is temporarily read-only|Your push has been rejected, because this repository has exceeded its size limit|You are not allowed to push code to this project)|remote: (?:GitLab: )?(Commit message does not follow the pattern|Author '[^']+' is not a member of team|Commit must be signed|File name [^\n]+ was prohibited by the pattern)/
// GitLab's LFS batch answer for an object it does not have (printed by git-lfs per object).
const LFS_MISSING = /Object does not exist on the server(?: or you don't have permissions to access it)?|\[404\] Object does not exist/

function pushRejected(s: Scan): Diagnosis[] {
  const hit = s.last(PUSH_REJECTED)
  if (!hit) return []
  const why = hit.m[1] ?? hit.m[2] ?? ''
  const protectedBranch = /protected branch/.test(why)
  return [diagnosis('git_push_rejected', 'GitLab rejected the job\'s push by project policy', `The push reached the project and its rules refused it: "${why}".${protectedBranch ? ' The identity pushing (a deploy key, a project access token\'s bot user) is not allowed to push to that protected branch.' : ''}`,
    evidence(s.commandAt(hit.line.n), hit, s.near(hit.line.n, /\[remote rejected\]|pre-receive hook declined/, 3)), [
      ...(protectedBranch ? [{ text: 'Allow the pushing identity in the protected branch settings (Settings > Repository > Protected branches: allowed to push), or push to another branch and merge through a merge request.' }] : []),
      { text: 'Check the project\'s push rules (commit message pattern, signed commits, file names) and its state (archived, read-only during a migration, size limit).' },
      { text: 'The job token cannot push at all: push with a project access token or deploy key that has write access.', snippet: 'git push "https://ci-bot:${PROJECT_ACCESS_TOKEN}@${CI_SERVER_HOST}/${CI_PROJECT_PATH}.git" HEAD:<branch>' },
    ], 0.85)]
}

function lfsMissing(s: Scan): Diagnosis[] {
  const hit = s.last(LFS_MISSING)
  if (!hit) return []
  return [diagnosis('lfs_object_missing', 'A Git LFS object is missing on the server', 'The checkout found an LFS pointer whose object GitLab does not have: it was committed by someone without git-lfs installed (the pointer was pushed, the object never uploaded), or it lives only in the fork it came from.',
    evidence(hit, s.near(hit.line.n, /smudge filter lfs failed|external filter 'git-lfs filter-process' failed/, 4)), [
      { text: 'Upload the objects from a clone that has them.', snippet: 'git lfs push --all origin' },
      { text: 'Jobs that do not need the large files can skip them.', snippet: 'variables:\n  GIT_LFS_SKIP_SMUDGE: "1"' },
    ], 0.85)]
}

function gitAuth(s: Scan): Diagnosis[] {
  // Over SSH no job token is involved: gitlab-shell's "not found" is the key's reach (script.ts).
  const ssh = (h: Hit): boolean => /The project you were looking for/.test(h.line.text) && /git@|ssh:\/\//.test(s.commandAt(h.line.n)?.text ?? '')
  // curl's own exit-22 line after a REST call is the API's refusal (job-token.ts), not git's.
  const rest = (h: Hit): boolean => /curl: \(22\) The requested URL/.test(h.line.text) && restApiCall(s.commandAt(h.line.n)?.text)
  const hit = s.all(GIT_AUTH).filter((h) => !/unauthorized:|docker|registry|\/v2\//i.test(h.line.text) && !ssh(h) && !rest(h)).pop()
  if (!hit) return []
  const url = hit.m[1] ?? hit.m[2] ?? s.near(hit.line.n, /unable to access '([^']+)'|Authentication failed for '([^']+)'/, 3)?.m[1]
  const sub = s.has(SUBMODULE) && s.ev.trace.lines.some((l) => SUBMODULE.test(l.text) && l.n <= hit.line.n)
  const fixes: Fix[] = [
    { text: "Allow this project in the target project's CI/CD job token allowlist (Settings → CI/CD → Job token permissions)." },
    { text: 'Check that the user who triggered the pipeline can read the repository.' },
    { text: 'Cross-instance repositories: use a deploy token in the URL, from a masked variable.' },
    { text: 'Shell runners: disable host credential helpers (Windows GCM) that override the job token.', snippet: 'git config --system --unset credential.helper' },
  ]
  if (sub) fixes.unshift({ text: 'Use relative submodule URLs so the job token applies, and let the runner fetch them.', snippet: '# .gitmodules\n[submodule "lib"]\n  path = lib\n  url = ../../group/lib.git\n\n# .gitlab-ci.yml\nvariables:\n  GIT_SUBMODULE_STRATEGY: recursive' })
  return [diagnosis('git_auth_job_token', `Git access denied${url ? ` to ${hostOf(url) ? url.replace(/\/\/[^@/]*@/, '//') : url}` : ''}`,
    `The ${sub ? 'submodule ' : ''}fetch${url ? ` of ${url}` : ''} was refused: the CI job token (or the credentials used) may not read that repository (job-token allowlist, the triggering user's permissions)${sub ? ', or the submodule URL is absolute so no token is sent' : ''}.`,
    evidence(hit, s.near(hit.line.n, /fatal:|remote:/, 2)), fixes, 0.85)]
}

function noSpace(s: Scan): Diagnosis[] {
  const hit = s.last(NO_SPACE) ?? s.last(SQLITE_FULL)
  if (!hit) return []
  const path = /(?:write|open|mkdir|create) ([/\w.-]+)/.exec(hit.line.text)?.[1]
  const k8s = s.family === 'kubernetes' || /ephemeral|EmptyDir/.test(hit.line.text)
  return [diagnosis('no_space_left_on_device', 'The disk is full',
    `The ${phaseName(hit.line.section) === 'prepare_executor' ? 'image pull' : 'job'} failed writing${path ? ` ${path}` : ''}: no space (or no inodes) left on the ${k8s ? 'node' : 'runner host'}.`,
    evidence(hit), [
      { text: 'Check bytes and inodes, and free space.', snippet: 'df -h /var/lib/docker /home/gitlab-runner; df -i /var/lib/docker\ndocker system df\ndocker system prune -af --filter "until=72h"' },
      k8s
        ? { text: 'Kubernetes: request/limit ephemeral storage for builds.', snippet: '[runners.kubernetes]\n  ephemeral_storage_request = "10Gi"\n  ephemeral_storage_limit = "20Gi"' }
        : { text: 'Docker executor on throw-away hosts: skip the per-job cache volumes.', snippet: '[runners.docker]\n  disable_cache = true' },
      { text: 'Move builds_dir/cache to a larger volume, or enlarge the disk; schedule the runner\'s cache clean-up.' },
    ], 0.85)]
}

export const hostRule: Rule = {
  id: 'host',
  categories: ['permission_denied_builds_dir', 'permission_denied_non_root', 'git_client_too_old', 'shallow_clone_missing_ref', 'pipeline_ref_missing', 'git_auth_job_token', 'no_space_left_on_device', 'git_push_rejected', 'lfs_object_missing'],
  match(ev) {
    const s = Scan.of(ev)
    return [...buildsDir(s), ...nonRoot(s), ...gitOld(s), ...pipelineRef(s), ...shallow(s), ...gitAuth(s), ...noSpace(s), ...pushRejected(s), ...lfsMissing(s)]
  },
}
