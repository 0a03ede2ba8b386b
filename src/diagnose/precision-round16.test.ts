import { describe, expect, it } from 'vitest'
import { expectLinear, sized } from '../../test/support/linear-time.js'
import { all, cats, on, run, step, top } from '../../test/support/diagnose-log.js'

// Review rv13 of the wordings pass (0fc3dcd: rules from tools' wordings read in their sources), mended after. Each "F<n>" case
// failed on 0fc3dcd and states the behaviour now expected; "guard:" cases held then and must keep holding.

/** Each line, built at a size factor, is read in linear time (test/support/linear-time.ts). */
const linear = (...lines: Array<(k: number) => string>): void => {
  for (const line of lines) expectLinear((k) => { const log = step('$ ./build.sh', line(k)); return () => run(log) }, line(0.001).slice(0, 40))
}

describe('rate-limits.ts: GitHub', () => {
  it('F1: Composer\'s authorized wording (5000 calls/hr, "You are already authorized") is not answered with "give Composer a token" and the anonymous quota', () => {
    const d = top(step('$ composer install --no-interaction',
      'GitHub API limit (5000 calls/hr) is exhausted. You are already authorized so you have to wait until 2026-12-01 23:10:00 before doing more requests',
      '  The "https://api.github.com/repos/acme/lib/zipball/abc" file could not be downloaded (HTTP/2 403 )'))
    expect(d?.category).toBe('registry_rate_limited')
    expect(all(d)).not.toMatch(/COMPOSER_AUTH|anonymous calls/)
  })
  it('F2: gh over a user\'s or a GitHub App installation\'s limit (already authenticated) is not told to authenticate', () => {
    for (const who of ['user ID 4242', 'installation ID 987654']) {
      const d = top(step('$ gh release download v1.2.0 --repo acme/tools', `HTTP 403: API rate limit exceeded for ${who}. (https://api.github.com/repos/acme/tools/releases/tags/v1.2.0)`))
      expect(d?.category).toBe('registry_rate_limited')
      expect(all(d)).not.toMatch(/Authenticate the calls|anonymous calls/)
    }
  })
  it('F3: Composer\'s non-interactive wording ("GitHub API limit exhausted. Failed to get metadata for the … repository") is the same limit', () => {
    expect(cats(step('$ composer install --no-interaction', 'Loading composer repositories with package information',
      'GitHub API limit exhausted. Failed to get metadata for the https://github.com/acme/legacy-sdk.git repository, try running in interactive mode so that you can enter your GitHub credentials to increase the API limit',
      'In GitHubDriver.php line 452:', '  The "https://api.github.com/repos/acme/legacy-sdk/contents/composer.json?ref=v1.2.0" file could not be downloaded (HTTP/2 403 )'))[0]).toBe('registry_rate_limited')
  })
  it('F4: GitHub\'s own JSON answer printed by curl ("message": "API rate limit exceeded for <ip>. …") is the same limit', () => {
    expect(cats(step('$ curl -s https://api.github.com/repos/acme/tools/releases/latest | jq -r \'.assets[0].browser_download_url\'', '{',
      '  "message": "API rate limit exceeded for 203.0.113.7. (But here\'s the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)",',
      '  "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"', '}',
      'jq: error (at <stdin>:4): Cannot index array with "browser_download_url"'))[0]).toBe('registry_rate_limited')
  })
  it('guard: Composer\'s anonymous wording keeps the token advice', () => {
    const d = top(step('$ composer install --no-interaction', '  GitHub API limit (60 calls/hr) is exhausted, could not fetch https://api.github.com/repos/example-org/legacy-sdk/zipball/3f2a1c9. Create a GitHub OAuth token to go over the API rate limit. You can also wait until 2026-12-01 11:04:37 for the rate limit to reset.'))
    expect(d?.category).toBe('registry_rate_limited')
    expect(all(d)).toMatch(/COMPOSER_AUTH/)
  })
  it('guard: gh over the anonymous limit of an IP address keeps "authenticate the calls"', () => {
    const d = top(step('$ gh release download v2.4.0 --repo example-org/cli-tools', 'HTTP 403: API rate limit exceeded for 203.0.113.24. (But here\'s the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.) (https://api.github.com/repos/example-org/cli-tools/releases/tags/v2.4.0)'))
    expect(d?.category).toBe('registry_rate_limited')
    expect(all(d)).toMatch(/GH_TOKEN/)
  })
})

describe('rate-limits.ts: 429 from requests', () => {
  it('F5: requests\' 429 from an API that is not a package index (a Slack webhook) gets no pip advice', () => {
    const d = top(step('$ python scripts/notify.py', 'Traceback (most recent call last):', '  File "/builds/acme/app/scripts/notify.py", line 12, in <module>', '    r.raise_for_status()',
      'requests.exceptions.HTTPError: 429 Client Error: Too Many Requests for url: https://hooks.slack.com/services/T000/B000/XXX'))
    expect(all(d)).not.toMatch(/PIP_CACHE_DIR|PIP_INDEX_URL|pip does not retry/)
  })
  it('F6: a test that fails on its own mocked 429 (localhost) is a test failure, not the job throttled', () => {
    expect(cats(step('$ pytest -q', 'F.', '=================================== FAILURES ===================================',
      '______________________________ test_backoff ______________________________',
      'E   requests.exceptions.HTTPError: 429 Client Error: Too Many Requests for url: http://localhost:8080/api/items', 'tests/test_client.py:41: HTTPError',
      '=========================== short test summary info ============================',
      'FAILED tests/test_client.py::test_backoff - requests.exceptions.HTTPError: 429 Client Error: Too Many Requests for url: http://localhost:8080/api/items',
      '1 failed, 1 passed in 0.31s'))[0]).not.toBe('registry_rate_limited')
  })
  it('guard: pip\'s 429 from the index stays a rate limit', () => {
    expect(cats(step('$ pip install -r requirements.txt', 'Collecting torch==2.5.1 (from -r requirements.txt (line 2))',
      'ERROR: HTTP error 429 while getting https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp312-cp312-linux_x86_64.whl (from https://download.pytorch.org/whl/cpu/torch/) (requires-python:>=3.8.0)',
      'ERROR: 429 Client Error: Too Many Requests for url: https://download.pytorch.org/whl/cpu/torch-2.5.1%2Bcpu-cp312-cp312-linux_x86_64.whl'))[0]).toBe('registry_rate_limited')
  })
})

describe('cloud-endpoints.ts and botocore in network.ts', () => {
  it('F7: boto3\'s EndpointConnectionError in a Python traceback is the same botocore error as the CLI\'s line', () => {
    const c = cats(step('$ python deploy.py', 'Traceback (most recent call last):', '  File "/builds/acme/app/deploy.py", line 8, in <module>',
      '    s3.upload_file("dist.zip", "acme-artifacts", "dist.zip")',
      'botocore.exceptions.EndpointConnectionError: Could not connect to the endpoint URL: "https://acme-artifacts.s3.eu-wset-1.amazonaws.com/dist.zip"'))
    expect(c[0]).toBe('dns_resolution_failure')
  })
  it('F8: a real region (eu-west-1) is not questioned as a typo', () => {
    const d = top(step('$ aws s3 cp dist/ s3://acme-site/ --recursive --region eu-west-1', 'Could not connect to the endpoint URL: "https://acme-site.s3.eu-west-1.amazonaws.com/index.html"'))
    expect(all(d)).not.toMatch(/a real region\?/)
  })
  it('F9: an upload in after_script that cannot reach S3 does not outrank the script\'s own failure (after_script cannot fail the job)', () => {
    const c = cats(step('$ npm test', '  1 failing', '  1) api returns 200:', '     AssertionError: expected 500 to equal 200', 'npm error Lifecycle script `test` failed with error:',
      'Running after_script', 'Running after script...', '$ aws s3 cp coverage/ s3://acme-reports/ --recursive',
      'Could not connect to the endpoint URL: "https://acme-reports.s3.eu-west-1.amazonaws.com/"'))
    expect(['dns_resolution_failure', 'egress_blocked_firewall']).not.toContain(c[0])
  })
  it('F10: botocore\'s ConnectTimeoutError in a Python traceback is the connect timeout the CLI line is', () => {
    expect(cats(step('$ python sync.py', 'Traceback (most recent call last):', '  File "/builds/acme/app/sync.py", line 4, in <module>',
      'botocore.exceptions.ConnectTimeoutError: Connect timeout on endpoint URL: "https://sts.eu-west-1.amazonaws.com/"'))[0]).toBe('egress_blocked_firewall')
  })
  it('guard: a misspelt region on the CLI stays a name that does not resolve, with the region named', () => {
    const d = top(step('$ aws ecr get-login-password --region eu-centrall-1', '', 'Could not connect to the endpoint URL: "https://api.ecr.eu-centrall-1.amazonaws.com/"'))
    expect(d?.category).toBe('dns_resolution_failure')
    expect(all(d)).toMatch(/eu-centrall-1/)
  })
})

describe('runner.ts: cargo and Java resets', () => {
  it('F11: cargo\'s "spurious network error" warning it retried past is not the answer when the build then fails to compile', () => {
    expect(cats(step('$ cargo build --locked', '    Updating crates.io index',
      'warning: spurious network error (2 tries remaining): failed to get successful HTTP response from `https://index.crates.io/se/rd/serde` (151.101.2.137), got 503',
      '  Downloaded serde v1.0.210', '   Compiling api v0.4.0 (/builds/acme/api)', 'error[E0425]: cannot find value `cfg` in this scope', '  --> src/main.rs:10:5',
      'error: could not compile `api` (bin "api") due to 1 previous error'))[0]).not.toBe('upstream_service_unavailable')
  })
  it('F12: cargo before 1.66 words the same failure "failed to get 200 response from `…`, got 503"', () => {
    expect(cats(step('$ cargo build', 'error: failed to download from `https://crates.io/api/v1/crates/serde/1.0.100/download`', '', 'Caused by:',
      '  failed to get 200 response from `https://crates.io/api/v1/crates/serde/1.0.100/download`, got 503'))[0]).toBe('upstream_service_unavailable')
  })
  it('F13: RESET\'s new `from\\/to [^\\n]*\\)` alternative is linear on a long line of repeated "from/to ("', () => {
    linear((k) => 'from/to ('.repeat(sized(18_000, k)))
  })
  it('guard: cargo\'s 503 as the final error stays the registry\'s outage', () => {
    expect(cats(step('$ cargo build --locked --release', 'error: failed to download from `https://index.crates.io/se/rd/serde`', '', 'Caused by:',
      '  failed to get successful HTTP response from `https://index.crates.io/se/rd/serde` (151.101.2.137), got 503'))[0]).toBe('upstream_service_unavailable')
  })
  it('guard: Maven\'s "from/to central (…): Connection reset -> [Help 1]" stays a reset', () => {
    expect(cats(step('$ mvn -B package', '[ERROR] Failed to execute goal on project billing: Could not resolve dependencies for project com.example:billing:jar:2.0.1: Could not transfer artifact com.fasterxml.jackson.core:jackson-databind:jar:2.17.2 from/to central (https://repo.maven.apache.org/maven2): Connection reset -> [Help 1]'))[0]).toBe('network_connection_reset')
  })
})

describe('toolchain.ts: the new version wordings', () => {
  it('F14: a runtime above the accepted range (enforcer, Poetry, pnpm, Terraform) is named newer, not older', () => {
    const logs = [
      step('$ mvn -B verify', '[INFO] --- maven-enforcer-plugin:3.4.1:enforce (enforce-versions) @ billing ---',
        '[WARNING] Rule 0: org.apache.maven.enforcer.rules.version.RequireJavaVersion failed with message:',
        'Detected JDK version 21.0.2 (JAVA_HOME=/opt/java/openjdk) is not in the allowed range [11,17).', '[INFO] BUILD FAILURE'),
      step('$ poetry install --no-interaction', 'The currently activated Python version 3.12.1 is not supported by the project (>=3.9,<3.12).', 'Trying to find and use a compatible version. ', '',
        'Poetry was unable to find a compatible version. If you have one, you can explicitly use it via the "env use" command.'),
      step('$ pnpm install --frozen-lockfile', ' ERR_PNPM_UNSUPPORTED_ENGINE  Unsupported environment (bad pnpm and/or Node.js version)', '',
        'Your Node version is incompatible with "/builds/group/web".', '', 'Expected version: >=16 <19', 'Got: v20.11.0'),
      step('$ terraform init -input=false', '╷', '│ Error: Unsupported Terraform Core version', '│ ', '│   on versions.tf line 2, in terraform:', '│    2:   required_version = "~> 1.5.0"', '│ ',
        '│ This configuration does not support Terraform version 1.9.5. To proceed,', '│ either choose another supported Terraform version or update this version', '│ constraint.', '╵'),
    ]
    for (const log of logs) {
      const d = top(log)
      expect(d?.category).toBe('toolchain_version_too_old')
      expect(d?.title).toMatch(/newer/)
    }
  })
  it('F15: pub\'s dependency form ("depends on x which requires SDK version") and Flutter\'s ("requires Flutter SDK version")', () => {
    expect(cats(step('$ dart pub get', 'Resolving dependencies...', 'The current Dart SDK version is 3.3.4.', '',
      'Because app depends on http >=1.3.0 which requires SDK version >=3.4.0 <4.0.0, version solving failed.'))[0]).toBe('toolchain_version_too_old')
    expect(cats(step('$ flutter pub get', 'Resolving dependencies...', 'The current Flutter SDK version is 3.19.6.', '',
      'Because app requires Flutter SDK version >=3.22.0, version solving failed.'))[0]).toBe('toolchain_version_too_old')
  })
  it('F16: Go ≤ 1.20\'s "invalid go version \'1.22.1\'" is not fixed by GOTOOLCHAIN (Go 1.21 introduced it)', () => {
    const d = top(step('$ go build ./...', 'go: errors parsing go.mod:', "/builds/group/api/go.mod:3: invalid go version '1.22.1': must match format 1.23"))
    expect(d?.category).toBe('toolchain_version_too_old')
    expect(all(d)).not.toMatch(/GOTOOLCHAIN/)
  })
  it('guard: Go 1.21+ refusing a newer go line keeps GOTOOLCHAIN=auto', () => {
    expect(all(top(step('$ go build ./...', 'go: go.mod requires go >= 1.23.0 (running go 1.22.5; GOTOOLCHAIN=local)')))).toMatch(/GOTOOLCHAIN=auto/)
  })
  it('guard: a JDK below the enforcer\'s range stays "older"', () => {
    const d = top(step('$ mvn -B verify', 'Detected JDK version 11.0.21 (JAVA_HOME=/opt/java/openjdk) is not in the allowed range [17,).', '[INFO] BUILD FAILURE'))
    expect(d?.category).toBe('toolchain_version_too_old')
    expect(d?.title).toMatch(/older/)
  })
})

describe('packages.ts', () => {
  it('F17: NuGet\'s NU1801 (a source it could not read) before NU1101 is the feed, not a missing package', () => {
    expect(cats(step('$ dotnet restore', '  Determining projects to restore...',
      '/builds/acme/app/src/App/App.csproj : warning NU1801: Unable to load the service index for source https://gitlab.example.com/api/v4/projects/12/packages/nuget/index.json.',
      '/builds/acme/app/src/App/App.csproj : error NU1101: Unable to find package Acme.Billing.Client. No packages exist with this id in source(s): gitlab, nuget.org'))[0]).not.toBe('package_not_found')
  })
  it('F18: Gradle\'s dynamic-version form ("Could not find any matches for g:a:2.+ as no versions of g:a are available")', () => {
    expect(cats(step('$ ./gradlew assemble --no-daemon', 'FAILURE: Build failed with an exception.', '', '* What went wrong:', 'Execution failed for task \':app:compileJava\'.',
      '> Could not resolve all files for configuration \':app:compileClasspath\'.',
      '   > Could not find any matches for com.acme:billing-client:2.+ as no versions of com.acme:billing-client are available.',
      '     Searched in the following locations:', '       - https://repo.maven.apache.org/maven2/com/acme/billing-client/maven-metadata.xml', '     Required by:', '         project :app'))[0]).toBe('package_not_found')
  })
  it('F19: pytest\'s collection error prints the dlopen failure as "E   ImportError: libGL.so.1: cannot open shared object file"', () => {
    expect(cats(step('$ python -m pytest', 'ImportError while importing test module \'/builds/group/ml/tests/test_model.py\'.', 'Hint: make sure your test modules/packages have valid Python names.',
      'Traceback:', 'tests/test_model.py:3: in <module>', '    import cv2', 'E   ImportError: libGL.so.1: cannot open shared object file: No such file or directory',
      '=========================== short test summary info ============================', 'ERROR tests/test_model.py'))[0]).toBe('binary_loader_missing')
  })
  it('F20: the new alternatives of toolchain.ts and packages.ts are linear on long lines of repeated prefixes', () => {
    linear((k) => 'Detected JDK version 1 '.repeat(sized(7000, k)), (k) => 'Root composer.json requires a b '.repeat(sized(5000, k)), (k) => "Could not find a valid gem 'a' (".repeat(sized(5200, k)))
  })
  it('guard: NU1101 with every source read stays a missing package', () => {
    expect(cats(step('$ dotnet restore', '/builds/group/app/src/App/App.csproj : error NU1101: Unable to find package Acme.Billing.Client. No packages exist with this id in source(s): nuget.org'))[0]).toBe('package_not_found')
  })
  it('guard: the ImportError at the start of a traceback\'s last line stays the loader', () => {
    expect(cats(step('$ python scripts/make_thumbnails.py', 'Traceback (most recent call last):', '    import cv2', 'ImportError: libGL.so.1: cannot open shared object file: No such file or directory'))[0]).toBe('binary_loader_missing')
  })
})

describe('kubernetes.ts: memory', () => {
  it('F21: the Kotlin daemon\'s "Not enough memory to run compilation" is its own heap: the first fix is kotlin.daemon.jvmargs, not the container\'s limit', () => {
    const d = top(step('$ ./gradlew assembleRelease', '> Task :app:compileReleaseKotlin FAILED', 'FAILURE: Build failed with an exception.', '',
      '   > Not enough memory to run compilation. Try to increase it via \'gradle.properties\':', '     kotlin.daemon.jvmargs=-Xmx<size>'))
    expect(d?.category).toBe('oom_killed')
    expect(`${d?.fixes[0]?.text ?? ''} ${d?.fixes[0]?.snippet ?? ''}`).toMatch(/kotlin\.daemon\.jvmargs/)
  })
  it('F22: "Call retries were exceeded" after a worker died of SIGSEGV is a crash, not memory (and the job did not exit 137)', () => {
    expect(cats(step('$ npx jest --ci', '    A jest worker process (pid=2113) was terminated by another process: signal=SIGSEGV, exitCode=null. Operating system logs may contain more information on why this occurred.',
      'Error: Call retries were exceeded'))[0]).not.toBe('oom_killed')
  })
  it('guard: "Call retries were exceeded" alone (Next.js build) still offers memory among the first three', () => {
    expect(cats(step('$ npm run build', '> Build error occurred', 'Error: Call retries were exceeded', '    at ChildProcessWorker.initialize (/builds/acme/web/node_modules/next/dist/compiled/jest-worker/index.js:1:11580)')).slice(0, 3)).toContain('oom_killed')
  })
})

describe('host.ts', () => {
  it('F23: NO_SPACE\'s new SQLITE_FULL under the /i flag does not match a test named test_retries_on_sqlite_full', () => {
    expect(cats(step('$ pytest -q', 'FAILED tests/test_store.py::test_retries_on_sqlite_full - AssertionError: expected 3 retries, got 1', '1 failed, 40 passed in 2.10s'))[0]).not.toBe('no_space_left_on_device')
  })
  it('F24: RubyGems refusing a directory of the shell executor\'s checkout (~/builds/…) is not "needs root" with Docker-image advice', () => {
    expect(cats(on('shell', '$ gem install bundler --install-dir vendor/gems', 'ERROR:  While executing gem ... (Gem::FilePermissionError)',
      '    You don\'t have write permissions for the /home/gitlab-runner/builds/x7Yz/0/acme/app/vendor/gems directory.'))[0]).not.toBe('permission_denied_non_root')
  })
  it('F25: the checkout refused on a Windows runner (a file another process holds) gets no sudo chown / gitlab-runner install --user advice', () => {
    const d = top(['Running with gitlab-runner 17.5.0 (c6eae8ea)', 'Preparing the "shell" executor', 'Using Shell (pwsh) executor...', 'Getting source from Git repository',
      'Fetching changes with git depth set to 20...', 'Reinitialized existing Git repository in C:/GitLab-Runner/builds/acme/app/.git/',
      'Checking out 4f2a9c1e as detached HEAD (ref is main)...', "error: unable to unlink old 'tools/bin/protoc.exe': Permission denied", 'ERROR: Job failed: exit status 1'].join('\n'))
    expect(all(d)).not.toMatch(/sudo chown|install --user gitlab-runner/)
  })
  it('F26: changesets\' "Does origin/main exist?" needs the base branch fetched (the runner fetches only the pipeline\'s ref), not only more depth', () => {
    const d = top(step('$ pnpm changeset status --since=origin/main', '🦋  error Error: Failed to find where HEAD diverged from origin/main. Does origin/main exist?'))
    expect(d?.category).toBe('shallow_clone_missing_ref')
    expect(all(d)).toMatch(/git fetch[^\n]*origin[^\n]*main/)
  })
  it('guard: the runner\'s clean refused on a Linux shell runner stays the build directory', () => {
    const log = ['Running with gitlab-runner 17.5.0 (c6eae8ea)', 'Preparing the "shell" executor', 'Using Shell (bash) executor...', 'Getting source from Git repository',
      'Fetching changes with git depth set to 20...', 'Reinitialized existing Git repository in /home/gitlab-runner/builds/x7Yz/0/acme/app/.git/',
      'warning: failed to remove node_modules/.cache/babel: Permission denied', 'ERROR: Job failed: exit status 1'].join('\n')
    expect(cats(log)[0]).toBe('permission_denied_builds_dir')
  })
  it('guard: Django\'s "database or disk is full" stays the disk', () => {
    expect(cats(step('$ python manage.py test', 'sqlite3.OperationalError: database or disk is full', 'django.db.utils.OperationalError: database or disk is full'))[0]).toBe('no_space_left_on_device')
  })
  it('guard: RubyGems refusing the image\'s gem directory stays "needs root"', () => {
    expect(cats(step('$ gem install bundler -v 2.5.6', 'ERROR:  While executing gem ... (Gem::FilePermissionError)', '    You don\'t have write permissions for the /usr/local/bundle directory.'))[0]).toBe('permission_denied_non_root')
  })
})

describe('image.ts: programs', () => {
  it('F27: subprocess\'s FileNotFoundError naming its cwd (chdir failed: "noexec:chdir") is a missing directory, not a command', () => {
    expect(cats(step('$ python scripts/build_docs.py', 'Traceback (most recent call last):', '  File "/builds/acme/handbook/scripts/build_docs.py", line 22, in <module>',
      '    subprocess.run(["make", "html"], cwd="docs", check=True)', '  File "/usr/local/lib/python3.12/subprocess.py", line 1026, in __init__',
      '    self._execute_child(args, executable, preexec_fn, close_fds,', '  File "/usr/local/lib/python3.12/subprocess.py", line 1955, in _execute_child',
      '    raise child_exception_type(errno_num, err_msg, err_filename)', "FileNotFoundError: [Errno 2] No such file or directory: 'docs'"))[0]).not.toBe('command_not_found')
  })
  it('guard: subprocess\'s FileNotFoundError naming the program stays a missing command', () => {
    expect(cats(step('$ python scripts/release.py', '  File "/usr/local/lib/python3.12/subprocess.py", line 1955, in _execute_child',
      '    raise child_exception_type(errno_num, err_msg, err_filename)', "FileNotFoundError: [Errno 2] No such file or directory: 'git'"))[0]).toBe('command_not_found')
  })
})

describe('script.ts: host keys', () => {
  it('F28: paramiko on a port other than 22 names the host "[host]:port"', () => {
    expect(cats(step('$ python deploy/push.py', 'Traceback (most recent call last):', '  File "/usr/local/lib/python3.12/site-packages/paramiko/client.py", line 843, in missing_host_key',
      "paramiko.ssh_exception.SSHException: Server '[10.0.0.5]:2222' not found in known_hosts"))[0]).toBe('ssh_host_key_verification_failed')
  })
  it('F29: Ansible\'s host key failure names the inventory host, not "<git host>", and is not a GitLab clone', () => {
    const d = top(step('$ ansible-playbook -i inventories/prod site.yml', 'TASK [Gathering Facts] *********************************************************',
      'fatal: [web1.prod.example.com]: UNREACHABLE! => {"changed": false, "msg": "Failed to connect to the host via ssh: Host key verification failed.", "unreachable": true}'))
    expect(d?.category).toBe('ssh_host_key_verification_failed')
    expect(all(d)).toMatch(/web1\.prod\.example\.com/)
    expect(all(d)).not.toMatch(/<git host>/)
  })
  it('guard: paramiko on port 22', () => {
    expect(cats(step('$ python deploy/push.py', "paramiko.ssh_exception.SSHException: Server '10.0.0.5' not found in known_hosts"))[0]).toBe('ssh_host_key_verification_failed')
  })
})

describe('tls.ts', () => {
  it('guard: .NET\'s RevocationStatusUnknown (a CRL it could not fetch) is not an untrusted CA', () => {
    expect(cats(step('$ dotnet restore', '/usr/share/dotnet/sdk/8.0.404/NuGet.targets(174,5): error :   The remote certificate is invalid because of errors in the certificate chain: RevocationStatusUnknown, OfflineRevocation [/builds/a/App.sln]'))).not.toContain('tls_untrusted_ca')
  })
})

describe('registry.ts: capitals in a FROM', () => {
  it('F30: the new literal-capitals check is linear on a long stage name without its closing quote', () => {
    linear((k) => `failed to parse stage name "${'A'.repeat(sized(80_000, k))}: invalid reference format: repository name must be lowercase`)
  })
})
