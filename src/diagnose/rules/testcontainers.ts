import { Scan, diagnosis, evidence } from '../scan.js'
import type { Diagnosis, Rule } from '../types.js'

/**
 * testcontainers_ryuk_unreachable (proposed by the corpus's twenty-fourth pass): Testcontainers starts
 * its resource reaper (Ryuk) through the job's Docker daemon and then connects to it; with dind or a
 * mounted socket the reaper's port is on the Docker host, not on the job's localhost, so the
 * connection fails before any test container starts. Java's wording (ResourceReaper /
 * RyukResourceReaper: "Could not connect to Ryuk at %s:%s") and .NET's (ResourceReaperException).
 */

// Java, .NET, Node (testcontainers-node's reaper.js) and Go (testcontainers-go's reaper.go).
const RYUK = /Could not connect to Ryuk at ([\w.:[\]-]+)|ResourceReaperException\s*:\s*(?:Initialization has been cancelled|Could not connect)|^Error: Failed to connect to Reaper\s*$|Connecting to Ryuk on ([\w.:[\]-]+) failed/

function ryuk(s: Scan): Diagnosis[] {
  const hit = s.lastWhere(RYUK, (h) => !s.wentPast(h.line))
  if (!hit) return []
  return [diagnosis('testcontainers_ryuk_unreachable', 'Testcontainers cannot reach its resource reaper (Ryuk)',
    `"${hit.line.text.trim().slice(0, 160)}": Testcontainers started its Ryuk container through the job's Docker daemon${hit.m[1] ? ` and looked for it at ${hit.m[1]}` : hit.m[2] ? ` and looked for it at ${hit.m[2]}` : ''}; with Docker-in-Docker or a mounted socket that container runs on the Docker host, whose ports the job does not reach as localhost, so Testcontainers gives up before any test container starts.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'In CI, let the pipeline clean up instead of Ryuk (the job\'s Docker goes away with the job).', snippet: 'variables:\n  TESTCONTAINERS_RYUK_DISABLED: "true"' },
      { text: 'With a dind service, tell Testcontainers where the containers\' ports are (and talk to dind without TLS on 2375, as Testcontainers\' GitLab guide does).', snippet: 'services:\n  - docker:24-dind\nvariables:\n  DOCKER_HOST: tcp://docker:2375\n  DOCKER_TLS_CERTDIR: ""\n  TESTCONTAINERS_HOST_OVERRIDE: docker' },
    ], 0.9)]
}

export const testcontainersRule: Rule = {
  id: 'testcontainers',
  categories: ['testcontainers_ryuk_unreachable'],
  match(ev) {
    return ryuk(Scan.of(ev))
  },
}
