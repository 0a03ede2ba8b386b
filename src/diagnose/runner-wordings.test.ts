import { describe, expect, it } from 'vitest'
import { diagnose } from './engine.js'
import { parseTrace } from './trace.js'

/**
 * The fourth rule pass (issue 14): runner, git, Go and GitLab wordings, filled in by hand from the
 * tools' sources (not corpus lines), each landing on its category from the lines alone. The
 * comment by each case names where the wording comes from.
 */
const first = (log: string, executor?: string) => diagnose({ trace: parseTrace(log), ...(executor ? { executor } : {}) }).diagnoses

describe('fourth pass: runner-side, transfer and GitLab wordings', () => {
  it('"Preparation failed: Cannot connect to the Docker daemon at tcp://…" is the runner\'s own daemon, not a dind service', () => {
    // gitlab-runner executors/docker: the daemon in [runners.docker] host (here a dind container the runner uses), before any script
    const d = first(['Preparing the "docker" executor', 'ERROR: Preparation failed: Cannot connect to the Docker daemon at tcp://runner-dockerd:2375. Is the docker daemon running? (docker.go:958:0s)', 'Will be retried in 3s ...', 'ERROR: Job failed (system failure): Cannot connect to the Docker daemon at tcp://runner-dockerd:2375. Is the docker daemon running? (docker.go:958:0s)'].join('\n'))
    expect(d[0]?.category).toBe('docker_engine_broken')
    expect(d[0]?.cause).toContain('tcp://runner-dockerd:2375')
    // The same client line from the job's script stays a dind question.
    const script = first(['Executing "step_script" stage of the job script', '$ docker info', 'Cannot connect to the Docker daemon at tcp://docker:2375. Is the docker daemon running?', 'ERROR: Job failed: exit code 1'].join('\n'))
    expect(script[0]?.category).not.toBe('docker_engine_broken')
  })

  it('a dind service whose health check timed out: a failed start or the TLS port question, by runner version and dind tag', () => {
    // gitlab-runner executors/docker/internal/wait: "*** WARNING: Service %s probably didn't start properly." + "Health check error:" + the wait container's timeout
    const log = ['Starting service docker:24.0-dind ...', 'Waiting for services to be up and running (timeout 30 seconds)...', '', '*** WARNING: Service runner-x1-project-9-concurrent-0-docker-0 probably didn\'t start properly.', '', 'Health check error:', 'service "runner-x1-project-9-concurrent-0-docker-0-wait-for-service" timeout', '', 'Health check container logs:', '', 'ERROR: Job failed: exit code 1'].join('\n')
    // A runner since 16.1 passes the check on any exposed port: a slow or failed start first.
    expect(first(log).slice(0, 2).map((x) => x.category)).toEqual(['dind_service_failed_to_start', 'dind_tls_mismatch'])
    // Before 16.1 it probed one port, and docker:dind >= 19.03 has TLS: the port question first.
    const old = first(`Running with gitlab-runner 15.11.0 (abcdef12)\n${log}`)
    expect(old.slice(0, 2).map((x) => x.category)).toEqual(['dind_tls_mismatch', 'dind_service_failed_to_start'])
    expect(first(`Running with gitlab-runner 15.11.0 (abcdef12)\n${log.replace('docker:24.0-dind', 'docker:18.09-dind')}`)[0]?.category).toBe('dind_service_failed_to_start')
    // With DOCKER_TLS_CERTDIR "" in the YAML the port question is first and surer.
    const withYaml = diagnose({ trace: parseTrace(log), ciYaml: 'build:\n  services: [docker:24.0-dind]\n  variables:\n    DOCKER_TLS_CERTDIR: ""\n  script: [docker info]\n' }).diagnoses[0]
    expect(withYaml?.category).toBe('dind_tls_mismatch')
    expect(withYaml?.confidence).toBeGreaterThan(old[0]?.confidence ?? 1)
    expect(withYaml?.cause).toContain('which this job sets')
  })

  it('"Missing gitlab-runner. … is disabled." and "… is not supported by this executor."', () => {
    // gitlab-runner shells/abstract.go guardRunnerCommand: "Missing %s. %s is disabled." / "%s is not supported by this executor."
    expect(first('WARNING: Missing gitlab-runner. Creating cache is disabled.')[0]?.category).toBe('artifacts_uploader_missing')
    expect(first('Missing gitlab-runner-helper. Artifacts downloading is disabled.')[0]?.title).toContain('gitlab-runner-helper')
    expect(first('WARNING: Uploading artifacts is not supported by this executor.')[0]?.category).toBe('artifacts_uploader_missing')
  })

  it('a TCP reset mid-transfer, and HTTP/2 stream errors, as network and transient failures', () => {
    // Go net: "read tcp %s->%s: read: connection reset by peer" (here in buildah's pull)
    const reset = first('Error: copying system image from manifest list: reading blob sha256:0a1b: Get "https://registry.example.org/v2/app/blobs/sha256:0a1b": read tcp 10.1.2.3:51234->192.0.2.10:443: read: connection reset by peer')
    expect(reset[0]?.category).toBe('network_connection_reset')
    expect(reset[0]?.fixes[1]?.snippet).toContain('https://192.0.2.10/')
    // golang.org/x/net/http2 StreamError: "stream error: stream ID %d; %v"
    expect(first('error pulling image: stream error: stream ID 7; INTERNAL_ERROR; received from peer')[0]?.category).toBe('transient_failure')
    expect(first('Error: http2: server sent GOAWAY and closed the connection; LastStreamID=1999, ErrCode=NO_ERROR')[0]?.category).toBe('transient_failure')
  })

  it('old git\'s 404 on info/refs in the runner\'s clone is a wrong clone URL', () => {
    // git http.c (git < 1.8.x): "%s/info/refs not found: did you run git update-server-info on the server?"
    const d = first(['Cloning repository...', 'Cloning into \'/builds/team/app\'...', 'fatal: https://gitlab-ci-token:xxxxxxxxxxxxxxxxxxxx@git.example.com/team/app.git/info/refs not found: did you run git update-server-info on the server?', 'ERROR: Job failed: exit code 1'].join('\n'))
    expect(d[0]?.category).toBe('clone_url_misconfigured')
    expect(d[0]?.title).toContain('https://git.example.com/team/app.git')
  })

  it('a corrupt pack from the server is the server\'s repository, not a transient blip', () => {
    // git builtin/index-pack.c: "pack is corrupted (SHA1 mismatch)", "pack has %d unresolved deltas"; git fetch-pack: "index-pack failed"
    // git upload-pack.c: "git upload-pack: aborting due to possible repository corruption on the remote side."
    for (const line of ['fatal: pack is corrupted (SHA1 mismatch)', 'fatal: pack has 12 unresolved deltas', 'remote: fatal: loose object 3f2a9c1e0b7d4a6f8e2c1b0a9d8e7f6a5b4c3d2e (stored in ./objects/3f/2a) is corrupt', 'remote: fatal: bad object 3f2a9c1e0b7d4a6f8e2c1b0a9d8e7f6a5b4c3d2e', 'fatal: git upload-pack: aborting due to possible repository corruption on the remote side.']) {
      const d = first(['Fetching changes with git depth set to 20...', line, 'fatal: index-pack failed', 'ERROR: Job failed: exit code 1'].join('\n'))
      expect(d[0]?.category, line).toBe('remote_repository_corrupt')
    }
  })

  it('GitLab\'s stuck_or_timeout_failure text is a dropped job, not the job\'s own timeout', () => {
    // gitlab-org/gitlab app/presenters/commit_status_presenter.rb: stuck_or_timeout_failure
    const d = first('There has been a timeout failure or the job got stuck. Check your timeout limits or try again')
    expect(d[0]?.category).toBe('job_stuck_pending_timeout')
    expect(d.map((x) => x.category)).toContain('no_matching_runner')
    // job_execution_timeout stays a timeout.
    expect(first('The script exceeded the maximum execution time set for the job')[0]?.category).toBe('job_timeout')
    // With the runner's lines it had started: the runner stopped reporting.
    expect(first(['Running with gitlab-runner 17.5.0 (abcdef12)', '$ make test', 'There has been a timeout failure or the job got stuck. Check your timeout limits or try again'].join('\n'))[0]?.title).toContain('stopped reporting')
  })

  it('a refspec GitLab built wrong (refs/heads/refs/…) is the pipeline ref question, said as GitLab\'s', () => {
    // gitlab-runner passes the payload's refspecs to git fetch; git: "fatal: couldn't find remote ref %s"
    const d = first('fatal: couldn\'t find remote ref refs/heads/refs/merge-requests/42/head')
    expect(d[0]?.category).toBe('pipeline_ref_missing')
    expect(d[0]?.title).toContain('malformed')
    expect(first('fatal: couldn\'t find remote ref refs/pipelines/1234')[0]?.category).toBe('pipeline_ref_missing')
    // The script's own fetch of a ref it built wrong is not GitLab's doing.
    const own = first(['$ git fetch origin "refs/heads/$CI_MERGE_REQUEST_REF_PATH"', 'fatal: couldn\'t find remote ref refs/heads/refs/merge-requests/42/head', 'ERROR: Job failed: exit code 128'].join('\n'))
    expect(own[0]?.title ?? '').not.toContain('malformed')
  })

  it('docker-windows with a plain Nano Server image: no PowerShell', () => {
    // gitlab-runner docs (docker-windows executor): scripts run with PowerShell; mcr.microsoft.com/windows/nanoserver has none
    const log = ['Preparing the "docker-windows" executor', 'Using Docker executor with image mcr.microsoft.com/windows/nanoserver:ltsc2022 ...', 'Getting source from Git repository', 'Executing "step_script" stage of the job script', 'ERROR: Job failed (system failure): exit code 1'].join('\n')
    expect(first(log)[0]?.category).toBe('image_missing_shell')
    expect(first(log.replace('windows/nanoserver:ltsc2022', 'powershell:lts-nanoserver-ltsc2022'))[0]?.category).not.toBe('image_missing_shell')
  })

  it('no Kubernetes configuration at all: client-go\'s and glrun\'s words', () => {
    // gitlab-runner executors/kubernetes: "getting Kubernetes config: %w"; client-go clientcmd.ErrEmptyConfig / rest.ErrNotInCluster
    expect(first('ERROR: Preparation failed: getting Kubernetes config: invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER environment variable')[0]?.category).toBe('kubernetes_config_missing')
    expect(first('ERROR: Job failed (system failure): prepare environment: getting Kubernetes config: unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined')[0]?.category).toBe('kubernetes_config_missing')
  })

  it('the cache helper\'s info line "No URL provided … local version" is a cache kept per runner host', () => {
    // gitlab-runner commands/helpers/cache_archiver.go (Infoln, no WARNING prefix)
    const d = first(['Saving cache for successful job', 'Creating cache default-protected...', 'node_modules/: found 4212 matching artifact files and directories', 'No URL provided, cache will not be uploaded to shared cache server. Instead a local version of cache will be archived.', 'Created cache', 'ERROR: Job failed: exit code 1'].join('\n'))
    expect(d[0]?.category).toBe('cache_not_shared')
  })

  it('a clone URL without a scheme is taken for a local path by git', () => {
    // git transport.c: "'%s' does not appear to be a git repository"; GitLab built the remote from a scheme-less clone URL
    const log = ['Getting source from Git repository', 'Fetching changes with git depth set to 20...', 'Reinitialized existing Git repository in /builds/team/app/.git/', "fatal: 'git.internal/team/app.git' does not appear to be a git repository", 'fatal: Could not read from remote repository.', 'ERROR: Job failed: exit code 1'].join('\n')
    expect(first(log)[0]?.category).toBe('clone_url_misconfigured')
    // An SSH remote (user@host:path) of the job's own script is not the runner's clone URL.
    expect(first(log.replace("'git.internal/team/app.git'", "'git@git.internal:team/app.git'"))[0]?.category).not.toBe('clone_url_misconfigured')
  })

  it('git clean cannot remove files another process holds: the reused checkout, not permissions', () => {
    // git builtin/clean.c / entry.c: "failed to remove %s: %s" with the errno text
    const d = first(['Fetching changes...', 'Checking out 1a2b3c4d as main...', 'warning: failed to remove out/report.docx: Invalid argument', 'ERROR: Job failed: exit status 1'].join('\n'))
    expect(d[0]?.category).toBe('git_worktree_corrupt')
    expect(d[0]?.fixes[1]?.snippet).toContain('GIT_CLEAN_FLAGS: none')
  })

  it('background noise does not take the answer: a retried reset, a service\'s reset, an artifact warning after the failure', () => {
    // pip urllib3 retry warning, then a failing test run
    const pip = first(['$ pip install -r requirements.txt', "WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection broken by 'ProtocolError('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))': /simple/requests/", 'Successfully installed requests-2.32.3', '$ pytest', 'FAILED tests/test_api.py::test_create - AssertionError: 201 != 400', '1 failed, 41 passed', 'ERROR: Job failed: exit code 1'].join('\n'))
    expect(pip[0]?.category).not.toBe('network_connection_reset')
    // a test's own exception about a reset, then the build's verdict
    const java = first(['$ ./gradlew test', 'java.net.SocketException: Connection reset by peer', '    at java.base/sun.nio.ch.NioSocketImpl.implRead(NioSocketImpl.java:330)', 'FAILURE: Build failed with an exception.', 'ERROR: Job failed: exit code 1'].join('\n'))
    expect(java[0]?.category).not.toBe('network_connection_reset')
    // the shell executor's warning in the on-failure upload, after make test failed
    const shell = first(['Executing "step_script" stage of the job script', '$ make test', 'make: *** [Makefile:12: test] Error 2', 'Uploading artifacts for failed job', 'WARNING: Missing gitlab-runner. Uploading artifacts is disabled.', 'ERROR: Job failed: exit status 1'].join('\n'))
    expect(shell[0]?.category).not.toBe('artifacts_uploader_missing')
  })

  it('the job\'s own helm/kubectl, git remotes and Java resets are told apart from the runner\'s', () => {
    // helm in the script: its own kubeconfig, not the runner's
    const helm = first(['$ helm upgrade --install app ./chart', 'Error: Kubernetes cluster unreachable: invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER environment variable', 'ERROR: Job failed: exit code 1'].join('\n'))
    expect(helm[0]?.category).not.toBe('kubernetes_config_missing')
    // a bare remote name, a local path or a submodule's path is not GitLab's clone URL
    for (const remote of ['origin', '/builds/g/lib.git']) {
      const d = first(['Fetching changes with git depth set to 20...', `fatal: '${remote}' does not appear to be a git repository`, 'ERROR: Job failed: exit code 1'].join('\n'))
      expect(d[0]?.category, remote).not.toBe('clone_url_misconfigured')
    }
    // Gradle's report of a reset at the end of the log is still the reset
    const gradle = first(['$ ./gradlew publish', '> Task :publish FAILED', '> java.io.IOException: Connection reset by peer'].join('\n'))
    expect(gradle[0]?.category).toBe('network_connection_reset')
  })

  it('the dind fix snippet names the dind image, whatever its version parsing found', () => {
    const log = ['Running with gitlab-runner 15.11.0 (abcdef12)', 'Starting service docker:24.0-dind ...', '*** WARNING: Service runner-x1-project-9-concurrent-0-docker-0 probably didn\'t start properly.', 'Health check error:', 'service "runner-x1-project-9-concurrent-0-docker-0-wait-for-service" timeout', 'ERROR: Job failed: exit code 1'].join('\n')
    const d = first(log).find((x) => x.category === 'dind_tls_mismatch')
    expect(d?.fixes[0]?.snippet).toContain('  - docker:24.0-dind')
  })
})
