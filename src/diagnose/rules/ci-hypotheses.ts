import { ciFacts, floatingTag } from '../ci-facts.js'
import { Scan, diagnosis, evidence } from '../scan.js'
import type { Diagnosis, Rule } from '../types.js'

/**
 * Hypotheses that need the job's YAML (--ci): what the log shows is read against the image,
 * entrypoint, services and variables the pipeline asked for. Each one names the YAML setting
 * in its cause, because that is the evidence the log itself does not carry.
 */

const DAEMON = /Cannot connect to the Docker daemon at|Couldn't connect to Docker daemon|error during connect:|dial tcp: lookup docker\b/i
// Images whose ENTRYPOINT is the tool itself: without `entrypoint: [""]` the runner's script becomes its arguments.
const TOOL_IMAGE = /(?:^|\/)(?:kaniko-project\/executor(?!:debug)|terraform|kubectl|helm|aws-cli|trivy|hadolint|shellcheck|goreleaser|compose|sonar-scanner-cli|packer|argocd|kustomize|skopeo|crane|gitleaks|semgrep)(?::[\w.-]+)?$/

function floatingDind(s: Scan, f: NonNullable<ReturnType<typeof ciFacts>>): Diagnosis[] {
  const conn = s.last(DAEMON)
  const dind = f.services.find((x) => /dind/.test(x.name) && floatingTag(x.name))
  if (!conn || !dind) return []
  return [diagnosis('dind_image_regression', `The dind service ${dind.name} follows a moving tag`,
    `The .gitlab-ci.yml starts ${dind.name}: each new Docker release replaces what that tag runs, with new defaults (TLS, iptables backend, storage driver, API versions). When a pipeline that did not change starts failing to reach the daemon, the new release is the first suspect.`,
    evidence(conn), [
      { text: 'Pin the service and the client image to the same version, the last one that worked.', snippet: `image: docker:<version>\nservices:\n  - docker:<version>-dind` },
      { text: 'Then read the release notes of the new version before moving the pin (CI_DEBUG_SERVICES shows the daemon\'s start-up log).', snippet: 'variables:\n  CI_DEBUG_SERVICES: "true"' },
    ], 0.5)]
}

function toolEntrypoint(s: Scan, f: NonNullable<ReturnType<typeof ciFacts>>): Diagnosis[] {
  const tool = f.images.find((i) => TOOL_IMAGE.test(i.name) && !(i.entrypoint && i.entrypoint.join('') === ''))
  if (!tool || !s.ev.trace.failed) return []
  // The script never echoed a command: the container ran the tool instead of the runner's shell.
  const echoed = s.ev.trace.lines.some((l) => l.text.startsWith('$ '))
  if (echoed) return []
  const last = s.output.filter((l) => !/^(?:ERROR: )?Job failed|^Cleaning up/.test(l.text)).slice(-2)
  return [diagnosis('image_entrypoint_override', `${tool.name} runs its own ENTRYPOINT instead of the job script`,
    `The .gitlab-ci.yml uses ${tool.name} without \`entrypoint: [""]\`; that image's ENTRYPOINT is the tool itself, so the runner's shell script is handed to the tool as arguments and no script line ever runs.`,
    evidence(...last), [
      { text: 'Clear the entrypoint for the job image.', snippet: `image:\n  name: ${tool.name}\n  entrypoint: [""]` },
      { text: 'For kaniko use the :debug tag, which has a shell.' },
    ], 0.65)]
}

// What a shell says when it is handed the runner's script it was not meant to run: dash refusing bash's
// pipefail, the runner's own "shell not found", or the script's first line run as a command.
// dash says "sh: 3: set: Illegal option -o pipefail", busybox ash "/bin/sh: set: line 1: illegal option -o pipefail".
const SHELL_SAID = /^(?:\/bin\/)?(?:sh|dash|ash): (?:\d+: set: Illegal option -o pipefail|set: line \d+: illegal option -o pipefail)|^shell not found$|^(?:\/bin\/)?sh: (?:\d+: )?(?:can't open|Syntax error)/

/**
 * The YAML overrides the image's entrypoint with a command of its own (not `[""]`), the script never
 * ran, and a shell complained: the override, not the image, decides how the runner's script starts.
 */
function customEntrypoint(s: Scan): Diagnosis[] {
  const img = s.overriddenEntrypoint()
  const said = s.last(SHELL_SAID)
  if (!img || !said) return []
  return [diagnosis('image_entrypoint_override', `The job's entrypoint override for ${img.name} runs the script the wrong way`,
    `The .gitlab-ci.yml sets \`entrypoint: ${JSON.stringify(img.entrypoint)}\` for ${img.name}. The runner starts the container with its own shell command (sh, then the job script on stdin) after that entrypoint, so the override decides which shell gets the script and how: "${said.line.text.trim()}" is that shell refusing it, before any script line ran.`,
    evidence(said), [
      { text: 'Clear the entrypoint (the runner brings its own shell command), or make it exec its arguments unchanged.', snippet: `image:\n  name: ${img.name}\n  entrypoint: [""]` },
      { text: 'If the image\'s own entrypoint must run first, wrap it in a script that ends with exec "$@".' },
    ], 0.6)]
}

/**
 * A file the YAML lists under artifacts:paths is missing where a later command wants it: the job that
 * should have produced it uploaded nothing for that path (written under another directory than the
 * project's, or not at all), or this job does not fetch it (dependencies/needs).
 */
// A read of a file that is not there (not a write into a missing directory: that is the writer's own error).
const MISSING_FILE = /no such file or directory|No such file|NoSuchFileException: |(?:file|path) ['"]?\S+['"]? does not exist/i
const WRITE_FAILED = /cannot create|can't create|cannot open .* for writing|Read-only file system|Permission denied/i

function mentions(line: string, path: string): boolean {
  const at = line.indexOf(path)
  if (at < 0) return false
  // The whole path, not part of another name ("out" in checkout.sh): no path character on either side.
  const before = line[at - 1] ?? ' '
  const after = line[at + path.length] ?? ' '
  return !/[\w.-]/.test(before) && !/[\w-]/.test(after) && !(after === '.' && /[\w]/.test(line[at + path.length + 1] ?? ''))
}

function missingArtifact(s: Scan, f: NonNullable<ReturnType<typeof ciFacts>>): Diagnosis[] {
  const files = f.artifacts.map((p) => p.replace(/^\.\//, '').replace(/\/+$/, '')).filter((p) => p !== '' && p !== '.' && !/[*?[]/.test(p))
  if (!files.length) return []
  const hit = s.all(MISSING_FILE).filter((h) => !WRITE_FAILED.test(h.line.text) && files.some((p) => mentions(h.line.text, p))).pop()
  if (!hit || s.wentPast(hit.line)) return []
  const path = files.find((p) => mentions(hit.line.text, p))!
  const producer = f.jobs.find((j) => j.artifacts.some((p) => p.replace(/^\.\//, '').replace(/\/+$/, '') === path))?.name ?? '<job that writes it>'
  return [diagnosis('artifacts_no_matching_files', `${path}, an artifact in the YAML, is not there`,
    `"${hit.line.text.trim().slice(0, 140)}": the .gitlab-ci.yml lists ${path} under artifacts:paths, so it should come from the job that writes it. Paths are relative to the project directory: a job that cds into a subdirectory and writes ${path} there uploads nothing for it (its log says "${path}: no matching files"); or this job does not download that job's artifacts.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Give the path as the producing job writes it, relative to the project directory.', snippet: `artifacts:\n  paths:\n    - <subdirectory>/${path}` },
      { text: `And make sure this job fetches it (needs/dependencies naming ${producer}).`, snippet: `<this job>:\n  needs: [${producer}]` },
    ], 0.55)]
}

// The Docker daemon the script talks to is the dind service, not the Swarm manager the deploy expects.
// Docker's words for a daemon in no swarm; a swarm worker says "Worker nodes can't be used" instead.
const NOT_MANAGER = /This node is not a swarm manager\. Use "docker swarm init"/i

function swarmOnDind(s: Scan): Diagnosis[] {
  const hit = s.last(NOT_MANAGER)
  // This job's dind: started in its log, or in the services of the YAML job the log is.
  if (!hit || s.jobService(/dind/) === undefined) return []
  return [diagnosis('dind_docker_host_wrong', 'docker stack deploy reached the dind service, not the Swarm manager',
    `"${hit.line.text.trim()}": the job starts a docker:dind service, so the docker CLI talks to that fresh, empty daemon (DOCKER_HOST=tcp://docker:2375, or tcp://docker:2376 with TLS), which is no Swarm manager. A stack deploy needs the manager's daemon.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Point the CLI at a Swarm manager: a Docker context over SSH to the manager, or a runner on the manager with its socket.', snippet: 'script:\n  - docker context create swarm --docker "host=ssh://deploy@manager.example.com"\n  - docker --context swarm stack deploy -c docker-compose.yml app' },
      { text: 'And drop the docker:dind service (and DOCKER_HOST) from the deploy job.' },
    ], 0.7)]
}

export const ciHypothesesRule: Rule = {
  id: 'ci-hypotheses',
  categories: ['dind_image_regression', 'image_entrypoint_override', 'artifacts_no_matching_files', 'dind_docker_host_wrong'],
  match(ev) {
    const s = Scan.of(ev)
    const f = ciFacts(ev.ciYaml)
    if (!f) return swarmOnDind(s)
    return [...floatingDind(s, f), ...toolEntrypoint(s, f), ...customEntrypoint(s), ...missingArtifact(s, f), ...swarmOnDind(s)]
  },
}
