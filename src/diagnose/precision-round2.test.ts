import { describe, expect, it } from 'vitest'
import { all, cats, run, step, top } from '../../test/support/diagnose-log.js'

/**
 * Precision of the second round of classes (build-deploy.ts, git-transport.ts, tool-verdicts.ts, the
 * new packages.ts classes, registry.ts's registry-only wordings), from a review (helper rv2): each case
 * is the answer a realistic log should get.
 */

describe('packages.ts binary_loader_missing', () => {
  it('bash 5.2 "cannot execute: required file not found" for a script with CRLF line endings is not a glibc binary on musl', () => {
    const log = step('$ ./scripts/deploy.sh', 'bash: line 142: ./scripts/deploy.sh: cannot execute: required file not found')
    const d = top(log)
    // The file is a script: its #! interpreter ("/bin/bash\r" after a Windows checkout, or a missing one) is what is not found.
    expect(all(d)).toMatch(/interpreter|#!|shebang|line ending|CRLF/i)
    expect(all(d)).not.toMatch(/debian:bookworm-slim\s+# instead of alpine/)
  })

  it('a cached virtualenv whose #! points at another image\'s python is not a loader problem of the image', () => {
    const log = [
      'Using Docker executor with image python:3.12-slim ...',
      'Checking cache for default-protected...',
      'Successfully extracted cache',
      ...step('$ .venv/bin/pytest -q', 'bash: line 150: .venv/bin/pytest: cannot execute: required file not found').split('\n'),
    ].join('\n')
    const d = top(log)
    expect(d?.category).toBe('binary_loader_missing')
    // python:3.12-slim is Debian (glibc): "use Debian instead of Alpine" and "musl" are the wrong lead.
    expect(all(d)).not.toMatch(/debian:bookworm-slim|musl/)
  })
})

describe('packages.ts toolchain_version_too_old', () => {
  it('"Unsupported class file major version 61" is a JDK newer than Gradle/Groovy supports, not an image that is too old', () => {
    const log = step('$ ./gradlew build', 'FAILURE: Build failed with an exception.', '* What went wrong:', 'Could not open settings generic class cache for settings file \'/builds/acme/app/settings.gradle\' (/root/.gradle/caches/6.7/scripts/x).', '> BUG! exception in phase \'semantic analysis\' in source unit \'_BuildScript_\' Unsupported class file major version 61', 'BUILD FAILED in 3s')
    const d = run(log).diagnoses.find((x) => x.category === 'toolchain_version_too_old')
    // The advice "use an image tag with the version the project requires" sends the user to a newer JDK: the opposite.
    expect(all(d)).not.toMatch(/older than the project requires/)
  })

  it('pip\'s "requires a different Python: 3.12.1 not in \'<3.12,>=3.8\'" is an image newer than the package allows', () => {
    const log = step('$ pip install -r requirements.txt', "ERROR: Package 'legacy-lib' requires a different Python: 3.12.1 not in '<3.12,>=3.8'")
    const d = top(log)
    expect(d?.category).toBe('toolchain_version_too_old')
    expect(all(d)).not.toMatch(/older than the project requires/)
  })

  it('yarn\'s engine notice for an optional dependency it excluded is not the failure (a test fails later)', () => {
    const log = step(
      '$ yarn install --frozen-lockfile',
      'info fsevents@2.3.3: The platform "linux" is incompatible with this module.',
      'info some-native-addon@3.1.0: The engine "node" is incompatible with this module. Expected version ">=20". Got "18.19.0"',
      'info "some-native-addon@3.1.0" is an optional dependency and failed compatibility check. Excluding it from installation.',
      'Done in 21.32s.',
      '$ yarn test',
      'FAIL src/cart.test.js',
      '  ● cart › adds the total',
      '    expect(received).toBe(expected) // Object.is equality',
      'Tests:       1 failed, 41 passed, 42 total',
      'error Command failed with exit code 1.',
    )
    expect(cats(log)).not.toContain('toolchain_version_too_old')
  })
})

describe('build-deploy.ts', () => {
  it('kubernetes_api_unauthorized: the runner\'s own 401 in prepare ends with the shell-profile link (as the runner prints every prepare error)', () => {
    const log = ['Using Kubernetes executor with image alpine:3.20 ...', 'Preparing environment', 'ERROR: Job failed (system failure): prepare environment: setting up credentials: Unauthorized. Check https://docs.gitlab.com/runner/shells/index.html#shell-profile-loading for more information'].join('\n')
    expect(top(log, 'kubernetes')?.category).toBe('kubernetes_api_unauthorized')
  })

  it('kubernetes_api_unauthorized: the runner\'s own "provide credentials" wording gets the runner\'s fix, not the kubectl/agent one', () => {
    const log = ['Using Kubernetes executor with image alpine:3.20 ...', 'Waiting for pod gitlab/runner-abc-project-1-concurrent-0-xyz to be running, status is Pending', 'ERROR: Job failed (system failure): waiting for pod running: the server has asked for the client to provide credentials'].join('\n')
    const d = top(log, 'kubernetes')
    expect(d?.category).toBe('kubernetes_api_unauthorized')
    expect(d?.title).toMatch(/runner/)
  })

  it('host_port_conflict: Docker ≥ 20.10 says "listen tcp4 0.0.0.0:5432" (and tcp6)', () => {
    const log = step('$ docker run -d -p 5432:5432 --name db postgres:16', 'docker: Error response from daemon: driver failed programming external connectivity on endpoint db (0c5e…): Error starting userland proxy: listen tcp4 0.0.0.0:5432: bind: address already in use.')
    expect(top(log, 'shell')?.category).toBe('host_port_conflict')
  })

  it('host_port_conflict: Node\'s EADDRINUSE and Python\'s Errno 98 are the same class', () => {
    const node = step('$ npm run e2e', 'Error: listen EADDRINUSE: address already in use :::3000', '    at Server.setupListenHandle [as _listen2] (node:net:1817:16)')
    const py = step('$ python -m http.server 8000 &', '$ python app.py', 'OSError: [Errno 98] Address already in use')
    expect(top(node, 'shell')?.category).toBe('host_port_conflict')
    expect(top(py, 'shell')?.category).toBe('host_port_conflict')
  })

  it('docker_build_context_missing_file: a COPY --from=<stage> path missing is the earlier stage\'s output, not the build context', () => {
    const log = step(
      '$ docker build -t app .',
      '#14 [build 5/5] RUN npm run build',
      '#14 DONE 12.1s',
      '#15 [stage-1 2/2] COPY --from=build /app/dist /usr/share/nginx/html',
      '#15 ERROR: failed to calculate checksum of ref 8f1c::q2w: "/app/dist": not found',
      'ERROR: failed to solve: failed to compute cache key: failed to calculate checksum of ref 8f1c::q2w: "/app/dist": not found',
    )
    const d = run(log).diagnoses.find((x) => x.category === 'docker_build_context_missing_file')
    // "needs: artifacts" and .dockerignore cannot help: the build stage wrote its output elsewhere (outDir, WORKDIR).
    expect(all(d)).toMatch(/stage|--from/)
  })

  it('docker_build_context_missing_file: kaniko\'s wording (named in the module comment) is read', () => {
    const log = step('$ /kaniko/executor --context "$CI_PROJECT_DIR" --destination "$CI_REGISTRY_IMAGE"', 'error building image: error building stage: failed to get files used from context: failed to get fileinfo for /kaniko/buildcontext/dist: lstat /kaniko/buildcontext/dist: no such file or directory')
    expect(top(log)?.category).toBe('docker_build_context_missing_file')
  })

  it('docker_build_context_missing_file: the classic builder\'s "COPY failed: stat /var/lib/docker/tmp/docker-builder…: no such file or directory"', () => {
    const log = step('$ docker build -t app .', 'Step 4/6 : COPY target/app.jar /app.jar', 'COPY failed: stat /var/lib/docker/tmp/docker-builder912/target/app.jar: no such file or directory')
    expect(top(log)?.category).toBe('docker_build_context_missing_file')
  })

  it('deployment_rollout_failed: helm --atomic rolls back and names the timeout after the rollback', () => {
    const log = step('$ helm upgrade --install web ./chart --atomic --timeout 5m', 'Error: UPGRADE FAILED: release web failed, and has been rolled back due to atomic being set: timed out waiting for the condition')
    expect(top(log)?.category).toBe('deployment_rollout_failed')
  })
})

describe('git-transport.ts', () => {
  it('ssh_algorithm_mismatch: a key exchange mismatch gets KexAlgorithms, not the host-key options', () => {
    const log = step('$ scp dist.tar.gz deploy@10.0.0.5:/srv/', 'Unable to negotiate with 10.0.0.5 port 22: no matching key exchange method found. Their offer: diffie-hellman-group1-sha1', 'lost connection')
    const d = top(log)
    expect(d?.category).toBe('ssh_algorithm_mismatch')
    expect(all(d)).toMatch(/KexAlgorithms/)
  })

  it('ssh_algorithm_mismatch: a cipher mismatch gets Ciphers', () => {
    const log = step('$ ssh deploy@10.0.0.5 ./restart.sh', 'Unable to negotiate with 10.0.0.5 port 22: no matching cipher found. Their offer: aes128-cbc,3des-cbc')
    expect(all(top(log))).toMatch(/Ciphers/)
  })

  it('git_rate_limited: a 429 from github.com in the script is not answered with GitLab\'s rate-limit settings and GIT_DEPTH', () => {
    const log = step('$ git clone https://github.com/acme/tools.git /tmp/tools', "Cloning into '/tmp/tools'...", "fatal: unable to access 'https://github.com/acme/tools.git/': The requested URL returned error: 429")
    const d = top(log)
    expect(d?.category).toBe('git_rate_limited')
    expect(all(d)).not.toMatch(/GIT_DEPTH|Admin > Settings/)
  })
})

describe('git-transport.ts (2)', () => {
  it('git_rate_limited: git\'s own "rate limited, waiting" retry notice, after which the clone worked, is not the failure', () => {
    const log = step('$ git clone https://gitlab.example.com/acme/fixtures.git', "Cloning into 'fixtures'...", 'warning: rate limited, waiting 4 seconds before retrying', '$ make test', 'FAIL: test_parser (1 of 30)', 'make: *** [Makefile:9: test] Error 1')
    expect(top(log)?.category).not.toBe('git_rate_limited')
  })

  it('go_checksum_mismatch: a mismatch against sum.golang.org (no go.sum line yet) is not "does not match go.sum"', () => {
    const log = step('$ go mod download', 'verifying github.com/acme/lib@v1.4.0: checksum mismatch', '\tdownloaded: h1:Qm1pZ0Z0WmJ0b2tlbg==', '\tsum.golang.org: h1:T3RoZXJIYXNoVmFsdWU=', '', 'SECURITY ERROR', 'This download does NOT match the one reported by the checksum server.')
    expect(top(log)?.title).not.toMatch(/go\.sum/)
  })
})

describe('lifecycle.ts', () => {
  it('linkcheck: a 404 is a dead link in the documentation, not the linked site being unavailable', () => {
    const log = step('$ make -C docs linkcheck', '(    install: line   12) broken    https://example.org/old-page - 404 Client Error: Not Found for url: https://example.org/old-page', 'build finished with problems.', 'make: *** [Makefile:20: linkcheck] Error 1')
    expect(top(log)?.category).not.toBe('upstream_service_unavailable')
  })

  it('linkcheck: an anchor that is not found is the documentation\'s link, not the site', () => {
    const log = step('$ sphinx-build -b linkcheck docs docs/_build/linkcheck', '(   api: line  40) broken    https://docs.python.org/3/library/os.html#os.no_such - Anchor \'os.no_such\' not found', 'build finished with problems, 1 warning.')
    expect(top(log)?.category).not.toBe('upstream_service_unavailable')
  })

  it('debconf: the Readline fallback notice apt got past is not a prompt the job waited on (Maven fails later, last line "[ERROR] -> [Help 1]")', () => {
    const log = step(
      '$ apt-get update -qq && apt-get install -y -qq graphviz',
      'debconf: unable to initialize frontend: Dialog',
      'debconf: (TERM is not set, so the dialog frontend is not usable.)',
      'debconf: falling back to frontend: Readline',
      'Setting up graphviz (2.42.2-7+b3) ...',
      '$ mvn -B verify',
      '[ERROR] Tests run: 12, Failures: 1, Errors: 0, Skipped: 0',
      '[ERROR] Failed to execute goal org.apache.maven.plugins:maven-surefire-plugin:3.2.5:test (default-test) on project app: There are test failures.',
      '[ERROR] -> [Help 1]',
    )
    expect(top(log)?.category).not.toBe('job_timeout')
  })
})

describe('registry.ts REGISTRY_ONLY', () => {
  it('"insufficient_scope" from the GitLab API (a token without the api scope) is not a container registry', () => {
    const log = step('$ curl --fail-with-body -H "PRIVATE-TOKEN: $RELEASE_TOKEN" -X POST "$CI_API_V4_URL/projects/$CI_PROJECT_ID/releases" -d @release.json', '{"error":"insufficient_scope","error_description":"The request requires higher privileges than provided by the access token.","scope":"api"}', 'curl: (22) The requested URL returned error: 403')
    expect(cats(log)).not.toContain('registry_auth_failed')
  })
})
