import type { GlrunError } from '../../diagnostics/errors.js'
import type { PlannedJob } from '../plan/types.js'
import { firstDaemonCommand, scriptChoosesDaemon } from './docker-commands.js'
import { Findings } from './findings.js'
import { isRepository } from './image-ref.js'
import { jobImage, jobServices, jobTags, scriptLines } from './job-facts.js'

/**
 * `GLRUN_DIND_SERVICE_MISSING` (taxonomy `dind_service_missing`): the job's script runs docker
 * commands that need a daemon (`docker build`, `docker compose up`, `docker-compose up`; not
 * `docker login`, `docker manifest`, `docker buildx`, `--version`), yet the job has no service
 * that could be one (none named docker or dind) and no DOCKER_HOST. In a job container the
 * client then tries unix:///var/run/docker.sock, which is not there:
 * "Cannot connect to the Docker daemon at unix:///var/run/docker.sock".
 *
 * Kept quiet where the YAML cannot tell: jobs without any image (with no `image:` a job most
 * likely runs on a shell executor, where the host's daemon is right there), jobs tagged for a
 * shell runner (a tag containing "shell"), tags still holding a variable, and scripts that pick
 * the daemon themselves or start dockerd. A runner that mounts the host's socket in config.toml
 * is invisible to lint; the warning says so. Only before_script and script are read: docker in
 * after_script alone is usually clean-up.
 */
export function dockerDaemonPitfalls(jobs: readonly PlannedJob[]): GlrunError[] {
  const findings = new Findings()
  for (const job of jobs) {
    const src = job.source
    if (!src) continue
    const lines = scriptLines(src)
    const first = firstDaemonCommand(lines)
    if (!first) continue
    const image = jobImage(src)
    if (!image) continue
    const tags = jobTags(src)
    if (tags.some((t) => /shell/i.test(t) || t.includes('$'))) continue
    if (jobServices(src).some((s) => /docker|dind/i.test(`${s.name} ${s.alias ?? ''}`))) continue
    if ((src.variable('DOCKER_HOST') ?? '') !== '' || scriptChoosesDaemon(lines)) continue
    const version = image.ref && isRepository(image.ref, 'docker') ? /^\d[\w.]*$/.exec(image.ref.tag)?.[0] : undefined
    const dind = `docker:${version ? `${version}-dind` : 'dind'}`
    findings.add('GLRUN_DIND_SERVICE_MISSING', job.name, first.line.where ?? job.span,
      (j) => `${j}: runs \`${first.command}\`, but the job has no Docker daemon: no docker:dind service and no DOCKER_HOST, so the client tries unix:///var/run/docker.sock and fails with "Cannot connect to the Docker daemon"`,
      `Add a Docker-in-Docker service (on a privileged runner) and point the client at it: \`services: [${dind}]\` with \`variables: {DOCKER_HOST: "tcp://docker:2376", DOCKER_TLS_CERTDIR: "/certs", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/certs/client"}\` (config.toml: \`[runners.docker] privileged = true\`, \`volumes = ["/certs/client", "/cache"]\`). Or mount the host's socket in config.toml: \`[runners.docker] volumes = ["/var/run/docker.sock:/var/run/docker.sock"]\` and leave DOCKER_HOST unset; if this job's runner already does, ignore this warning.`)
  }
  return findings.warnings()
}
