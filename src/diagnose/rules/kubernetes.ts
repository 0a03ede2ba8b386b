import { type Hit, Scan, diagnosis, evidence, phaseName } from '../scan.js'
import { retryFix } from '../snippets.js'
import type { Diagnosis, Fix, Rule } from '../types.js'

/**
 * Kubernetes executor: API permissions, pods that never schedule, and memory kills (OOM is
 * here because its strongest signal, OOMKilled, is a Kubernetes container state; the same rule
 * reads docker's exit 137 and the language runtimes' own out-of-memory messages).
 */

// Anchored on a word start: an unanchored leading [\w]+ would retry at every offset of long lines.
const FORBIDDEN = /(?<![\w./-])([\w./-]+)(?: "[^"]*")? is forbidden: User "system:serviceaccount:([^:"]+):([^"]+)" cannot (\w+) resource "([^"]+)"(?: in API group "([^"]*)")?(?: in the namespace "([^"]+)")?/
const FORBIDDEN_SHORT = /(?<![\w./-])([\w./-]+)(?: "[^"]*")? is forbidden: User "system:serviceaccount:([^:"]+):([^"]+)"\s*$/
// A cloud IAM service account (GKE's *.iam.gserviceaccount.com, an EKS-mapped IAM role) refused by RBAC. A person's
// identity (a kubeconfig user) is not this class: its fix is that person's access, not a CI identity's.
const FORBIDDEN_USER = /(?<![\w./-])([\w./-]+)(?: "[^"]*")? is forbidden: User "([^"]+\.iam\.gserviceaccount\.com|arn:aws:(?:iam|sts)::\d+:(?:role|assumed-role)\/[^"]+)" cannot (\w+) resource "([^"]+)"(?: in API group "([^"]*)")?(?: in the namespace "([^"]+)")?/
// The kubelet refusing a container whose image runs as root under runAsNonRoot (or a non-numeric USER).
const NON_ROOT_IMAGE = /container has runAsNonRoot and image will run as root|container has runAsNonRoot and image has non-numeric user/
const PENDING = /Waiting for pod ([\w.-]+\/[\w.-]+) to be running.*status is Pending/
const SCHEDULE_REASON = /Insufficient (?:cpu|memory|ephemeral-storage|nvidia\.com\/gpu)|didn't match Pod's node affinity\/selector|node\(s\) didn't match|untolerated taint|had taint|exceeded quota|unbound (?:immediate )?PersistentVolumeClaims|Unschedulable|FailedScheduling|Too many pods|didn't have free ports for the requested pod ports|had volume node affinity conflict|didn't find available persistent volumes to bind|did not have enough free storage|\b\d+\/\d+ nodes are available/
const POD_TIMEOUT = /timed out waiting for pod to start/
const PULL_TROUBLE = /Back-off pulling image|ErrImagePull|ImagePullBackOff|image pull failed|Failed to pull image/
// git's run-command ("<cmd> died of signal 9"), Python's subprocess ("died with <Signals.SIGKILL: 9>"): a SIGKILL'd child.
const OOM = /OOMKilled|TERMINATED WITH THE EXIT STRING: Killed \(signal 9\)|npm ERR! (?:code|errno) ENOMEM|spawn ENOMEM|There is insufficient memory for the Java Runtime Environment|Expiring Daemon because JVM heap space is exhausted|Gradle build daemon disappeared unexpectedly|The message received from the daemon indicates that the daemon has disappeared|returned a non-zero code: 137\b|Out of memory, malloc failed|\bdied (?:of|with) signal 9\b|<Signals\.SIGKILL: 9>|returned non-zero exit status -9\b|The node was low on resource: memory|[Kk]illed by signal 9\b|terminated by signal (?:9|SIGKILL)\b|received signal 9\b|exited with (?:code|status) 137\b|[Oo]ut of memory: Killed process|System OOM encountered|JavaScript heap out of memory|Allowed memory size of \d+ bytes exhausted|memory allocation of \d+ bytes failed|terminated with signal 9 \[Killed\]|instance of 'std::bad_alloc'|java\.lang\.OutOfMemoryError|fatal error: runtime: out of memory|\bMemoryError\b|virtual memory exhausted|Killed signal terminated program|signal SIGKILL|Cannot allocate memory(?!\s+for\b)|^Killed$|LINK : fatal error LNK1102: out of memory|fatal error C1060: compiler is out of heap space|\b(?:cc1\w*|lto1|f951): out of memory allocating|signal: killed|exit (?:code|status):? 137\b|runtime: out of memory: cannot allocate|^fatal error: out of memory$|unable to execute command: Killed$|\(signal: 9, SIGKILL: kill\)|was terminated by another process: signal=SIGKILL|Not enough memory to run compilation|Process Exit Code: 137$|System\.OutOfMemoryException|CondaMemoryError: The conda process ran out of memory|^Error: Call retries were exceeded$/
const TIMEOUT = /execution took longer than|timeout was exceeded|timed out waiting for pod/
const ADMISSION = /admission webhook "([^"]+)" denied the request|violates PodSecurity "([^"]+)"|is forbidden: (?:unable to validate against any (?:pod )?security policy|pod security policy)|denied by (?:gatekeeper|kyverno|policy)|only read-only root filesystem container is allowed/i
const QUOTA = /is forbidden: exceeded quota: ([\w.-]+), requested: ([^,]+)|forbidden: exceeded quota|exceeded quota: ([\w.-]+)|failed quota: ([\w.-]+): must specify|maximum (?:cpu|memory) usage per (?:Container|Pod) is/
// "container not found ("build")": the name is in the parentheses, not the word after "container".
const ATTACH = /unable to upgrade connection: pod does not exist|timed out waiting for pod to become attachable|error sending request: Post "[^"]*\/(?:attach|exec)\?container=([\w-]+)|(?:unable to upgrade connection|error (?:dialing backend|executing (?:remote )?command)|container not found|Internal error occurred: error executing command in container)[^\n]*?(?:\("?([\w-]+)"?\)|container (?!not\b)"?([\w-]+)"?)|error dialing backend: (?:dial tcp|remote error)/

// The API server itself failing the runner's calls (gitlab-runner docs/executors/kubernetes/troubleshooting.md):
// an admission webhook that cannot be called or does not answer in time, or kube-apiserver/etcd overloaded.
const WEBHOOK_FAILED = /failed calling webhook "([^"]+)"/
const API_TIMEOUT = /Timeout: request did not complete within requested timeout/
const API_OVERLOAD = /etcdserver: (?:request timed out|leader changed)|resource quota evaluates timeout|(?:waiting for pod running|Error cleaning up pod): \w+ "https?:\/\/[^"]+\/api\/v1\/namespaces\/[^"]*": dial tcp [^\s:]+:\d+:? connect: connection refused|prepare environment: (?:setting up (?:build pod|credentials|build namespace)[\w ]*: )?context deadline exceeded\b/

/** terraform and kubectl wrap long API errors over several lines, with box-drawing margins. */
function joinedForbidden(s: Scan): Hit | undefined {
  const start = s.last(/is forbidden: User\s*$|is forbidden: User "[^"]*$/)
  if (!start) return undefined
  const next = s.ev.trace.lines.filter((l) => l.n > start.line.n && l.n <= start.line.n + 4).map((l) => l.text.replace(/^[│|]\s?/, '').trim())
  const m = FORBIDDEN.exec([start.line.text.replace(/^[│|]\s?/, ''), ...next].join(' '))
  return m ? { line: start.line, m } : undefined
}

function rbac(s: Scan): Diagnosis[] {
  const full = s.last(FORBIDDEN) ?? joinedForbidden(s)
  // A paste cut after the user (gitlab-runner docs/install/kubernetes_troubleshooting.md shows
  // "secrets is forbidden: User "system:serviceaccount:gitlab:default""): the runner creating that kind.
  const short = full ? undefined : s.last(FORBIDDEN_SHORT)
  const hit = full ?? short
  if (!hit) return []
  const [, kind = '', ns = '', sa = '', verb = short ? 'create' : '', resource = short ? kind : '', group = '', inNs] = hit.m
  const phase = phaseName(hit.line.section)
  const runnerSa = phase === 'prepare_executor' || phase === 'prepare_script' ||
    (phase === '' && /pods|secrets|configmaps/.test(resource) && !s.ev.trace.lines.some((l) => l.text.startsWith('$ ')))
  const role = `apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: ${sa}-${resource.replace(/\//g, '-')}\n  namespace: ${inNs ?? ns}\nrules:\n  - apiGroups: ["${group}"]\n    resources: ["${resource}"]\n    verbs: ["${verb}"]\n---\n# kubectl create rolebinding ${sa}-${resource.replace(/\//g, '-')} --role=${sa}-${resource.replace(/\//g, '-')} --serviceaccount=${ns}:${sa} -n ${inNs ?? ns}`
  const check: Fix = { text: 'Check what is missing.', snippet: `kubectl auth can-i ${verb} ${resource} --as=system:serviceaccount:${ns}:${sa} -n ${inNs ?? ns}` }
  const fixes: Fix[] = runnerSa
    ? [
        { text: 'Let the Helm chart create the runner manager\'s RBAC.', snippet: 'rbac:\n  create: true\nserviceAccount:\n  create: true' },
        { text: `Or grant the runner's service account ${ns}:${sa} the verbs it needs.`, snippet: role },
        check,
      ]
    : [
        { text: 'Run jobs with a dedicated service account bound to a Role with exactly the needed verbs (never widen "default").', snippet: '[runners.kubernetes]\n  service_account = "<ci-deployer>"\n  # or per job: KUBERNETES_SERVICE_ACCOUNT_OVERWRITE with service_account_overwrite_allowed' },
        { text: `Grant that account "${verb}" on ${resource}.`, snippet: role },
        check,
      ]
  return [diagnosis('kubernetes_rbac_forbidden', `Service account ${ns}:${sa} may not ${verb} ${resource}`,
    `${runnerSa ? "The runner manager's" : "The job's"} service account ${ns}:${sa} lacks "${verb}" on ${kind} in namespace ${inNs ?? ns}${runnerSa ? ', so the runner cannot create the build pod' : ', so the API call in the script was refused'}.`,
    evidence(hit), fixes, 0.9)]
}

function userForbidden(s: Scan): Diagnosis[] {
  if (s.has(FORBIDDEN)) return []
  const hit = s.last(FORBIDDEN_USER)
  if (!hit) return []
  const [, kind = '', user = '', verb = '', resource = '', , ns] = hit.m
  return [diagnosis('kubernetes_rbac_forbidden', `${user} may not ${verb} ${resource}`,
    `The cluster knows the identity the script used (${user}, a cloud IAM service account mapped into Kubernetes) but RBAC gives it no "${verb}" on ${kind}${ns ? ` in namespace ${ns}` : ''}.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: `Bind a Role (or ClusterRole) with "${verb}" on ${resource} to that user${ns ? ` in ${ns}` : ''}.`, snippet: `kubectl create rolebinding ci-${verb}-${resource.replace(/\//g, '-')} --clusterrole=edit --user=${user}${ns ? ` -n ${ns}` : ''}` },
      { text: 'Or grant the permission on the cloud side (GKE: an IAM role such as roles/container.developer; EKS: the aws-auth / access entry mapping).' },
      { text: 'Check what is missing.', snippet: `kubectl auth can-i ${verb} ${resource} --as=${user}${ns ? ` -n ${ns}` : ''}` },
    ], 0.85)]
}

function nonRootImage(s: Scan): Diagnosis[] {
  const hit = s.last(NON_ROOT_IMAGE)
  if (!hit) return []
  return [diagnosis('kubernetes_admission_denied', 'The pod requires non-root, and the image runs as root',
    `"${hit.line.text.replace(/^ERROR: /, '').trim().slice(0, 200)}": the pod's security context (runAsNonRoot, from config.toml or the namespace's policy) forbids root, and the image's USER is root or not numeric, so the kubelet will not start the container.`,
    evidence(hit), [
      { text: 'Give the containers a numeric non-root user.', snippet: '[runners.kubernetes.pod_security_context]\n  run_as_non_root = true\n  run_as_user = 1000' },
      { text: 'Or use an image whose USER is a numeric non-root uid.' },
    ], 0.6)]
}

// kubectl with no kubeconfig at all falls back to localhost:8080 (kubectl pkg/cmd/util/helpers.go).
// kubectl's fallback to localhost:8080, and client-go's own words in tools built on it (helm, chart-verifier, operators' CLIs).
const NO_KUBECONFIG = /The connection to the server localhost:8080 was refused - did you specify the right host or port\?|invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER|Kubernetes cluster unreachable: Get "?https?:\/\/localhost:8080\/version|unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined/

function scriptKubeconfig(s: Scan): Diagnosis[] {
  // The runner's own words for its config are kubernetes_config_missing (noConfig below).
  const hit = s.all(NO_KUBECONFIG).filter((h) => !/getting Kubernetes config:|Preparation failed|prepare environment:/.test(h.line.text)).pop()
  // A probe before selecting a context (kubectl version, then use-context) is not the failure.
  if (!hit || s.ev.trace.lines.some((l) => l.n > hit.line.n && /^Switched to context|^Context "[^"]+" modified/.test(l.text))) return []
  return [diagnosis('script_kubeconfig_missing', /The connection to the server localhost:8080/.test(hit.line.text) ? 'kubectl in the script has no cluster configured' : 'A Kubernetes client in the script has no cluster configured', `${/The connection to the server localhost:8080/.test(hit.line.text) ? 'kubectl found no kubeconfig and fell back to localhost:8080, where nothing listens' : 'A Kubernetes client in the script (kubectl, helm or a tool built on client-go) found no kubeconfig'}: the job has no KUBECONFIG (a file variable that is protected is empty on unprotected branches), the GitLab agent\'s context was not selected, or the image expects in-cluster credentials it does not have.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'With the GitLab agent for Kubernetes, select its context first.', snippet: 'script:\n  - kubectl config use-context <group>/<agent project>:<agent name>' },
      { text: 'Or pass a kubeconfig as a file-type CI/CD variable named KUBECONFIG (check its protected/environment scope).', snippet: 'variables:\n  KUBECONFIG: $KUBE_CONFIG_FILE' },
      { text: 'On the Kubernetes executor, a service account token is mounted only if the job\'s service account allows it.', snippet: '[runners.kubernetes]\n  service_account = "<deployer>"\n  automount_service_account_token = true' },
    ], 0.85)]
}

// The API refused the runner's own credentials (401) during the job or its clean-up: a revoked token, or
// a service account deleted while jobs ran (helm uninstall). Prepare errors end with the runner's
// shell-profile link.
const RUNNER_UNAUTHORIZED = /^(?:ERROR: )?(?:Error cleaning up (?:pod|secrets|configmaps?|services?)|Job failed \(system failure\)|.*(?:setting up (?:build pod|credentials|scripts configMap)|waiting for pod running)): (?:Unauthorized|the server has asked for the client to provide credentials)(?:\. Check https:\/\/docs\.gitlab\.com\S*.*)?\s*$/

function runnerUnauthorized(s: Scan): Diagnosis[] {
  const hit = s.last(RUNNER_UNAUTHORIZED)
  if (!hit || (s.family !== 'kubernetes' && !s.has(/Error cleaning up (?:pod|secrets)|prepare environment:/))) return []
  return [diagnosis('kubernetes_api_unauthorized', 'The cluster no longer accepts the runner\'s credentials', 'The Kubernetes API answered Unauthorized to the runner itself: its token was revoked or expired, or its service account was deleted while the job ran (for example by a helm uninstall or upgrade of the runner chart).',
    evidence(hit), [
      { text: 'Check that the runner\'s service account and its role binding still exist, then restart the runner pod so it reads a fresh token.', snippet: 'kubectl -n <runner namespace> get serviceaccount,rolebinding\nkubectl -n <runner namespace> rollout restart deployment/<runner>' },
      { text: 'Do not uninstall or reinstall the runner chart while jobs run; pods left behind by the failed clean-up must be removed by hand.', snippet: 'kubectl -n <job namespace> delete pod -l pod=runner-<token prefix>' },
    ], 0.65)]
}

function pending(s: Scan): Diagnosis[] {
  if (s.has(PULL_TROUBLE)) return [] // later, more specific: the image pull is the problem
  const waiting = s.last(PENDING)
  const reason = s.last(SCHEDULE_REASON)
  const timeout = s.last(POD_TIMEOUT)
  // "Pending" alone is normal for a few polls; it is the failure only when the job got no further.
  const gotFurther = waiting !== undefined && s.ev.trace.lines.some((l) => l.n > waiting.line.n && /^Running on |^\$ |^Getting source|^Fetching changes|^Cloning/.test(l.text))
  // The runner's own give-up ("timed out waiting for pod to start (last phase: Pending)") stands alone in pasted excerpts.
  if (!reason && !timeout && !(waiting && !gotFurther)) return []
  const why = reason?.line.text ?? ''
  const quota = /exceeded quota/.test(why)
  // A quota refuses the object at admission (any kind, pods too): no pod was left Pending unless the runner waited for one.
  if (quota && !waiting) return []
  const placement = /affinity|selector|taint|didn't match/.test(why)
  const fixes: Fix[] = [
    { text: 'Right-size the requests of the build, helper and service containers to what a node can offer.', snippet: '[runners.kubernetes]\n  cpu_request = "500m"\n  memory_request = "1Gi"\n  helper_cpu_request = "100m"\n  helper_memory_request = "128Mi"\n  service_cpu_request = "250m"\n  service_memory_request = "256Mi"' },
    { text: 'Fix placement (node selector / tolerations must match real nodes), or add nodes / enable the cluster autoscaler.', snippet: '[runners.kubernetes.node_selector]\n  "kubernetes.io/os" = "linux"\n[[runners.kubernetes.node_tolerations]]\n  "<taint key>=<value>" = "NoSchedule"' },
    { text: 'Raise poll_timeout only when scale-up is slow, not when scheduling is impossible.', snippet: '[runners.kubernetes]\n  poll_timeout = 600' },
  ]
  if (placement) fixes.unshift(fixes.splice(1, 1)[0] as Fix)
  if (quota) fixes.unshift({ text: 'The namespace ResourceQuota is exhausted: raise it or lower the requests/limits (a LimitRange may impose defaults).', snippet: `kubectl describe resourcequota -n ${waiting?.m[1]?.split('/')[0] ?? '<namespace>'}` })
  return [diagnosis('pod_pending_unschedulable', 'The build pod was never scheduled',
    `The pod ${waiting?.m[1] ?? ''} stayed Pending${reason ? `: ${why.trim()}` : ' until the runner gave up'}. ${quota ? 'The namespace quota' : placement ? 'No node matches its selector/affinity/tolerations' : 'No node has room for its requests (build + helper + services)'}.`.replace('  ', ' '),
    evidence(waiting, reason, timeout), fixes, reason ? 0.9 : timeout && waiting ? 0.75 : timeout ? 0.65 : 0.6)]
}

function oom(s: Scan): Diagnosis[] {
  if (s.has(TIMEOUT)) return []
  // ENOMEM from io_uring or mlock is the locked-memory limit (RLIMIT_MEMLOCK), not the memory the job used.
  // A thread the JVM could not create because seccomp refused clone3 (EPERM) is not memory (script.ts).
  const eperm = s.has(/pthread_create failed \(EPERM\)/)
  // jest-worker gives up ("Call retries were exceeded") on any worker death: a crash signal says it was not memory.
  const crashed = s.has(/terminated by another process: signal=SIG(?:SEGV|ABRT|BUS|ILL|FPE)\b/)
  const hits = s.all(OOM).filter((h) => !/io_uring|mlock|memlock|RLIMIT_MEMLOCK/i.test(h.line.text) && !(eperm && /unable to create native thread/.test(h.line.text)) && !(crashed && /Call retries were exceeded/.test(h.line.text)))
  const strong = hits.filter((h) => !/exit (?:code|status):? 137|Process Exit Code: 137|Call retries were exceeded|^Killed$|signal: killed|signal SIGKILL|daemon disappeared unexpectedly|daemon has disappeared|EXIT STRING: Killed/.test(h.line.text)).pop()
  const hit = strong ?? hits.pop()
  if (!hit && s.ev.trace.exitCode !== 137) return []
  const text = hit?.line.text ?? ''
  const php = /Allowed memory size of/.test(text)
  const lang: Fix | undefined = php
    ? { text: 'PHP: raise (or lift) memory_limit for the command; Composer reads COMPOSER_MEMORY_LIMIT.', snippet: 'variables:\n  COMPOSER_MEMORY_LIMIT: "-1"\nscript:\n  - php -d memory_limit=-1 vendor/bin/phpstan analyse' }
    : /JavaScript heap/.test(text)
    ? { text: 'Node.js: cap the heap below the container limit.', snippet: 'variables:\n  NODE_OPTIONS: "--max-old-space-size=3072"' }
    : /java\.lang\.OutOfMemoryError/.test(text)
      ? { text: 'JVM: set the heap explicitly below the limit (and avoid AlwaysPreTouch).', snippet: 'variables:\n  JAVA_TOOL_OPTIONS: "-Xmx2g -XX:MaxRAMPercentage=75"' }
      : /LNK1102|C1060/.test(text)
        ? { text: 'MSVC: the 32-bit host toolset runs out of address space long before the machine does; use the 64-bit host tools, and fewer parallel compiles.', snippet: 'msbuild app.sln /p:PreferredToolArchitecture=x64 /m:2\n# CMake: cmake -T host=x64 ...' }
      : /Not enough memory to run compilation/.test(text)
        ? { text: 'Kotlin: the Kotlin compile daemon is a JVM of its own (org.gradle.jvmargs does not reach it): give it more heap in gradle.properties.', snippet: '# gradle.properties\nkotlin.daemon.jvmargs=-Xmx3g' }
      : /cc1\w*|lto1|f951|Killed signal/.test(text)
        ? { text: 'Compilers: lower build parallelism.', snippet: 'script:\n  - make -j2' }
        : undefined
  const limit: Fix = s.family === 'kubernetes'
    ? { text: 'Raise the build container memory limit (or per job with KUBERNETES_MEMORY_LIMIT, bounded by memory_limit_overwrite_max_allowed).', snippet: '[runners.kubernetes]\n  memory_limit = "4Gi"\n  memory_request = "2Gi"\n  memory_limit_overwrite_max_allowed = "8Gi"' }
    : { text: 'Raise the container memory limit on the runner.', snippet: '[runners.docker]\n  memory = "4g"\n  memory_swap = "4g"' }
  const msvc = /LNK1102|C1060/.test(text)
  const fixes = [...(msvc ? [] : [limit]), ...(lang ? [lang] : [{ text: 'Cap the tools\' memory (-Xmx, NODE_OPTIONS=--max-old-space-size, fewer parallel jobs).' }]), { text: 'Or run the job on a bigger runner tier (tags:).' }]
  if (lang && !msvc) fixes.unshift(fixes.splice(1, 1)[0] as Fix)
  return [diagnosis('oom_killed', 'The job ran out of memory',
    php ? `PHP stopped at its own memory_limit ("${text.trim().slice(0, 160)}"), before the container's limit: raise memory_limit for this command (and the container's memory if it then gets killed).`
      : strong ? `The process was killed for memory: "${text}".`
        : /Call retries were exceeded/.test(text) ? `"${text.trim()}": a worker process of the build died and was not restarted; most often the kernel's OOM killer (a parallel build in a container with little memory).`
        : 'Exit code 137 is SIGKILL: almost always the OOM killer enforcing the memory limit (rule out an external kill; there is no timeout message).',
    evidence(hit), fixes, strong ? 0.9 : 0.6)]
}

/** The API's own refusals: admission policies, quotas on any object, and attach/exec into a named container. */
function apiRefusals(s: Scan): Diagnosis[] {
  const out: Diagnosis[] = []
  const admission = s.last(ADMISSION)
  if (admission) {
    const who = admission.m[1] ?? (admission.m[2] ? `PodSecurity ${admission.m[2]}` : 'an admission policy')
    out.push(diagnosis('kubernetes_admission_denied', `The cluster's admission control refused the build pod (${who})`,
      `"${admission.line.text.trim().slice(0, 200)}": a policy (admission webhook, Pod Security level, Gatekeeper/Kyverno) rejects the pod the runner creates, usually for privileged mode, host paths, running as root or a missing label.`,
      evidence(admission), [
        { text: 'Read the policy\'s message and make the pod comply: no privileged, run as non-root, drop capabilities.', snippet: '[runners.kubernetes]\n  privileged = false\n  [runners.kubernetes.pod_security_context]\n    run_as_non_root = true\n    run_as_user = 1000' },
        { text: 'Or run the runner\'s jobs in a namespace whose policy allows them (label the namespace / add an exception for the runner).', snippet: 'kubectl label ns <ci namespace> pod-security.kubernetes.io/enforce=baseline --overwrite' },
      ], 0.85))
  }
  const quota = s.last(QUOTA)
  if (quota) {
    const name = quota.m[1] ?? quota.m[3] ?? quota.m[4]
    const unset = /must specify/.test(quota.line.text)
    out.push(diagnosis('kubernetes_quota_exceeded', `A namespace quota${name ? ` (${name})` : ''} refused an object of the job`,
      `"${quota.line.text.trim().slice(0, 200)}": the ResourceQuota or LimitRange of the namespace is used up (pods, CPU/memory, or objects such as secrets and configmaps the runner creates per job).`,
      evidence(quota), [
        ...(unset ? [{ text: 'The quota covers limits, so every container must set them: give the build, helper and service containers limits (or let a LimitRange set defaults).', snippet: '[runners.kubernetes]\n  cpu_limit = "1"\n  memory_limit = "2Gi"\n  helper_cpu_limit = "500m"\n  helper_memory_limit = "256Mi"\n  service_cpu_limit = "1"\n  service_memory_limit = "1Gi"' }] : []),
        { text: 'See what is used and what is left.', snippet: 'kubectl describe resourcequota -n <namespace>\nkubectl describe limitrange -n <namespace>' },
        { text: 'Raise the quota, or lower the runner\'s requests/limits and concurrency; clean up leftover objects of old jobs.', snippet: '[runners.kubernetes]\n  cpu_request = "500m"\n  memory_request = "1Gi"' },
      ], 0.85))
  }
  const attach = s.all(ATTACH).filter((h) => !/No such container: [0-9a-f]{12}/.test(h.line.text)).pop()
  if (attach && (s.family === 'kubernetes' || /pod|container not found \(|dialing backend/.test(attach.line.text))) {
    const container = attach.m[1] ?? attach.m[2]
    out.push(diagnosis('kubernetes_attach_failed', `The runner could not attach to${container ? ` the ${container} container of` : ''} the build pod`,
      `"${attach.line.text.trim().slice(0, 200)}": the runner talks to job containers through the API server's attach/exec; the container was gone (killed, evicted, OOM) or the API server could not reach the kubelet.`,
      evidence(attach), [
        { text: 'Check what happened to the pod and its node at that time.', snippet: 'kubectl get events -n <namespace> --sort-by=.lastTimestamp | tail -30\nkubectl describe node <node>' },
        { text: 'Upgrade the runner (attach/exec handling was fixed several times) or switch strategy.', snippet: '[runners.feature_flags]\n  FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY = false' },
        { text: 'If containers are killed for memory, raise the helper/build limits.', snippet: '[runners.kubernetes]\n  helper_memory_limit = "256Mi"' },
      ], 0.7))
    // The build container itself gone right away: an image without a shell exits as soon as it starts.
    if (container === 'build' && /container not found/.test(attach.line.text)) {
      const image = s.image()
      out.push(diagnosis('image_missing_shell', `Or: the job image${image ? ` ${image}` : ''} has no shell and exited at once`,
        'The runner keeps the build container alive with a shell; an image without one (kaniko executor, distroless, scratch) exits at once, and the attach then finds no "build" container.',
        evidence(attach), [
          { text: 'Use the image\'s debug/busybox variant and clear its entrypoint.', snippet: 'image:\n  name: gcr.io/kaniko-project/executor:debug\n  entrypoint: [""]' },
        ], /kaniko-project\/executor(?!:debug)|distroless|(?:^|\/)scratch(?::|$)/.test(image ?? '') ? 0.8 : 0.5))
    }
  }
  return out
}

function apiServer(s: Scan): Diagnosis[] {
  const webhook = s.last(WEBHOOK_FAILED) ?? s.last(API_TIMEOUT)
  const list: Fix = { text: 'List the admission webhooks and see which one intercepts the runner\'s pods and secrets.', snippet: 'kubectl get validatingwebhookconfiguration,mutatingwebhookconfiguration -o yaml' }
  if (webhook) {
    const name = webhook.m[1]
    return [diagnosis('kubernetes_admission_denied', `An admission webhook${name ? ` (${name})` : ''} blocks the runner's API calls`,
      `"${webhook.line.text.replace(/^ERROR: /, '').trim().slice(0, 200)}": ${name ? `the API server could not call the webhook ${name}` : 'an admission webhook did not answer in time'}, so it refused the objects the runner creates for the job (build pod, credentials secret).`,
      evidence(webhook), [
        { text: 'Make the webhook skip the runner\'s namespace or pods (its namespaceSelector/objectSelector), or give the runner\'s pods its opt-out label.', snippet: '[runners.kubernetes.pod_labels]\n  "admission.datadoghq.com/enabled" = "false"   # example: Datadog\'s admission controller' },
        list,
        { text: 'Check the webhook\'s own service and pods (down or slow) and its timeoutSeconds / failurePolicy.' },
        ...(/x509|certificate/.test(webhook.line.text) ? [{ text: 'The API server does not trust the webhook\'s certificate: fix the caBundle of the webhook configuration (cert-manager\'s cainjector usually keeps it in sync).', snippet: 'kubectl get mutatingwebhookconfiguration -o jsonpath=\'{.items[*].webhooks[*].clientConfig.caBundle}\'' }] : []),
      ], name ? 0.9 : 0.65)]
  }
  const busy = s.last(API_OVERLOAD)
  if (!busy) return []
  return [diagnosis('transient_failure', 'The Kubernetes API server did not answer in time',
    `"${busy.line.text.replace(/^ERROR: /, '').trim().slice(0, 200)}": kube-apiserver (or etcd behind it) timed out on the runner's request; the job never started. Such failures usually pass on retry; if they repeat, the control plane is overloaded.`,
    evidence(busy), [
      retryFix(),
      { text: 'Check kube-apiserver and etcd health and latency (request durations, error rates for pods/secrets).', snippet: 'kubectl get --raw=/readyz?verbose\nkubectl get --raw=/metrics | grep apiserver_request_duration_seconds_bucket | head' },
      list,
    ], 0.6)]
}

// The runner found no API server to talk to: client-go's clientcmd.ErrEmptyConfig and
// rest.ErrNotInCluster, wrapped by gitlab-runner ("getting Kubernetes config: %w"), and glrun's own words.
const NO_CONFIG = /invalid configuration: no configuration has been provided|unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined|there is no Kubernetes API to create job pods with/

function noConfig(s: Scan): Diagnosis[] {
  // The runner's own words only: helm and kubectl in a job's script say the same of *their* config.
  const hit = s.all(NO_CONFIG).filter((h) => /getting Kubernetes config:|Preparation failed|prepare environment:|there is no Kubernetes API/.test(h.line.text) && !s.commandAt(h.line.n)).pop()
  if (!hit) return []
  return [diagnosis('kubernetes_config_missing', 'The runner has no Kubernetes cluster to create the job pod in',
    'The kubernetes executor found no API server: [runners.kubernetes] has no host, the runner does not run inside a cluster (no service account mounted), and the user the runner runs as has no kubeconfig. No pod was created.',
    evidence(hit), [
      { text: 'Runner outside the cluster: point it at the API server in config.toml, with the cluster\'s CA and a service account token.', snippet: '[runners.kubernetes]\n  host = "https://<api server>:6443"\n  ca_file = "/etc/gitlab-runner/k8s-ca.crt"\n  bearer_token = "<service account token>"\n  namespace = "gitlab-runner"' },
      { text: 'Or give the runner\'s user a kubeconfig (the service runs as gitlab-runner, not root).', snippet: 'sudo mkdir -p /home/gitlab-runner/.kube && sudo cp ~/.kube/config /home/gitlab-runner/.kube/config\nsudo chown -R gitlab-runner: /home/gitlab-runner/.kube' },
      { text: 'Or run the runner inside the cluster (the Helm chart), where it uses its pod\'s service account.' },
    ], 0.85)]
}

export const kubernetesRule: Rule = {
  id: 'kubernetes',
  categories: ['kubernetes_rbac_forbidden', 'pod_pending_unschedulable', 'oom_killed', 'kubernetes_admission_denied', 'kubernetes_quota_exceeded', 'kubernetes_attach_failed', 'image_missing_shell', 'transient_failure', 'kubernetes_config_missing', 'script_kubeconfig_missing', 'kubernetes_api_unauthorized'],
  match(ev) {
    const s = Scan.of(ev)
    return [...rbac(s), ...userForbidden(s), ...nonRootImage(s), ...scriptKubeconfig(s), ...runnerUnauthorized(s), ...pending(s), ...oom(s), ...apiRefusals(s), ...apiServer(s), ...noConfig(s)]
  },
}
