import { type Hit, Scan, diagnosis, evidence, phaseName } from '../scan.js'
import { imageName, mirrorFix, pullPolicyFix, registryOf } from '../snippets.js'
import type { Diagnosis, Fix, ProbeResult, Rule } from '../types.js'

/**
 * Image pulls and references. A pull fails for four unrelated reasons that need opposite fixes
 * (missing tag, credentials, rate limit, network), and the Kubernetes job log often shows only
 * "Back-off pulling image": then the kubelet's reason is elsewhere (pod events) and the rule
 * says so, ranks the candidates, and lets registry probes decide when they exist.
 */

const NOT_FOUND = /manifest for \S+ not found|manifest unknown|repository does not exist|failed to resolve reference "[^"]+": [^\n]*not found|(?<![\w./-])[\w.-]+\/[\w./-]+:[\w.-]+: not found$|code = NotFound|no matching manifest for ([\w/]+)|name unknown|repository \S+ not found|is not present with pull policy of Never|Error: image \S+ not found|policies \[never\]: .*No such image/i
const AUTH = /error getting credentials|UNAUTHORIZED: (?:unauthorized to access repository|authentication required)|unauthorized: (?:authentication required|HTTP Basic: Access denied|access to the requested resource is not authorized)|no basic auth credentials|denied: access forbidden|access to the resource is denied|requested access to the resource is denied|You don't have the needed permissions|Cannot perform an interactive login|\b401 Unauthorized|authentication required|unauthorized: incorrect username or password|unexpected status(?: code)?(?: from (?:GET|HEAD|PUT|POST|PATCH) request to \S+)?: 40[13]\b|insufficient_scope|Get "?https:\/\/[^"\s]+\/v2\/[^"\s]*"?: unauthorized|Get "?https:\/\/[^"\s/]+\/v2\/"?: denied|logging into "[^"]+": invalid username\/password|Requesting bearer token: (?:received unexpected HTTP status|invalid status code from registry):? 40[13]|Error saving credentials: error storing credentials|received unexpected HTTP status code 40[13] while retrieving an authentication token/i
const RATE = /toomanyrequests|pull rate limit|429 Too Many Requests|too many requests to registry/i
const BACKOFF = /Back-off pulling image "([^"]+)"|ImagePullBackOff|ErrImagePull/
const PULL_CONTEXT = /pull|image|manifest|Error response from daemon|\/v2\/|registry|docker login|docker push|reference|source metadata|load metadata for/i
// containers/image (podman, buildah) with short-name-mode enforcing and no unqualified-search registry: the name needs its registry.
const INVALID_REF = /invalid reference format|repository name must be lowercase|InvalidImageName|could(?:n't| not) parse (?:image )?reference|Failed to apply default image tag|short-name "[^"]+" did not resolve to an alias|short-name resolution enforced but cannot prompt without a TTY/i
// The FROM being built (classic builder "Step 1/4 : FROM x", BuildKit "#5 [1/3] FROM x" or its
// Dockerfile excerpt ">>> FROM x"), and BuildKit's own wording for an empty base name.
const DOCKERFILE_FROM = /(?:Step \d+\/\d+ : FROM|\|\s*>>>\s*FROM|#\d+ \[[^\]]*\] FROM)\s+(\S+)/i
const BUILDKIT_STAGE = /failed to parse stage name|base name \(.*\) should not be blank/
const HELPER = /gitlab-runner-helper|for container (?:helper|init-permissions)\b/
// Any failed pull of the helper, whatever the reason (DNS, timeout, tag): the helper advice comes first.
// Docker ("failed to pull image", "Failed to pull image with policy …"), containerd ("failed to resolve reference"),
// podman ("initializing source docker://…") and the kubelet ("Back-off pulling image").
const HELPER_PULL = /(?:failed to pull image|Failed to pull image(?: with policy "[^"]*":.*?)?|pulling image|Back-off pulling image|failed to resolve reference|initializing source docker:\/\/|pull access denied for|manifest for)\s?"?[^"\s]*gitlab-runner-helper/

function imageIn(s: Scan, hit: Hit): string {
  return BACKOFF.exec(hit.line.text)?.[1] ?? imageName(hit.line.text) ?? s.image() ?? '<image>'
}

// (Output of `docker compose run`, `docker run`, `docker exec` is the application's, not the image tool's.)
const IMAGE_TOOLS = /^\$ (?:sudo )?(?:docker(?! (?:compose |container )?(?:run|exec|up)\b)|podman(?! (?:run|exec)\b)|buildah|skopeo|crane|\/kaniko\/executor|helm|nerdctl)\b|^\$ .*\|\s*(?:sudo )?(?:docker|podman|buildah|skopeo|nerdctl) login\b/

// Wordings only a container registry (distribution's errcode texts) answers: no other context needed.
// (Not OAuth's generic insufficient_scope: GitLab's API answers it too.)
const REGISTRY_ONLY = /^denied: requested access to the resource is denied$|no basic auth credentials|^unauthorized: authentication required$/

function pullHits(s: Scan, re: RegExp): Hit[] {
  return s.all(re).filter((h) => PULL_CONTEXT.test(h.line.text) || REGISTRY_ONLY.test(h.line.text) || phaseName(h.line.section) === 'prepare_executor' ||
    IMAGE_TOOLS.test(s.commandAt(h.line.n)?.text ?? ''))
}

function notFound(s: Scan, hit: Hit, image: string): Diagnosis[] {
  const arch = NOT_FOUND.exec(hit.line.text)?.[1]
  const maybePrivate = /pull access denied|may require 'docker login'/.test(hit.line.text)
  // kubelet's ErrImageNeverPull: the node was told never to pull and does not have the image.
  // The runner's Docker executor with pull_policy ["never"]: "failed to pull image … with specified policies [never]: … No such image".
  if (/pull policy of Never|policies \[never\]/.test(hit.line.text)) {
    const k8s = /pull policy of Never/.test(hit.line.text)
    return [diagnosis('image_not_found', `Image ${image} is not on the ${k8s ? 'node' : 'runner host'}, and the pull policy forbids pulling it`,
      `The pull policy is "never", so only images already on the ${k8s ? 'node (the kubelet' : 'host (Docker'} never pulls) are used, and ${image} is not there (built on another ${k8s ? 'node' : 'host'} or machine, or removed by image clean-up).`,
      evidence(hit), [
        { text: 'Let the runner pull the image when it is missing.', snippet: `[runners.${k8s ? 'kubernetes' : 'docker'}]\n  pull_policy = ["if-not-present"]` },
        { text: 'Or push the image to a registry the nodes can reach and reference it by that name.', snippet: `image: <registry>/${image}` },
      ], 0.85)]
  }
  const out = [diagnosis('image_not_found', `Image ${image} does not exist${arch ? ` for ${arch}` : ''}`,
    arch ? `${image} has no variant for ${arch}.` : `The registry has no ${image}: a typo, a tag that was never pushed or was removed upstream, or a floating tag like latest that is not published.${maybePrivate ? ' Docker Hub says "pull access denied" both for missing and for private repositories.' : ''}`,
    evidence(hit), [
      { text: `Point image:/services: to a tag that exists (pin explicit versions). Check with: docker manifest inspect ${image}`, snippet: `image: ${image.replace(/:[^:/]*$/, '')}:<existing tag>` },
      { text: 'If the image is built by an earlier job, make sure it is pushed before this job runs.', snippet: 'needs: ["<job that builds and pushes the image>"]' },
      ...(arch ? [{ text: 'Pick a multi-arch tag or an image built for this architecture.' }] : []),
    ], maybePrivate ? (registryOf(image) === 'docker.io' ? 0.75 : 0.6) : 0.85)]
  // Docker Hub says "pull access denied" mostly for names that do not exist; a private registry mostly for missing credentials.
  if (maybePrivate) out.push(authDiagnosis(s, hit, image, registryOf(image) === 'docker.io' ? 0.6 : 0.75))
  return out
}

function authDiagnosis(s: Scan, hit: Hit, image: string, confidence: number): Diagnosis {
  const cmd = s.commandAt(hit.line.n)?.text ?? ''
  const login = /\bdocker login\b/.test(cmd) || /Cannot perform an interactive login/.test(hit.line.text)
  const action = login ? 'login' : /\bpush\b/i.test(`${cmd} ${hit.line.text}`) ? 'push' : 'pull'
  // The registry the client talked to: the /v2/ URL, the `docker login <registry>` argument, or the image's.
  const registry = /https?:\/\/([^/"\s]+)\/v2\//.exec(hit.line.text)?.[1] ?? /docker login\b.*\s([a-z0-9.-]+\.[a-z]{2,}(?::\d+)?)\s*$/.exec(cmd)?.[1] ??
    /pulling from host ([\w.:-]+)/.exec(hit.line.text)?.[1] ?? registryOf(image)
  const k8s: Fix = { text: 'Kubernetes: reference a pull secret for job pods.', snippet: '[runners.kubernetes]\n  image_pull_secrets = ["<pull secret name>"]' }
  // docker/cli: the login itself worked, storing it did not: config.json names a credential helper this host lacks.
  const helper = /error storing credentials.*docker-credential-([\w-]+)/.exec(hit.line.text)?.[1]
  if (helper) {
    return diagnosis('registry_auth_failed', `docker login cannot store credentials (docker-credential-${helper} is missing)`,
      `~/.docker/config.json of the user running the job names the credential helper "${helper}" (credsStore), which is not installed here, so docker login fails and later pushes or pulls have no credentials.`,
      evidence(hit, s.commandAt(hit.line.n)), [
        { text: 'Remove the credsStore entry from the runner user\'s ~/.docker/config.json (or install that helper).', snippet: 'sudo -u gitlab-runner sh -c \'jq "del(.credsStore)" ~/.docker/config.json > /tmp/c && mv /tmp/c ~/.docker/config.json\'' },
        { text: 'Or give each job its own Docker config directory.', snippet: 'variables:\n  DOCKER_CONFIG: "$CI_PROJECT_DIR/.docker"' },
      ], confidence)
  }
  return diagnosis('registry_auth_failed', `No valid credentials for ${registry}`,
    `${registry} refused the ${action}${action === 'login' ? '' : ` of ${image}`}: credentials are missing, wrong, expired, lack the registry scope, or DOCKER_AUTH_CONFIG is malformed (invalid JSON, trailing newline in the base64 auth).`,
    evidence(hit, s.commandAt(hit.line.n)), [
      { text: `Provide credentials with a CI/CD variable DOCKER_AUTH_CONFIG (auth = printf %s 'user:token' | base64 -w0, no newline).`, snippet: `{"auths": {"${registry}": {"auth": "<base64 of user:token>"}}}` },
      { text: 'Images from another GitLab project: allow this project in that project\'s CI/CD job token allowlist, or use a deploy token with read_registry.' },
      ...(s.family === 'kubernetes' ? [k8s] : []),
      { text: 'In scripts, log in non-interactively with the job token.', snippet: 'echo "$CI_REGISTRY_PASSWORD" | docker login -u "$CI_REGISTRY_USER" --password-stdin "$CI_REGISTRY"' },
    ], confidence)
}

function rateDiagnosis(s: Scan, hit: Hit, image: string, confidence: number, cause?: string): Diagnosis {
  return diagnosis('registry_rate_limited', `Pull rate limit reached for ${registryOf(image)}`,
    cause ?? `${registryOf(image)} throttled the pull of ${image} (HTTP 429); anonymous Docker Hub pulls are counted per egress IP, shared by every host behind the same NAT.`,
    evidence(hit), [
      { text: 'Authenticate pulls with an account that has a higher limit (CI/CD variable DOCKER_AUTH_CONFIG).' },
      mirrorFix(image),
      pullPolicyFix(image, s.family),
    ], confidence)
}

function egressForPull(s: Scan, hit: Hit, image: string, confidence: number, cause: string): Diagnosis {
  return diagnosis('egress_blocked_firewall', `The node cannot reach ${registryOf(image)} to pull ${image}`, cause, evidence(hit), [
    { text: `Open egress TCP 443 (and 80) from the nodes to ${registryOf(image)} and its blob storage.` },
    { text: 'Or configure the container runtime\'s proxy (containerd/dockerd systemd drop-in HTTPS_PROXY/NO_PROXY).' },
    mirrorFix(image),
    pullPolicyFix(image, s.family),
  ], confidence)
}

/** A bare back-off: no reason in the log. Probes decide; otherwise rank by who hosts the image. */
function backoff(s: Scan, hit: Hit, image: string): Diagnosis[] {
  const failed = s.probes({ kind: 'registry', ok: false }).concat(s.probes({ kind: 'tcp', ok: false }), s.probes({ kind: 'dns', ok: false }))
  const probe: ProbeResult | undefined = failed[0]
  const told = 'The job log only says "Back-off pulling image"; the kubelet\'s reason is in the pod events (kubectl describe pod).'
  if (probe) {
    const why = `${probe.summary} ${String(probe.detail?.['error'] ?? '')}`
    const seen = `A ${probe.kind} probe of ${probe.target} from the ${probe.from} ${probe.from === 'runner' ? 'host' : 'network'} failed: ${probe.summary}.`
    if (/timeout|timed out|no route|unreachable/i.test(why)) return [egressForPull(s, hit, image, 0.9, `${seen} The node cannot open a connection to the registry, so the pull backs off.`)]
    if (/429|rate/i.test(why)) return [rateDiagnosis(s, hit, image, 0.9, seen)]
    if (/401|403|unauthori|denied/i.test(why)) return [authDiagnosis(s, hit, image, 0.9)]
    if (/404|not found|manifest unknown/i.test(why)) return notFound(s, hit, image).map((d) => ({ ...d, confidence: 0.9 }))
  }
  const hub = registryOf(image) === 'docker.io'
  const [egress, rate, missing, auth] = hub ? [0.55, 0.45, 0.4, 0.3] : [0.4, 0.2, 0.45, 0.5]
  const out = [
    egressForPull(s, hit, image, egress, `${told} ${hub ? `${image} is a public Docker Hub image, so a missing tag or credentials are unlikely; the` : 'The'} usual cause is a node that cannot reach ${registryOf(image)} (firewall, proxy, no NAT): check \`docker pull ${image}\` / \`crictl pull ${image}\` on the node (i/o timeout vs refused vs DNS).`),
    ...notFound(s, hit, image).filter((d) => d.category === 'image_not_found').map((d) => ({ ...d, cause: `${told} Check the tag exists: ${d.cause}`, confidence: missing })),
    authDiagnosis(s, hit, image, auth),
  ]
  if (hub) out.push(rateDiagnosis(s, hit, image, rate))
  return out
}

function pulls(s: Scan): Diagnosis[] {
  const reasons: [RegExp, (h: Hit, image: string) => Diagnosis[]][] = [
    [RATE, (h, i) => [rateDiagnosis(s, h, i, 0.9)]],
    [NOT_FOUND, (h, i) => notFound(s, h, i)],
    // Docker Hub (and podman reading its manifest) says "requested access … is denied" for names that do not exist too.
    [AUTH, (h, i) => [authDiagnosis(s, h, i, 0.85), ...(/reading manifest .* requested access to the resource is denied/.test(h.line.text) && registryOf(i) === 'docker.io' ? notFound(s, h, i).filter((d) => d.category === 'image_not_found').map((d) => ({ ...d, confidence: 0.55 })) : [])]],
  ]
  const helperHit = s.last(HELPER_PULL)
  if (helperHit) return helper(s, helperHit, imageIn(s, helperHit))
  for (const [re, make] of reasons) {
    // distribution answers "manifest unknown: OCI … found, but accept header does not support …" to a client
    // that cannot read OCI media types: the image exists (manifest-format.ts).
    const hit = pullHits(s, re).filter((h) => !/FATAL: file does not exist|cache/i.test(h.line.text) && !/OCI (?:manifest|index) found, but/i.test(h.line.text)).pop()
    if (!hit) continue
    const image = imageIn(s, hit)
    if (HELPER.test(hit.line.text) || /gitlab-runner-helper/.test(image)) return helper(s, hit, image)
    return make(hit, image)
  }
  const hit = s.last(BACKOFF)
  if (!hit) return []
  const image = imageIn(s, hit)
  if (HELPER.test(hit.line.text) || /gitlab-runner-helper/.test(image)) return helper(s, hit, image)
  const explained = s.has(/i\/o timeout|connection timed out|no such host|x509|HTTP response to HTTPS client|invalid reference/i)
  return explained ? [] : backoff(s, hit, image)
}

function helper(s: Scan, hit: Hit, image: string): Diagnosis[] {
  // The pull request itself never reached the daemon (its Engine API timed out or refused): the worker is gone, not the registry (runner.ts).
  if (/"https?:\/\/[\d.]+:237[56]\/v\d+\.\d+\/images\/create\?[^"]*": dial tcp/.test(hit.line.text)) return []
  const version = s.runnerVersion() ?? '<runner version>'
  // A throttled pull says why it failed: the helper image is only where it happened.
  const rate = RATE.test(hit.line.text) || s.has(RATE)
  const out = rate ? [rateDiagnosis(s, hit, image, 0.9, `${registryOf(image)} throttled the pull of the runner's helper image ${image} (HTTP 429): anonymous Docker Hub pulls are counted per egress IP, shared by every node behind the same NAT. Older runners (and helper_image settings) pull the helper from Docker Hub; current ones use registry.gitlab.com.`)] : []
  return [...out, diagnosis('helper_image_pull_failed', 'The runner\'s helper image cannot be pulled',
    `The helper image ${image} (git, artifacts and cache run in it) could not be pulled, so the job fails before get_sources. ${/unexpected status: 5\d\d|\b50[234] (?:Bad Gateway|Service Unavailable|Gateway Time-?out)/i.test(hit.line.text) ? `${registryOf(image)} answered with a server error (an outage on the registry side): retry later, and keep a mirrored copy so jobs do not depend on it.` : s.has(/i\/o timeout|timed out|no such host|server misbehaving|lookup |connection refused/i) ? `The nodes cannot reach ${registryOf(image)}.` : 'The tag may not exist: helper tags are <arch>-v<runner version>, there is no plain "latest".'}`,
    evidence(hit), [
      { text: 'Mirror the helper image into a registry the nodes can reach and point the runner at it, with the tag matching the runner version and architecture.', snippet: `[runners.${s.family === 'kubernetes' ? 'kubernetes' : 'docker'}]\n  helper_image = "<your registry>/gitlab-runner-helper:x86_64-v${version}"` },
      { text: 'Or open egress from the nodes to registry.gitlab.com (TCP 443).' },
      { text: 'Or choose a flavor that is published/reachable.', snippet: `[runners.${s.family === 'kubernetes' ? 'kubernetes' : 'docker'}]\n  helper_image_flavor = "ubuntu"` },
    ], rate ? 0.6 : 0.9)]
}

// executors/docker: a services: entry whose name is empty or not an image reference (a variable that expanded to nothing).
const SERVICE_NAME = /(?:\(system failure\): |Preparation failed: |^ERROR: )invalid service name:\s*(\S*)/

function serviceName(s: Scan): Diagnosis[] {
  const hit = s.last(SERVICE_NAME)
  if (!hit) return []
  const name = hit.m[1] ?? ''
  return [diagnosis('image_reference_invalid', name ? `The service name "${name}" is not an image reference` : 'A service\'s image name is empty',
    `The runner could not start a service of the job: ${name ? `"${name}"` : 'its name is empty'}. A services: entry whose name is a variable (services: [{name: $SERVICE_IMAGE}]) expands to nothing when the variable is not defined for this pipeline (a protected or environment-scoped variable, a typo), and the runner refuses it before the job starts.`,
    evidence(hit), [
      { text: 'Check the job\'s services: in "View merged YAML", and define the variable the name uses for this pipeline (or write the image name out).', snippet: 'services:\n  - name: postgres:16\n    alias: db' },
    ], 0.8)]
}

function references(s: Scan): Diagnosis[] {
  const hit = s.last(INVALID_REF) ?? s.last(BUILDKIT_STAGE)
  if (!hit) return []
  const from = s.all(DOCKERFILE_FROM).filter((h) => h.line.n <= hit.line.n && hit.line.n - h.line.n <= 12).pop()
  // A FROM written with capitals ("registry.example.com/Platform/base:1") is a bad reference, not an empty ARG.
  const stage = /stage name "([^"]*)"/.exec(hit.line.text)?.[1] ?? ''
  const literal = /must be lowercase/.test(hit.line.text) && /[A-Z]/.test(stage) && !stage.includes('$') && !/\$/.test(from?.m[1] ?? '')
  if ((from || BUILDKIT_STAGE.test(hit.line.text)) && !literal) return [buildArg(s, from ?? hit, hit, from?.m[1])]
  const phase = phaseName(hit.line.section)
  // A variable of the script's own command: config.ts names the usual reason first (a protected variable on an
  // unprotected ref); the malformed reference stays the second answer (the variable may be empty for another reason).
  const variable = phase === 'step_script' && userVariables(s.commandAt(hit.line.n)?.text ?? '', s.ev.ciYaml).length > 0
  // In a script the reference is the tool's argument, quoted on the error line; elsewhere it is the job's image.
  const quoted = /reference:? "([^"]*)"|"([^"]*)" is not a valid repository|invalid argument "([^"]*)" for/.exec(hit.line.text)
  const image = variable ? quoted?.[1] ?? quoted?.[2] ?? quoted?.[3] : s.image() ?? imageName(hit.line.text) ?? '<image>'
  const lower = /must be lowercase/.test(hit.line.text)
  const define: Fix = { text: 'Define the variable the image name uses (CI/CD variable or variables:), or fix its name; check "View merged YAML" for the expanded image:.', snippet: 'variables:\n  BUILD_IMAGE: "registry.example.com/group/image:1.0"' }
  const lowercase: Fix = phase === 'step_script'
    ? { text: 'Use lowercase names: $CI_REGISTRY_IMAGE is already lowercased, $CI_PROJECT_PATH is not.', snippet: 'docker build -t "$CI_REGISTRY_IMAGE:$CI_COMMIT_SHORT_SHA" .' }
    : { text: 'Use lowercase names: $CI_REGISTRY_IMAGE is already lowercased, $CI_PROJECT_PATH is not.', snippet: 'image: $CI_REGISTRY_IMAGE:$CI_COMMIT_SHORT_SHA' }
  const yamlImage = /^\s*image:\s*(?:name:\s*)?["']?(\S*\$\S*?)["']?\s*$/m.exec(s.ev.ciYaml ?? '')?.[1]
  return [diagnosis('image_reference_invalid', 'The image reference is malformed',
    lower
      ? 'Image names must be lowercase; $CI_PROJECT_PATH and branch names can contain capitals.'
      : `The image reference${yamlImage ? ` ${yamlImage}` : ''} expanded to an invalid string${image === undefined ? '' : ` (seen as "${image}")`}: usually an undefined or empty variable, a double colon, a leading slash or an http:// prefix.`,
    evidence(hit, phase === 'step_script' ? s.commandAt(hit.line.n) : undefined),
    lower ? [lowercase, { text: 'Or lowercase a computed name in the script.', snippet: 'IMAGE="$(echo "$CI_REGISTRY/$CI_PROJECT_PATH" | tr \'[:upper:]\' \'[:lower:]\')"' }]
      : [define, lowercase, { text: 'Variables used in a Dockerfile need ARG declarations (see dockerfile_build_arg).' }], variable ? 0.55 : 0.8)]
}

function buildArg(s: Scan, from: Hit, hit: Hit, fromExpr: string | undefined): Diagnosis {
  const expr = fromExpr ?? ''
  const vars = [...new Set([...expr.matchAll(/\$\{?(\w+)\}?/g)].map((m) => m[1] ?? ''))]
  const names = vars.length ? vars : ['BASE_IMAGE']
  const args = names.map((v) => `ARG ${v}=<default>`).join('\n')
  const flags = names.map((v) => `--build-arg ${v}="$${v}"`).join(' ')
  return diagnosis('dockerfile_build_arg', 'The Dockerfile uses CI variables that it does not declare',
    `${expr ? `"FROM ${expr}"` : 'The FROM line'} uses ${vars.length ? vars.map((v) => `$${v}`).join(', ') : 'a variable'}: CI variables are environment variables of the job script, a Dockerfile only sees build args it declares with ARG, so the reference expands to an empty name. Passing --build-arg alone is not enough: without an ARG declared before FROM the value is ignored.`,
    evidence(from, hit, s.commandAt(from.line.n)), [
      { text: 'Declare the variables as ARG before the first FROM (global scope), with defaults, and use them in FROM.', snippet: `${args}\n\nFROM ${expr || '$BASE_IMAGE'}` },
      { text: 'Pass the values from the job (this only works together with the ARG declarations above).', snippet: `docker build ${flags} --tag "$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA" .` },
    ], 0.9)
}

/** `$FOO`/`${FOO}` in a command that GitLab does not predefine (CI_*, GITLAB_*...). */
export function userVariables(command: string, ciYaml = ''): string[] {
  return [...new Set([...command.matchAll(/\$\{?([A-Za-z_]\w*)\}?/g)].map((m) => m[1] ?? ''))]
    .filter((v) => !/^(CI|GITLAB|DOCKER|RUNNER|FF|HOME|PATH|PWD|USER)(_|$)/.test(v))
    .filter((v) => !new RegExp(`^\\s*${v}:`, 'm').test(ciYaml)) // defined in the YAML: not a protected-variable gap
}

export const registryRule: Rule = {
  id: 'registry',
  categories: ['image_not_found', 'image_reference_invalid', 'dockerfile_build_arg', 'registry_auth_failed', 'registry_rate_limited', 'helper_image_pull_failed', 'egress_blocked_firewall'],
  match(ev) {
    const s = Scan.of(ev)
    return [...pulls(s), ...references(s), ...serviceName(s)]
  },
}
