import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { expectLinear, sized } from '../../test/support/linear-time.js'
import { all, cats, inImage, on, run, step, top, withServices } from '../../test/support/diagnose-log.js'
import { diagnose } from './engine.js'
import { parseTrace, parseTraceStream } from './trace.js'

// Kept from review rv7 (helper) of the rule pass behind issue 14 (db99661..339c969): loopback-services.ts,
// network.ts refused(), Scan.inDiff, config.ts keyboardInterrupt(), missing-programs.ts, manifest-format.ts,
// toolchain.ts openssl3(), detached-head.ts, packages.ts NPM_PUT_404. All 34 findings are mended: each
// "finding" case states the behaviour expected where the reviewed code failed; a guard pins behaviour that
// must stay. The review's reasons and the tools' sources are in the commit that added it (REVIEW-rv7.md).


const SIBLING = 'sibling_container_host_wrong'

describe('loopback-services.ts: servers the script started itself (OWN_SERVER)', () => {
  it('finding 1: an init script (/etc/init.d/mysql start) started the server in the job', () => {
    const log = withServices([], '$ /etc/init.d/mysql start', '$ mysql -u root -e "SELECT 1"', "ERROR 2002 (HY000): Can't connect to local MySQL server through socket '/var/run/mysqld/mysqld.sock' (2)")
    expect(cats(log)).not.toContain(SIBLING)
  })
  it('finding 2: a server backgrounded with "&" and a waiting tool after it (npm start & npx wait-on)', () => {
    const log = withServices([], '$ npm start & npx wait-on http://localhost:3000', '$ npm run e2e', 'Error: connect ECONNREFUSED 127.0.0.1:3000')
    expect(cats(log)).not.toContain(SIBLING)
  })
  it('finding 3: the instance executor runs the job on the VM itself, like shell (localhost is right there)', () => {
    expect(cats(on('instance', '$ npm test', 'Error: connect ECONNREFUSED 127.0.0.1:5432'))).not.toContain(SIBLING)
  })
  it('finding 4: the string and the streaming parser disagree when the start command is thinned out of a long log', async () => {
    const kept = Array.from({ length: 12_000 }, (_, i) => `WARNING: deprecated call in test_${i} (tests/test_${i % 50}.py:${i})`)
    const log = ['Preparing the "docker" executor', 'Using Docker executor with image python:3.12 ...', 'Executing "step_script" stage of the job script',
      ...Array.from({ length: 600 }, (_, i) => `Unpacking libfoo${i} (1.0) ...`), '$ service postgresql start', 'Starting PostgreSQL 15 database server: main.', '$ pytest', ...kept,
      'E   psycopg2.OperationalError: connection to server at "localhost" (127.0.0.1), port 5432 failed: Connection refused', 'ERROR: Job failed: exit code 1'].join('\n')
    const whole = diagnose({ trace: parseTrace(log) }).diagnoses.map((d) => d.category)
    const streamed = diagnose({ trace: await parseTraceStream(Readable.from([log])) }).diagnoses.map((d) => d.category)
    expect(whole).not.toContain(SIBLING)
    expect(streamed).toEqual(whole)
  })
  it('finding 5: "docker compose -f a.yml -f b.yml up" starts sibling containers too (SIBLINGS takes one -f only)', () => {
    const d = top(withServices(['docker:27-dind'], '$ docker compose -f docker-compose.yml -f docker-compose.ci.yml up -d', '$ npm test', 'Error: connect ECONNREFUSED 127.0.0.1:5432'))
    expect(d?.category).toBe(SIBLING)
    expect(d?.cause).toContain('a container it started')
  })
  it('guard: pg_ctlcluster and "service … start" are servers of the job\'s own', () => {
    expect(cats(withServices([], '$ pg_ctlcluster 15 main start', '$ psql -h localhost -U postgres -c "select 1"', 'psql: error: connection to server at "localhost" (127.0.0.1), port 5432 failed: Connection refused'))).not.toContain(SIBLING)
    expect(cats(withServices([], '$ service redis-server start', '$ redis-cli ping', 'Could not connect to Redis at 127.0.0.1:6379: Connection refused'))).not.toContain(SIBLING)
  })
  it('guard: Kubernetes and shell stay out', () => {
    expect(cats(on('kubernetes', '$ go test ./...', 'dial tcp [::1]:6379: connect: connection refused'))).not.toContain(SIBLING)
    expect(cats(on('shell', '$ curl -f http://localhost:8080/', "curl: (7) Failed to connect to localhost port 8080 after 0 ms: Couldn't connect to server"))).not.toContain(SIBLING)
  })
})

describe('loopback-services.ts: other clients refused on localhost (REFUSED/SOCKET)', () => {
  it.each([
    // Java: Netty (Lettuce, Spring WebClient, Vert.x) and the Kafka client.
    ['finding 6: Netty/Lettuce (Java)', 'redis:7', ['$ ./gradlew test', 'org.springframework.data.redis.RedisConnectionFailureException: Unable to connect to Redis', 'Caused by: io.netty.channel.AbstractChannel$AnnotatedConnectException: Connection refused: localhost/127.0.0.1:6379']],
    ['finding 7: Kafka Java client', 'bitnami/kafka:3.6', ['$ ./gradlew test', '[AdminClient clientId=adminclient-1] Connection to node -1 (localhost/127.0.0.1:9092) could not be established. Broker may not be available.']],
    // Ruby: redis-rb and Net::HTTP (Faraday, HTTParty, Capybara).
    ['finding 8: redis-rb (Ruby)', 'redis:7', ['$ bundle exec rspec', 'Redis::CannotConnectError: Error connecting to Redis on 127.0.0.1:6379 (Errno::ECONNREFUSED)']],
    ['finding 9: Net::HTTP (Ruby)', 'selenium/standalone-chrome:4', ['$ bundle exec rspec', 'Failed to open TCP connection to localhost:4444 (Connection refused - connect(2) for "localhost" port 4444) (Errno::ECONNREFUSED)']],
    // Python asyncio (asyncpg, aiohttp, SQLAlchemy async).
    ['finding 10: asyncio/asyncpg (Python)', 'postgres:16', ['$ pytest', "E   OSError: Multiple exceptions: [Errno 111] Connect call failed ('::1', 5432, 0, 0), [Errno 111] Connect call failed ('127.0.0.1', 5432)"]],
    // Elixir: Postgrex through DBConnection.
    ['finding 11: Postgrex (Elixir)', 'postgres:16', ['$ mix test', '** (DBConnection.ConnectionError) tcp connect (localhost:5432): connection refused - :econnrefused']],
    // Rust: reqwest over hyper.
    ['finding 12: reqwest (Rust)', 'wiremock/wiremock:3', ['$ cargo test', 'Error: error sending request for url (http://localhost:8080/__admin/): error trying to connect: tcp connect error: Connection refused (os error 111)']],
    // PHP: PDO MySQL with host "localhost" takes the Unix socket.
    ['finding 13: PDO MySQL on the socket (PHP/Laravel)', 'mysql:8.0', ['$ php artisan migrate --force', 'SQLSTATE[HY000] [2002] No such file or directory (SQL: select * from information_schema.tables where table_schema = laravel and table_name = migrations)']],
    // The shell's own probes: OpenBSD netcat and BusyBox wget (Alpine images).
    ['finding 14: OpenBSD nc', 'postgres:16', ['$ nc -z localhost 5432', 'nc: connect to localhost (127.0.0.1) port 5432 (tcp) failed: Connection refused']],
    ['finding 15: BusyBox wget', 'nginx:alpine', ['$ wget -qO- http://localhost/health', "wget: can't connect to remote host (127.0.0.1): Connection refused"]],
  ])('%s', (_name, service, lines) => {
    const d = top(withServices([service], ...lines))
    expect(d?.category).toBe(SIBLING)
  })
  it('guard: Go on [::1] with a redis service names the service', () => {
    const d = top(withServices(['redis:7'], '$ go test ./...', 'dial tcp [::1]:6379: connect: connection refused'))
    expect(d?.category).toBe(SIBLING)
    expect(all(d)).toContain('alias: redis')
  })
  it('guard: a loopback proxy stays the proxy\'s', () => {
    expect(top(withServices([], '$ go mod download', 'go: github.com/x/y@v1: Get "https://proxy.golang.org/github.com/x/y/@v/v1.mod": proxyconnect tcp: dial tcp 127.0.0.1:3128: connect: connection refused'))?.category).toBe('proxy_required')
  })
  it('finding 16: REFUSED backtracks quadratically on a long line (urllib3\'s and wget\'s wordings)', () => {
    for (const s of ["host='localhost', port=1) ", 'Connecting to localhost (']) {
      expectLinear((k) => { const log = withServices([], '$ python app.py', s.repeat(Math.ceil(sized(160_000, k) / s.length))); return () => run(log) }, s)
    }
  })
})

describe('scan.ts inDiff: pytest\'s "E" gutter', () => {
  it('guard: a refused connection quoted in pytest\'s diff is the test\'s data', () => {
    const log = withServices(['postgres:16'], '$ pytest', ">       assert msg == 'ok'", "E       AssertionError: assert 'connect ECONNREFUSED 127.0.0.1:5432' == 'ok'", 'E         - ok', 'E         + connect ECONNREFUSED 127.0.0.1:5432')
    expect(cats(log)[0]).not.toBe(SIBLING)
  })
})

describe('config.ts keyboardInterrupt()', () => {
  it('finding 17: pytest reports the interrupt in its own banner, never as a bare "KeyboardInterrupt" line', () => {
    const log = step('$ pytest -x', 'tests/test_api.py ........', '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!! KeyboardInterrupt !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!', '/usr/local/lib/python3.12/selectors.py:468: KeyboardInterrupt', '(to show a full traceback on KeyboardInterrupt use --full-trace)', '============================= 8 passed in 3599.12s (0:59:59) =============================')
    expect(cats(log).slice(0, 2)).toEqual(['job_timeout', 'job_canceled'])
  })
  it('finding 18: pip catches the interrupt and says "Operation cancelled by user" (not the runner\'s "canceled")', () => {
    const log = step('$ pip install -r requirements.txt', 'Collecting torch==2.3.0', '  Downloading torch-2.3.0-cp312-cp312-manylinux1_x86_64.whl (779.1 MB)', 'ERROR: Operation cancelled by user')
    expect(top(log)?.category).toBe('job_timeout')
  })
  it('finding 19: the script\'s own `timeout -s INT` sent the interrupt, not the runner', () => {
    const log = step('$ timeout -s INT 10m python ci/run.py', 'Traceback (most recent call last):', '  File "ci/run.py", line 432, in <module>', '    proc.wait()', 'KeyboardInterrupt')
    expect(top(log)?.cause).not.toMatch(/runner sent it/)
  })
  it('guard: a ^C inside pytest\'s progress line is not an interrupt line', () => {
    expect(cats(step('$ pytest', 'tests/server_test.py ^C is printed by the fixture', 'FAILED tests/server_test.py::test_echo - assert 1 == 2'))).not.toContain('job_timeout')
  })
})

describe('missing-programs.ts: interpreters (nox, tox)', () => {
  it('finding 20: tox 4 "skipped because could not find python interpreter" is a skip; another env failed', () => {
    const log = step('$ tox', 'py38: skipped because could not find python interpreter with spec(s): py38', 'py38: SKIP ⚠ in 0.01 seconds', 'FAILED tests/test_x.py::test_total - assert 3 == 4', 'py312: exit 1 (2.31 seconds) /builds/g/p> pytest pid=88', '  py38: SKIP (0.01 seconds)', '  py312: FAIL code 1 (2.50=setup[0.19]+cmd[2.31] seconds)', '  evaluation failed :( (2.60 seconds)')
    expect(top(log)?.category).not.toBe('command_not_found')
  })
  it('finding 21: nox "Session … skipped: Python interpreter … not found" is a skip; another session failed', () => {
    const log = step('$ nox --no-error-on-missing-interpreters', 'nox > Session tests-3.8 skipped: Python interpreter 3.8 not found.', 'nox > Running session tests-3.12', 'FAILED tests/test_x.py::test_total - assert 3 == 4', 'nox > Command pytest failed with exit code 1', 'nox > Session tests-3.12 failed.')
    expect(top(log)?.category).not.toBe('command_not_found')
  })
  it('finding 22: tox 4\'s failing wording ("failed with could not find python interpreter matching any of the specs")', () => {
    const d = top(inImage('python:3.12', '$ tox', 'py37: failed with could not find python interpreter matching any of the specs py37', 'py37: FAIL ✖ in 0.02 seconds', '  py37: FAIL code 1 (0.02 seconds)', '  evaluation failed :( (0.05 seconds)'))
    expect(d?.category).toBe('command_not_found')
    expect(d?.title).toContain('Python 3.7')
  })
  it('guard: nox failing a missing interpreter on CI', () => {
    expect(top(inImage('python:3.12', '$ nox', 'nox > Session tests-3.8 failed: Python interpreter 3.8 not found.'))?.category).toBe('command_not_found')
  })
})

describe('missing-programs.ts: browsers', () => {
  it.each([
    ['finding 23: Playwright', ['$ npx playwright test', "    Error: browserType.launch: Executable doesn't exist at /root/.cache/ms-playwright/chromium_headless_shell-1148/chrome-linux/headless_shell", '    ╔═════════════════════════════════════════════════════════════════════════╗', '    ║ Looks like Playwright Test or Playwright was just installed or updated. ║']],
    ['finding 24: chromedriver (Selenium)', ['$ pytest tests/ui', 'E   selenium.common.exceptions.WebDriverException: Message: unknown error: cannot find Chrome binary']],
    ['finding 25: Puppeteer with executablePath', ['$ npm test', 'Error: Browser was not found at the configured executablePath (/usr/bin/chromium-browser)']],
  ])('%s: no browser in the job image', (_name, lines) => {
    expect(top(inImage('node:20', ...lines))?.category).toBe('command_not_found')
  })
  it('finding 26: on an Alpine image the install advice is apk, not apt-get', () => {
    const d = top(inImage('node:20-alpine', '$ npx karma start --single-run', 'ERROR [launcher]: No binary for ChromeHeadless browser on your platform.'))
    expect(d?.category).toBe('command_not_found')
    expect(all(d)).toMatch(/apk add[^\n]*chromium/)
  })
  it('guard: a Karma launcher on a Debian image', () => {
    const d = top(inImage('node:20', '$ npx karma start --single-run', 'ERROR [launcher]: No binary for ChromeHeadless browser on your platform.'))
    expect(d?.category).toBe('command_not_found')
    expect(all(d)).toContain('CHROME_BIN')
  })
})

describe('manifest-format.ts', () => {
  it('finding 27: "blob unknown to registry" on a plain docker push is a missing layer, not a manifest format', () => {
    const log = step('$ docker push registry.example.com/app:1.2', 'The push refers to repository [registry.example.com/app]', '5f70bf18a086: Layer already exists', 'blob unknown: blob unknown to registry')
    expect(cats(log)).not.toContain('image_manifest_format_unsupported')
  })
  it.each([
    ['manifest', 'OCI manifest found, but accept header does not support OCI manifests'],
    ['index', 'OCI index found, but accept header does not support OCI indexes'],
  ])('finding 28: a registry refusing to serve an OCI %s to a client that does not accept it (a pull) is the format, not a missing image', (_kind, words) => {
    const log = step('$ docker pull registry.example.com/app:1.2', `Error response from daemon: manifest for registry.example.com/app:1.2 not found: manifest unknown: ${words}`)
    expect(['image_manifest_format_unsupported', 'toolchain_version_too_old']).toContain(top(log)?.category)
  })
  it('guard: "blob upload unknown" is an upload session, not a format', () => {
    expect(cats(step('$ docker push registry.example.com/app:1.2', 'blob upload unknown: blob upload unknown to registry'))).not.toContain('image_manifest_format_unsupported')
  })
  it('guard: buildx attestations refused by blob unknown stay this class', () => {
    expect(top(step('$ docker buildx build --push -t "$CI_REGISTRY_IMAGE:1" .', 'ERROR: failed to solve: failed to push registry.gitlab.com/a/b:1: unknown: blob unknown to registry'))?.category).toBe('image_manifest_format_unsupported')
  })
})

describe('toolchain.ts openssl3()', () => {
  it('finding 29: ERR_OSSL_EVP_UNSUPPORTED from a legacy cipher (RC2 in an old PKCS#12) is not webpack 4\'s MD4', () => {
    const d = top(inImage('node:20', '$ npm test', 'Error: error:0308010C:digital envelope routines::unsupported', '    at Decipheriv.createCipherBase (node:internal/crypto/cipher:116:19)', '    at new Decipheriv (node:internal/crypto/cipher:289:3)', '    at Object.createDecipheriv (node:crypto:149:10)', "  code: 'ERR_OSSL_EVP_UNSUPPORTED'"))
    expect(all(d)).not.toMatch(/MD4|webpack/)
  })
  it('guard: webpack 4\'s createHash under Node 20', () => {
    const d = top(inImage('node:20', '$ npm run build', 'Error: error:0308010C:digital envelope routines::unsupported', '    at new Hash (node:internal/crypto/hash:69:19)', '    at Object.createHash (node:crypto:133:10)', '    at module.exports (/builds/g/p/node_modules/webpack/lib/util/createHash.js:135:53)', "  code: 'ERR_OSSL_EVP_UNSUPPORTED'"))
    expect(d?.category).toBe('toolchain_version_too_old')
  })
})

describe('detached-head.ts', () => {
  it.each([
    ['finding 30: GitPython\'s active_branch', ['$ python scripts/release.py', 'Traceback (most recent call last):', '  File "scripts/release.py", line 12, in <module>', '    branch = repo.active_branch', "TypeError: HEAD is a detached symbolic reference as it points to '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b'"]],
    ['finding 31: GitVersion', ['$ dotnet-gitversion /output json', 'INFO [12/01/26 10:00:01:12] Begin: Normalizing git directory for branch \'\'', "GitVersion.WarningException: It looks like the branch being examined is a detached Head pointing to commit '1a2b3c4'. Without a proper branch name GitVersion cannot determine the build version."]],
  ])('%s', (_name, lines) => {
    expect(top(step(...lines))?.category).toBe('git_detached_head')
  })
  it('finding 32: a refusal the script went past (git pull || true, $(git symbolic-ref …)) is not the failure', () => {
    const log = step('$ BRANCH=$(git symbolic-ref --short HEAD) || BRANCH=$CI_COMMIT_REF_NAME', 'fatal: ref HEAD is not a symbolic ref', '$ npm run build', 'ERROR in ./src/index.ts 12:4', "Module not found: Error: Can't resolve './foo' in '/builds/g/p/src'")
    expect(top(log)?.category).not.toBe('git_detached_head')
  })
  it('finding 33: the advice says the job token cannot push (it can since GitLab 17.2, when the project allows it)', () => {
    const d = top(step('$ lerna publish --yes', 'lerna ERR! ENOGIT Detached git HEAD, please checkout a branch to choose versions.'))
    expect(d?.category).toBe('git_detached_head')
    expect(all(d)).not.toMatch(/job token cannot push/)
  })
  it('guard: maven-release-plugin prints git\'s refusal behind "[ERROR] " (read through git\'s "(detached HEAD)" hint line)', () => {
    const log = step('$ mvn -B release:prepare', '[ERROR] Failed to execute goal org.apache.maven.plugins:maven-release-plugin:3.0.1:prepare (default-cli) on project app: Unable to commit files', '[ERROR] Provider message:', '[ERROR] The git-push command failed.', '[ERROR] Command output:', '[ERROR] fatal: You are not currently on a branch.', '[ERROR] To push the history leading to the current (detached HEAD)')
    expect(top(log)?.category).toBe('git_detached_head')
  })
  it('guard: the runner\'s own "Checking out … as detached HEAD" line is not a failure', () => {
    const log = ['Getting source from Git repository', 'Checking out 1a2b3c4d as detached HEAD (ref is main)...', 'Executing "step_script" stage of the job script', '$ make test', 'FAIL: test_total', 'ERROR: Job failed: exit code 2'].join('\n')
    expect(cats(log)).not.toContain('git_detached_head')
  })
})

describe('packages.ts NPM_PUT_404', () => {
  it('finding 34: a 404 on a PUT to GitLab\'s project npm registry gets GitLab\'s .npmrc (project path, CI_JOB_TOKEN), appended', () => {
    const d = top(step('$ npm publish', 'npm ERR! code E404', 'npm ERR! 404 Not Found - PUT https://gitlab.example.com/api/v4/projects/42/packages/npm/@acme%2fwidgets - 404 Not Found', "npm ERR! 404  '@acme/widgets@1.0.0' is not in this registry."))
    expect(d?.category).toBe('package_registry_auth_failed')
    expect(all(d)).toContain('//gitlab.example.com/api/v4/projects/42/packages/npm/:_authToken=${CI_JOB_TOKEN}')
    // Appended (">>"), never overwritten (a single ">").
    expect(all(d)).not.toMatch(/(?<!>)> \.npmrc/)
  })
  it('guard: npm 10\'s "npm error" wording on registry.npmjs.org', () => {
    expect(top(step('$ npm publish --access public', 'npm error code E404', 'npm error 404 Not Found - PUT https://registry.npmjs.org/@acme%2fwidgets - Not found'))?.category).toBe('package_registry_auth_failed')
  })
})

describe('host.ts GIT_OLD and dind.ts CONNECT', () => {
  it('guard: argparse\'s "error: unrecognized arguments" mid-line is not an old git', () => {
    expect(cats(step('$ python manage.py test --paralel', 'manage.py test: error: unrecognized arguments: --paralel'))).not.toContain('git_client_too_old')
  })
  it('guard: the Python Docker SDK without a socket (docker-py\'s from_env)', () => {
    expect(top(step('$ python build.py', "docker.errors.DockerException: Error while fetching server API version: ('Connection aborted.', FileNotFoundError(2, 'No such file or directory'))"))?.category).toBe('dind_service_missing')
  })
})
