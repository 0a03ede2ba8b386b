import { describe, expect, it } from 'vitest'
import { expectLinear, sized } from '../../test/support/linear-time.js'
import { diagnose } from './engine.js'
import { parseTrace } from './trace.js'

/**
 * Precision of the second session's rules (lifecycle.ts, packages.ts and the widened patterns), from
 * a review (helper rv): each case states the answer a realistic log should get: a notice a tool got
 * past, a test's own wording, another tool's error with the same words, or a long line.
 */
const step = (...lines: string[]): string => ['Executing "step_script" stage of the job script', ...lines, 'ERROR: Job failed: exit code 1'].join('\n')
const run = (log: string, executor?: string) => diagnose({ trace: parseTrace(log), ...(executor ? { executor } : {}) })
const top = (log: string, executor?: string): string | undefined => run(log, executor).diagnoses[0]?.category
const cats = (log: string, executor?: string): string[] => run(log, executor).diagnoses.map((d) => d.category)

describe('lifecycle.ts', () => {
  it('runner_token_invalid: "token is expired" from a deploy tool (argocd / golang-jwt) is not the runner\'s token', () => {
    const log = step('$ argocd app sync my-app --grpc-web', 'time="2025-01-10T10:00:00Z" level=fatal msg="rpc error: code = Unauthenticated desc = invalid session: token has invalid claims: token is expired"')
    expect(cats(log)).not.toContain('runner_token_invalid')
  })

  it('runner_token_invalid: a Go test failing on an expired JWT is the test\'s verdict', () => {
    const log = step('$ go test ./...', '--- FAIL: TestRefresh (0.00s)', '    auth_test.go:42: Token is expired', 'FAIL', 'FAIL\texample.com/app/auth\t0.012s')
    expect(cats(log)).not.toContain('runner_token_invalid')
  })

  it('service_failed_to_start: a slow service\'s warning (no log of its own) does not outrank the test failure after it', () => {
    const log = [
      'Preparing the "docker" executor',
      'Starting service selenium/standalone-chrome:latest ...',
      'Waiting for services to be up and running (timeout 30 seconds)...',
      "*** WARNING: Service runner-x1-project-9-concurrent-0-selenium__standalone-chrome-0 probably didn't start properly.",
      'Health check error:',
      'service "runner-x1-project-9-concurrent-0-selenium__standalone-chrome-0-wait-for-service" timeout',
      'Health check container logs:',
      'Service container logs:',
      '2025-01-10T10:00:01Z INFO Started Selenium Standalone',
      '*********',
      '$ npm test',
      '  1) checkout page shows the total',
      '     AssertionError: expected 41 to equal 42',
      '  12 passing, 1 failing',
      'ERROR: Job failed: exit code 1',
    ].join('\n')
    const d = run(log).diagnoses
    // The service started (its own log says so) and the script's test failed.
    expect(d[0]?.category).not.toBe('service_failed_to_start')
    // Nor may the test's own "failing"/"AssertionError" be quoted as the service's log.
    const svc = d.find((x) => x.category === 'service_failed_to_start')
    expect(svc?.cause ?? '').not.toContain('AssertionError')
  })

  it('shell_profile_broken: the SSH executor says "Process exited with status 1" for the same profile failure', () => {
    const log = ['Preparing the "ssh" executor', 'Using SSH executor...', 'Preparing environment', 'ERROR: Job failed: prepare environment: Process exited with status 1. Check https://docs.gitlab.com/runner/shells/index.html#shell-profile-loading for more information'].join('\n')
    expect(top(log)).toBe('shell_profile_broken')
  })
})

describe('packages.ts', () => {
  it('package_registry_auth_failed: requests\' generic "401 Client Error" from a deploy script is not a package registry', () => {
    const log = step('$ python scripts/release.py', 'Traceback (most recent call last):', '  File "scripts/release.py", line 40, in <module>', '    r.raise_for_status()', 'requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: https://gitlab.example.com/api/v4/projects/12/releases')
    expect(cats(log)).not.toContain('package_registry_auth_failed')
  })

  it('package_registry_auth_failed: urllib\'s "HTTP Error 401: Unauthorized" in a test is not a package registry', () => {
    const log = step('$ pytest', 'E   urllib.error.HTTPError: HTTP Error 401: Unauthorized', 'FAILED tests/test_client.py::test_login - urllib.error.HTTPError: HTTP Error 401: Unauthorized', '1 failed, 40 passed in 3.2s')
    expect(cats(log)).not.toContain('package_registry_auth_failed')
  })

  it('package_registry_auth_failed: a 401 is not called a 403 because the URL has "43" in it (/40?3/)', () => {
    const log = step('$ ./gradlew build', "> Could not GET 'https://gitlab.example.com/api/v4/projects/43/packages/maven/com/acme/core/1.4.0/core-1.4.0.pom'. Received status code 401 from server: Unauthorized")
    const d = run(log).diagnoses.find((x) => x.category === 'package_registry_auth_failed')
    expect(d?.cause).toContain('401')
    expect(d?.cause).not.toContain('403')
  })

  it('distro_repository_eol: a third-party repository without a Release file for this suite is not the distribution\'s end of life', () => {
    const log = step('$ apt-get update', 'Hit:1 http://archive.ubuntu.com/ubuntu noble InRelease', 'Err:5 https://ppa.launchpadcontent.net/acme/tools/ubuntu noble Release', '  404  Not Found [IP: 185.125.190.80 443]', "E: The repository 'https://ppa.launchpadcontent.net/acme/tools/ubuntu noble Release' does not have a Release file.")
    const d = run(log).diagnoses.find((x) => x.category === 'distro_repository_eol')
    // noble is current: if named at all, not with end-of-life certainty.
    expect(d?.confidence ?? 0).toBeLessThan(0.5)
  })

  it('distro_repository_eol: a stale index (404 for a superseded .deb) is not end of life', () => {
    const log = step('$ apt-get install -y curl', 'Err:1 http://deb.debian.org/debian-security bookworm-security/main amd64 curl amd64 7.88.1-10+deb12u5', '  404  Not Found [IP: 151.101.2.132 80]', 'E: Failed to fetch http://deb.debian.org/debian-security/pool/updates/main/c/curl/curl_7.88.1-10+deb12u5_amd64.deb  404  Not Found [IP: 151.101.2.132 80]', 'E: Unable to fetch some archives, maybe run apt-get update or try with --fix-missing?')
    expect(top(log)).not.toBe('distro_repository_eol')
  })

  it('package_manager_lock: apt that waited for the lock and went on is not the failure', () => {
    const log = step('$ apt-get install -y jq', 'Waiting for cache lock: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 2741 (unattended-upgr)... 5s', 'Setting up jq (1.6-2.1ubuntu3) ...', '$ pytest', 'FAILED tests/test_api.py::test_total - assert 41 == 42', '1 failed, 40 passed in 3.2s')
    expect(top(log)).not.toBe('package_manager_lock')
  })

  it('repository_key_missing: an apt warning (W: NO_PUBKEY, old apt goes on) before an unrelated test failure is background', () => {
    const log = step('$ apt-get update', 'W: GPG error: https://packages.example.com/apt stable InRelease: The following signatures couldn\'t be verified because the public key is not available: NO_PUBKEY 4B7C549A058F8B6B', 'Reading package lists...', '$ apt-get install -y libpq-dev', 'Setting up libpq-dev (15.5-0+deb12u1) ...', '$ pytest', 'FAILED tests/test_api.py::test_total - assert 41 == 42', '1 failed, 40 passed in 3.2s')
    expect(top(log)).not.toBe('repository_key_missing')
  })

  it('package_not_found: BuildKit prefixes apt\'s line ("#7 0.512 E: Unable to locate package")', () => {
    const log = step('$ docker build -t app .', '#7 [2/4] RUN apt-get install -y libfoo-dev', '#7 0.512 Reading package lists...', '#7 0.530 E: Unable to locate package libfoo-dev', '#7 ERROR: process "/bin/sh -c apt-get install -y libfoo-dev" did not complete successfully: exit code: 100')
    expect(top(log)).toBe('package_not_found')
  })
})

describe('widened patterns in the older rule files', () => {
  it('runner.ts SERVER_ERROR: a Go test\'s "unexpected status code 500" is the test\'s verdict (\\bexpected\\b no longer filters it)', () => {
    const log = step('$ go test ./...', '--- FAIL: TestCreateOrder (0.01s)', '    orders_test.go:88: unexpected status code 500', 'FAIL', 'FAIL\texample.com/app/orders\t0.031s')
    const c = cats(log)
    expect(c).not.toContain('gitlab_server_error')
    expect(c).not.toContain('upstream_service_unavailable')
  })

  it('runner.ts TRANSIENT: curl 52 in a wait-for-app loop that then succeeded is not the failure', () => {
    const log = step('$ until curl -s http://localhost:8080/health; do sleep 1; done', 'curl: (52) Empty reply from server', 'curl: (52) Empty reply from server', '{"status":"UP"}', '$ npm run e2e', '  1) checkout shows the total', '     AssertionError: expected 41 to equal 42', '  12 passing, 1 failing')
    expect(top(log)).not.toBe('transient_failure')
  })

  it('dind.ts DOCKERD_DOWN: a crash-looping postgres service on Kubernetes (svc-0) is not a dind daemon', () => {
    const log = ['Preparing the "kubernetes" executor', 'Using Kubernetes executor with image python:3.12 ...', 'Waiting for pod gitlab/runner-abc-project-1-concurrent-0-xyz to be running, status is Pending', '\tContainersNotReady: "containers with unready status: [build helper svc-0]"', 'WARNING: Event retrieved from the cluster: Back-off restarting failed container svc-0 in pod runner-abc-project-1-concurrent-0-xyz_gitlab(1234)', 'ERROR: Job failed (system failure): prepare environment: waiting for pod running: timed out waiting for pod to start. Check https://docs.gitlab.com/runner/shells/index.html#shell-profile-loading for more information'].join('\n')
    const c = cats(log, 'kubernetes')
    expect(c[0]).not.toBe('dind_service_failed_to_start')
  })

  it('kubernetes.ts NO_KUBECONFIG: a "kubectl version" probe before use-context is not the failure', () => {
    const log = step('$ kubectl version', 'Client Version: v1.30.2', 'The connection to the server localhost:8080 was refused - did you specify the right host or port?', '$ kubectl config use-context acme/agents:prod', 'Switched to context "acme/agents:prod".', '$ helm upgrade --install app ./chart', 'Error: UPGRADE FAILED: template: app/templates/deployment.yaml:12:20: executing "app/templates/deployment.yaml" at <.Values.image.tag>: nil pointer evaluating interface {}.tag')
    expect(top(log)).not.toBe('script_kubeconfig_missing')
  })

})

describe('more precision and recall cases', () => {
  it('packages.ts EOL: yum\'s "Cannot find a valid baseurl" after a mirrorlist timeout on a supported release (Amazon Linux 2) is the network', () => {
    const log = step('$ yum install -y gcc', 'Could not retrieve mirrorlist https://amazonlinux-2-repos-us-east-1.s3.dualstack.us-east-1.amazonaws.com/2/core/latest/x86_64/mirror.list error was', "12: Timeout on https://amazonlinux-2-repos-us-east-1.s3.dualstack.us-east-1.amazonaws.com/2/core/latest/x86_64/mirror.list: (28, 'Connection timed out after 5000 milliseconds')", 'Cannot find a valid baseurl for repo: amzn2-core/2/x86_64')
    expect(top(log)).toBe('egress_blocked_firewall')
  })

  it('packages.ts KEY: BADSIG (a corrupt or stale InRelease from a mirror or proxy) is not a missing key', () => {
    const log = step('$ apt-get update', 'W: GPG error: http://deb.debian.org/debian bookworm InRelease: The following signatures were invalid: BADSIG 6ED0E7B82643E131 Debian Archive Automatic Signing Key (12/bookworm) <ftpmaster@debian.org>', "E: The repository 'http://deb.debian.org/debian bookworm InRelease' is not signed.")
    const d = run(log).diagnoses.find((x) => x.category === 'repository_key_missing')
    expect(d?.cause ?? '').not.toMatch(/not in the image's keyring/)
  })

  it('network.ts LOOKUP: apk\'s "WARNING: Ignoring <repo>: temporary error" for one repository, then a good install and a failing test', () => {
    const log = step('$ apk add --no-cache git', 'WARNING: Ignoring https://dl-cdn.alpinelinux.org/alpine/v3.19/community: temporary error (try again later)', '(1/6) Installing git (2.43.0-r0)', 'OK: 20 MiB in 21 packages', '$ pytest', 'FAILED tests/test_api.py::test_total - assert 41 == 42', '1 failed, 40 passed in 3.2s')
    expect(top(log)).not.toBe('dns_resolution_failure')
  })

  it('network.ts TIMEOUT: apk\'s "WARNING: Ignoring <repo>: network error" that apk got past is not the failure', () => {
    const log = step('$ apk add --no-cache git', 'WARNING: Ignoring https://dl-cdn.alpinelinux.org/alpine/v3.19/community: network error (check Internet connection and firewall)', '(1/6) Installing git (2.43.0-r0)', 'OK: 20 MiB in 21 packages', '$ pytest', 'FAILED tests/test_api.py::test_total - assert 41 == 42', '1 failed, 40 passed in 3.2s')
    expect(top(log)).not.toBe('egress_blocked_firewall')
  })

  it('network.ts TIMEOUT: pip 26\'s "didn\'t respond within" inside a retry warning that recovered is not the failure', () => {
    const log = step('$ pip install -r requirements.txt', "WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection broken by 'ConnectTimeoutError(<HTTPSConnection object at 0x7f>, 'pypi.org didn't respond within 15 seconds (while establishing a connection)')': /simple/flask/", 'Successfully installed flask-3.0.0', '$ pytest', 'FAILED tests/test_api.py::test_total - assert 41 == 42', '1 failed, 40 passed in 3.2s')
    expect(top(log)).not.toBe('egress_blocked_firewall')
  })

  it('no pattern backtracks quadratically on a long line of word or path characters', () => {
    // A base64 blob, a minified bundle, a long path: each pattern must scan it once, not from
    // every position (each of these took seconds with the overlapping character classes fixed
    // in network.ts, image.ts, registry.ts, script.ts and packages.ts).
    for (const [unit, n] of [['A', 80000], ['a/', 40000], ['a.', 40000], ['a-', 40000], ['1.', 40000]] as const) {
      for (const tail of ['', ': Permission denied', ': not found', ' No such file or directory']) {
        expectLinear((k) => { const log = step('$ echo "$BLOB"', unit.repeat(sized(n, k)) + tail); return () => run(log) }, `${unit}…${tail}`)
      }
    }
  })

  it('lifecycle.ts service(): a postgres service that did not start is not hidden because the job also has a dind service', () => {
    const log = ['Preparing the "docker" executor', 'Starting service docker:24-dind ...', 'Starting service postgres:16 ...', 'Waiting for services to be up and running (timeout 30 seconds)...', "*** WARNING: Service runner-x1-project-9-concurrent-0-postgres-0 probably didn't start properly.", 'Health check error:', 'Service container logs:', '2025-01-10T10:00:01Z Error: Database is uninitialized and superuser password is not specified.', '*********', 'Executing "step_script" stage of the job script', '$ pytest', 'E   psycopg.OperationalError: connection failed: could not translate host name "postgres" to address', 'ERROR: Job failed: exit code 1'].join('\n')
    expect(top(log)).toBe('service_failed_to_start')
  })

  it('registry.ts AUTH: ": invalid username/password" from a database test run through docker compose is not a registry', () => {
    const log = step('$ docker compose run --rm app ./run-tests.sh', 'ORA-01017: invalid username/password; logon denied', 'FAILED tests/test_db.py::test_connect')
    expect(cats(log)).not.toContain('registry_auth_failed')
  })

  it('tls.ts BAD_CERT: OpenSSL 3\'s wording of the same alert ("sslv3 alert bad certificate") is not read', () => {
    const log = ['Getting source from Git repository', "fatal: unable to access 'https://gitlab.example.com/acme/app.git/': OpenSSL SSL_read: error:0A000412:SSL routines::sslv3 alert bad certificate, errno 0", 'ERROR: Job failed: exit code 1'].join('\n')
    expect(cats(log).slice(0, 3)).toContain('tls_certificate_expired')
  })

  it('script.ts/host.ts: gitlab-shell\'s not-found over an SSH clone is not answered with job-token advice first', () => {
    const log = step('$ git clone git@gitlab.example.com:acme/lib.git', 'remote: ', 'remote: ========================================================================', 'remote: The project you were looking for could not be found or you don\'t have permission to view it.', 'remote: ========================================================================', 'fatal: Could not read from remote repository.')
    expect(top(log)).not.toBe('git_auth_job_token')
  })
})
