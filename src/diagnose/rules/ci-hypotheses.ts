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

export const ciHypothesesRule: Rule = {
  id: 'ci-hypotheses',
  categories: ['dind_image_regression', 'image_entrypoint_override'],
  match(ev) {
    const f = ciFacts(ev.ciYaml)
    if (!f) return []
    const s = Scan.of(ev)
    return [...floatingDind(s, f), ...toolEntrypoint(s, f)]
  },
}
