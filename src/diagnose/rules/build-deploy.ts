import { type Hit, Scan, diagnosis, evidence, firstGroup } from '../scan.js'
import type { Diagnosis, Rule } from '../types.js'

/**
 * Building images and deploying from a job, where the tools' own wordings name the cause: the
 * Dockerfile or a COPY source is not in the build context (buildkit frontend/dockerui,
 * solver/contenthash; kaniko), a bind mount of the job's directory into a dind daemon that cannot
 * see it, a published port already taken (moby portallocator), `docker login` to GitLab's host
 * instead of its registry (moby registry/auth.go), a Helm release left locked by an earlier job
 * (helm pkg/action), a rollout that did not become ready (helm --wait, kubectl rollout status), a
 * secret or configmap the pod names that does not exist (kubelet), and a cluster that no longer
 * accepts kubectl's credentials in the script (the runner's own: kubernetes.ts).
 */

const DOCKERFILE = /failed to read dockerfile: open ([\w./-]*Dockerfile[\w.-]*): no such file or directory|unable to prepare context: unable to evaluate symlinks in Dockerfile path|error resolving dockerfile path: please provide a valid path to a Dockerfile|Cannot locate specified Dockerfile: (\S+)/
// buildkit, the classic builder (its temporary context directory) and kaniko (its context directory).
const CONTEXT = /failed to compute cache key: (?:failed to calculate checksum of ref \S+ )?"?(\/[^"\s]*)"?:? not found|COPY failed: (?:file not found in build context or excluded by \.dockerignore: )?stat [^:]+: file does not exist|COPY failed: file not found in build context or excluded by \.dockerignore|COPY failed: stat \/var\/lib\/docker\/tmp\/docker-builder\d+\/(\S+): no such file or directory|failed to get files used from context: failed to get fileinfo for \/kaniko\/buildcontext\/(\S+?): lstat/
const BIND = /invalid mount config for type "bind": bind source path does not exist: (\S+?)\.?$/
// A bind mount the daemon made from its own (empty) directory: AWS CDK's bundling found no output.
const BIND_EMPTY = /Bundling did not produce any output\. Check that (?:content is written to|your container writes content to) \/asset-output/
// The job's own directory as a bind source: /builds/…, or the runner's unexpanded echo of a variable for it.
const JOB_DIR = String.raw`(?:\/builds\/[^\s:"']*|"?\$\{?(?:CI_PROJECT_DIR|CI_BUILDS_DIR|PWD)\}?[^\s:"']*"?|"?\$\(pwd\)[^\s:"']*"?)`
const RUN_MOUNT = new RegExp(String.raw`docker run\b[^\n]{0,400}?\s(?:-v|--volume)[\s=]+${JOB_DIR}\\?:(\/[\w/.-]+)`)
const PORT = /Bind for ([\d.:[\]]+) failed: port is already allocated|listen tcp[46]? ([\d.:[\]]*:\d+): bind: address already in use|listen EADDRINUSE: address already in use (\S+)|OSError: \[Errno 98\] Address already in use/
const LOGIN_404 = /login attempt to (https?:\/\/\S+\/v2\/) failed with status: 404 Not Found/
const HELM_LOCK = /another operation \(install\/upgrade\/rollback\) is in progress/
const ROLLOUT = /(?:UPGRADE|INSTALLATION) FAILED: (?:release \S+ failed, and has been rolled back due to atomic being set: |failed (?:pre|post)-(?:install|upgrade): )?(?:context deadline exceeded|timed out waiting for the condition)|error: deployment "([^"]+)" exceeded its progress deadline|error: timed out waiting for rollout to finish/
const OBJECT_MISSING = /(?:container configuration error|CreateContainerConfigError|MountVolume\.SetUp failed for volume "[^"]+")\s*:?\s*(?:.*?)(secret|configmap) "([^"]+)" not found|Error: (secret|configmap) "([^"]+)" not found/
// 401 from the API server: the credentials themselves are refused (expired token, deleted account), not RBAC.
const UNAUTHORIZED_KUBECTL = /error: You must be logged in to the server \((?:Unauthorized|the server has asked for the client to provide credentials)\)|the server has asked for the client to provide credentials/
// docker buildx (docker/buildx, builder creation): a docker-container builder cannot take TLS settings from DOCKER_* variables.
const BUILDX_TLS = /could not create a builder instance with TLS data loaded from environment/
const RUNNER_LINE = /Job failed \(system failure\)|prepare environment:|Error cleaning up (?:pod|secrets)/

function dockerfile(s: Scan): Diagnosis[] {
  const hit = s.last(DOCKERFILE)
  if (!hit) return []
  const file = firstGroup(hit) ?? 'Dockerfile'
  return [diagnosis('dockerfile_not_found', `The image build found no ${file}`, `The builder looked for ${file} in its build context and it is not there: the job runs from another directory, the file has another name or case, or the build context is not the directory that holds it.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Name the Dockerfile and the context explicitly, relative to the project directory.', snippet: 'docker build -f "$CI_PROJECT_DIR/docker/Dockerfile" -t "$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA" "$CI_PROJECT_DIR"\n# kaniko: /kaniko/executor --context "$CI_PROJECT_DIR" --dockerfile "$CI_PROJECT_DIR/docker/Dockerfile" …' },
      { text: 'Check what the job really has (a sparse checkout, GIT_STRATEGY: none, or a different working directory).', snippet: 'script:\n  - pwd && ls -la' },
    ], 0.85)]
}

function buildContext(s: Scan): Diagnosis[] {
  const hit = s.last(CONTEXT)
  if (!hit) return []
  const path = firstGroup(hit)
  // COPY --from=<stage>: the path is the earlier stage's output, not the build context's.
  const fromStage = s.all(/COPY --from=([\w.-]+)/).filter((h) => h.line.n < hit.line.n && hit.line.n - h.line.n <= 8).pop()
  if (fromStage) {
    return [diagnosis('docker_build_context_missing_file', `The stage ${fromStage.m[1]} did not produce ${path ?? 'the copied path'}`, `The Dockerfile copies ${path ?? 'a path'} from its stage ${fromStage.m[1]}, and that stage has no such path: its build wrote elsewhere (another output directory or WORKDIR) or failed to produce it.`,
      evidence(fromStage, hit), [
        { text: `Check where the ${fromStage.m[1]} stage writes its output, and copy from exactly there.`, snippet: `docker build --target ${fromStage.m[1]} -t debug . && docker run --rm debug ls -la <its output dir>` },
      ], 0.85)]
  }
  return [diagnosis('docker_build_context_missing_file', `A COPY source is not in the build context${path ? ` (${path})` : ''}`, `The Dockerfile copies ${path ?? 'a file'} that the build context does not contain: it is excluded by .dockerignore, it is built by an earlier job whose artifacts this job did not receive, or the context is another directory.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Pass the earlier job\'s output to this job.', snippet: 'build-image:\n  needs:\n    - job: build\n      artifacts: true' },
      { text: 'Check .dockerignore and the context directory (the last argument of docker build).', snippet: 'cat .dockerignore; ls -la <context dir>' },
    ], 0.85)]
}

/**
 * `docker run -v /builds/…:<dst>` (echoed by a tool or the script), then "No such file or directory" for a
 * path under <dst>: the daemon mounted its own directory of that name, which does not have the job's files.
 */
function emptyMount(s: Scan): Hit | undefined {
  // On the shell executor the daemon shares the job's filesystem: the mount is not empty.
  if (s.family === 'shell') return undefined
  const cdk = s.last(BIND_EMPTY)
  if (cdk) return cdk
  // The script's own "$ docker run" echo counts (Scan.all reads output lines only).
  const run = s.ev.trace.lines.map((line) => ({ line, m: RUN_MOUNT.exec(line.text) })).filter((h): h is Hit => h.m !== null).pop()
  const dst = run?.m[1]
  if (!run || !dst) return undefined
  // Under the mount point: the path starts there, not merely contains it (/builds/app/dist for /app).
  const under = new RegExp(`(?:^|[\\s'"(=])${dst.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`)
  return s.all(/No such file or directory|does not exist|can't open/).find((h) => h.line.n > run.line.n && under.test(h.line.text))
}

function bindMount(s: Scan): Diagnosis[] {
  const hit = s.last(BIND) ?? emptyMount(s)
  if (!hit) return []
  return [diagnosis('dind_bind_mount_path', 'A bind mount names a path the Docker daemon does not have', `docker run -v mounted ${hit.m[1] ?? 'a directory of the job (under /builds)'}, a path in the job's container; the daemon that runs the container (a dind service, or the host's daemon through the socket) has its own filesystem, where that path does not exist.`,
    evidence(s.commandAt(hit.line.n), hit), [
      ...(BIND_EMPTY.test(hit.line.text) ? [{ text: 'AWS CDK: let the bundling copy its input and output through a volume instead of bind mounts (CDK\'s switch for Docker-in-Docker).', snippet: 'bundling: {\n  bundlingFileAccess: BundlingFileAccess.VOLUME_COPY,\n}' }] : []),
      { text: 'Copy files into the container instead of bind-mounting the job\'s directory.', snippet: 'docker create --name work <image>\ndocker cp . work:/src\ndocker start -a work' },
      ...(s.hasDind() ? [] : [{ text: 'Or share the builds directory with the daemon (socket binding with the same path on the host).', snippet: '[runners.docker]\n  volumes = ["/var/run/docker.sock:/var/run/docker.sock", "/builds:/builds"]' }]),
    ], 0.8)]
}

function portTaken(s: Scan): Diagnosis[] {
  const hit = s.last(PORT)
  if (!hit) return []
  const port = firstGroup(hit) ?? 'the port'
  return [diagnosis('host_port_conflict', `Port ${port} is already taken`, `The job publishes or listens on ${port}, and something else already holds it: another job on the same host (shell executor, or containers on a shared Docker daemon) or a container a previous job left running.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Let Docker pick a free host port, or use a service/network alias instead of host ports.', snippet: 'docker run -d -P <image>   # then: docker port <container>' },
      { text: 'Remove what an earlier job left running, and give concurrent jobs their own ports.', snippet: 'docker ps --filter publish=<port>' },
    ], 0.8)]
}

function loginToGitlab(s: Scan): Diagnosis[] {
  const hit = s.last(LOGIN_404)
  if (!hit) return []
  return [diagnosis('registry_auth_failed', 'docker login went to a host without a container registry', `${hit.m[1]} answered 404: that host serves no registry API. Logging in to GitLab's own host instead of its registry ($CI_REGISTRY, often another host or port), or the container registry is not enabled.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Log in to the registry GitLab gives the job.', snippet: 'echo "$CI_REGISTRY_PASSWORD" | docker login -u "$CI_REGISTRY_USER" --password-stdin "$CI_REGISTRY"' },
      { text: 'If $CI_REGISTRY is empty, the container registry is disabled for the instance or the project (Settings > General > Visibility).' },
    ], 0.8)]
}

function helmLock(s: Scan): Diagnosis[] {
  const hit = s.last(HELM_LOCK)
  if (!hit) return []
  return [diagnosis('helm_release_locked', 'The Helm release is locked by an earlier operation', 'An earlier helm install/upgrade of this release stopped half-way (a canceled or timed-out job), leaving it in a pending-* state; Helm refuses new operations until that is resolved.',
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'See the release\'s history and roll back to the last deployed revision.', snippet: 'helm history <release> -n <namespace>\nhelm rollback <release> <last deployed revision> -n <namespace>' },
      { text: 'Keep deploy jobs from being canceled mid-way and from running concurrently.', snippet: 'deploy:\n  interruptible: false\n  resource_group: production' },
    ], 0.85)]
}

function rollout(s: Scan): Diagnosis[] {
  const hit = s.last(ROLLOUT)
  if (!hit) return []
  return [diagnosis('deployment_rollout_failed', 'The deployment did not become ready in time', `The deploy waited for the new pods to become ready and they did not${hit.m[1] ? ` (deployment ${hit.m[1]})` : ''}: they crash, fail their readiness probe, cannot pull their image, or cannot be scheduled. The deploy command itself worked.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Look at the new pods: their events and logs say why they are not ready.', snippet: 'kubectl -n <namespace> get pods\nkubectl -n <namespace> describe pod <new pod>\nkubectl -n <namespace> logs <new pod> --previous' },
      { text: 'Give slow starts more time only when they are slow, not failing.', snippet: 'helm upgrade --install <release> <chart> --wait --timeout 10m' },
    ], 0.8)]
}

function objectMissing(s: Scan): Diagnosis[] {
  const hit = s.last(OBJECT_MISSING)
  if (!hit) return []
  const kind = hit.m[1] ?? hit.m[3] ?? 'secret'
  const name = hit.m[2] ?? hit.m[4] ?? '<name>'
  return [diagnosis('kubernetes_object_missing', `The ${kind} "${name}" does not exist in the namespace`, `A container of the pod takes environment variables or a volume from the ${kind} ${name}, which is not in the pod's namespace, so the kubelet will not start it.`,
    evidence(hit), [
      { text: `Create the ${kind} in that namespace, or fix its name where the pod spec (or config.toml) names it.`, snippet: `kubectl -n <namespace> get ${kind} ${name}` },
      { text: 'Mark references that may be absent as optional.', snippet: `${kind === 'secret' ? 'secretKeyRef' : 'configMapKeyRef'}:\n  name: ${name}\n  optional: true` },
    ], 0.8)]
}

function kubectlUnauthorized(s: Scan): Diagnosis[] {
  // The runner's own prepare/clean-up lines are the executor's (kubernetes.ts).
  const hit = s.all(UNAUTHORIZED_KUBECTL).filter((h) => !RUNNER_LINE.test(h.line.text)).pop()
  if (!hit) return []
  return [diagnosis('kubernetes_api_unauthorized', 'The cluster refused kubectl\'s credentials', 'The API server does not accept the credentials in the job\'s kubeconfig (401): the token expired or was revoked, a cloud login plugin produced none, or the kubeconfig is for another cluster. RBAC never ran.',
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'With the GitLab agent for Kubernetes, use its context (its credentials are provided per job).', snippet: 'kubectl config use-context <group>/<agent project>:<agent name>' },
      { text: 'Otherwise refresh the token in the KUBECONFIG variable, or let the job log in to the cloud first (gcloud/aws eks get-credentials).' },
    ], 0.8)]
}

function buildxTls(s: Scan): Diagnosis[] {
  const hit = s.last(BUILDX_TLS)
  if (!hit) return []
  return [diagnosis('dind_buildx_context_missing', 'docker buildx needs a context for the dind daemon\'s TLS settings',
    'The job reaches its docker:dind service over TLS through DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH. `docker buildx create` will not build a builder from TLS settings that exist only as environment variables: it needs a Docker context holding them.',
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Create a context from the environment first, and the builder on it.', snippet: 'script:\n  - docker context create tls-environment\n  - docker buildx create --name multiarch --driver docker-container --use tls-environment' },
    ], 0.85)]
}

export const buildDeployRule: Rule = {
  id: 'build-deploy',
  categories: ['dockerfile_not_found', 'docker_build_context_missing_file', 'dind_bind_mount_path', 'host_port_conflict', 'registry_auth_failed', 'helm_release_locked', 'deployment_rollout_failed', 'kubernetes_object_missing', 'kubernetes_api_unauthorized', 'dind_buildx_context_missing'],
  match(ev) {
    const s = Scan.of(ev)
    return [...dockerfile(s), ...buildContext(s), ...bindMount(s), ...portTaken(s), ...loginToGitlab(s), ...helmLock(s), ...rollout(s), ...objectMissing(s), ...kubectlUnauthorized(s), ...buildxTls(s)]
  },
}
