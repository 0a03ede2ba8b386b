import { describe, expect, it } from 'vitest'
import { all, cats, step, top } from '../../test/support/diagnose-log.js'

// The twenty-fourth pass (second session of stop 24) was written from tools' wordings read in their sources
// (test/fixtures/diagnose/wordings/sources-*.json, 156 cases), not from corpus logs. Each catalogue case checks
// that a wording lands on its class; these check what the same tools print for other causes, which must not.

describe('memory', () => {
  it('a jest worker killed by SIGSEGV or SIGABRT is a crash, not memory', () => {
    for (const sig of ['SIGSEGV', 'SIGABRT']) {
      expect(cats(step('$ npx jest --ci', `    A jest worker process (pid=2113) was terminated by another process: signal=${sig}, exitCode=null. Operating system logs may contain more information on why this occurred.`))[0]).not.toBe('oom_killed')
    }
  })
  it('rustc ending with exit status 1 is a compile error, not a kill', () => {
    expect(cats(step('$ cargo build', 'error: could not compile `api` (lib)', '', 'Caused by:', '  process didn\'t exit successfully: `rustc --crate-name api src/lib.rs` (exit status: 1)'))[0]).not.toBe('oom_killed')
  })
  it('a JVM that could not create a thread because clone3 was refused (EPERM) is seccomp, not memory', () => {
    const log = step('$ ./mvnw -B verify', '[0.011s][warning][os,thread] Failed to start thread "GC Thread#0" - pthread_create failed (EPERM) for attributes: stacksize: 1024k, guardsize: 4k, detached.',
      'Error occurred during initialization of VM', 'java.lang.OutOfMemoryError: unable to create native thread: possibly out of memory or process/resource limits reached')
    expect(cats(log)[0]).toBe('seccomp_blocks_new_syscalls')
  })
  it('a Surefire fork that died without exit code 137 is not named memory first', () => {
    expect(cats(step('$ mvn -B verify', '[ERROR] The forked VM terminated without properly saying goodbye. VM crash or System.exit called?'))[0]).not.toBe('oom_killed')
  })
})

describe('programs', () => {
  it('FileNotFoundError for a data file (no subprocess frame) is not a missing program', () => {
    expect(cats(step('$ python scripts/report.py', 'Traceback (most recent call last):', '  File "/builds/a/b/scripts/report.py", line 3, in <module>', '    open("settings")', "FileNotFoundError: [Errno 2] No such file or directory: 'settings'"))[0]).not.toBe('command_not_found')
  })
  it('Ruby opening a missing file (rb_sysopen) is not a missing program', () => {
    expect(cats(step('$ bundle exec rake db:seed', 'rake aborted!', 'Errno::ENOENT: No such file or directory @ rb_sysopen - config/seeds.yml'))[0]).not.toBe('command_not_found')
  })
  it('the Java launcher missing a real main class is not an ENTRYPOINT swallowing the script', () => {
    expect(cats(step('$ java -cp build/classes com.acme.Main', 'Error: Could not find or load main class com.acme.Main', 'Caused by: java.lang.ClassNotFoundException: com.acme.Main'))[0]).not.toBe('image_entrypoint_override')
  })
})

describe('history and the clone', () => {
  it('setuptools_scm names the shallow clone and the fix fetches history', () => {
    const d = top(step('$ python -m build', 'ValueError: /builds/acme/sdk is shallow, please correct with "git fetch --unshallow"'))
    expect(d?.category).toBe('shallow_clone_missing_ref')
    expect(all(d)).toMatch(/GIT_DEPTH: 0/)
  })
  it('git\'s "unable to unlink old" from a git command of the script is not the runner\'s build directory', () => {
    expect(cats(step('$ git checkout release', "error: unable to unlink old 'dist/main.js': Permission denied"))[0]).not.toBe('permission_denied_builds_dir')
  })
  it('RubyGems refusing a directory under /builds is not the image user', () => {
    expect(cats(step('$ gem install bundler', 'ERROR:  While executing gem ... (Gem::FilePermissionError)', '    You don\'t have write permissions for the /builds/acme/app/vendor directory.'))[0]).not.toBe('permission_denied_non_root')
  })
})

describe('versions and packages', () => {
  it('a go line that is not a version is a typo, not an old Go', () => {
    expect(cats(step('$ go build ./...', 'go: errors parsing go.mod:', "/builds/a/go.mod:3: invalid go version 'one.two': must match format 1.23"))[0]).not.toBe('toolchain_version_too_old')
  })
  it('Composer missing a PHP extension is not an old PHP', () => {
    expect(cats(step('$ php artisan config:cache', 'PHP Fatal error:  Composer detected issues in your platform: Your Composer dependencies require the following PHP extensions to be installed: intl. in /builds/a/vendor/composer/platform_check.php on line 24'))[0]).not.toBe('toolchain_version_too_old')
  })
  it('RubyGems that could not download the index is the network, not a missing gem', () => {
    expect(cats(step('$ gem install rubocop', "ERROR:  Could not find a valid gem 'rubocop' (= 1.68.0), here is why:", '          Unable to download data from https://rubygems.org/ - Net::OpenTimeout: Failed to open TCP connection to rubygems.org:443 (execution expired) (https://rubygems.org/specs.4.8.gz)'))[0]).toBe('egress_blocked_firewall')
  })
  it('Gradle\'s "Could not find" with no repositories searched (an SDK component never installed) is not a missing package', () => {
    expect(cats(step('$ ./gradlew assembleDebug', '   > Could not resolve all dependencies for configuration \':app:compile\'.', '      > Could not find com.android.support:support-v4:24.2.1.', '        Required by:', '            project :app'))[0]).not.toBe('package_not_found')
  })
  it('a FROM whose capitals come from a build ARG stays a build-arg answer', () => {
    expect(cats(step('$ docker build .', 'Dockerfile:2', '   2 | >>> FROM ${BASE}', 'ERROR: failed to solve: failed to parse stage name "Registry.example.com/base:1": invalid reference format: repository name must be lowercase'))[0]).toBe('dockerfile_build_arg')
  })
})

describe('networks, limits, hosts', () => {
  it('a GitHub 403 without the rate-limit words is not a rate limit', () => {
    expect(cats(step('$ gh release download v1 --repo a/b', 'HTTP 403: Resource not accessible by integration (https://api.github.com/repos/a/b/releases/tags/v1)'))).not.toContain('registry_rate_limited')
  })
  it('pip answered 503 is the index\'s outage, not a rate limit', () => {
    expect(cats(step('$ pip install -r requirements.txt', 'ERROR: 503 Server Error: Service Unavailable for url: https://pypi.example.com/simple/torch/'))[0]).not.toBe('registry_rate_limited')
  })
  it('cargo answered 429 is not an outage', () => {
    expect(cats(step('$ cargo build', 'error: failed to get `serde` as a dependency', '', 'Caused by:', '  failed to get successful HTTP response from `https://index.crates.io/se/rd/serde` (151.101.2.137), got 429'))[0]).not.toBe('upstream_service_unavailable')
  })
  it('botocore\'s read timeout is not a blocked connection', () => {
    expect(cats(step('$ aws s3 cp big.tar s3://b/', 'Read timeout on endpoint URL: "https://b.s3.eu-west-1.amazonaws.com/big.tar"'))[0]).not.toBe('egress_blocked_firewall')
  })
  it('the aws CLI that cannot reach its endpoint: the region first, a blocked path second', () => {
    const d = top(step('$ aws ecr get-login-password --region eu-centrall-1', 'Could not connect to the endpoint URL: "https://api.ecr.eu-centrall-1.amazonaws.com/"'))
    expect(d?.category).toBe('dns_resolution_failure')
    expect(all(d)).toMatch(/eu-centrall-1/)
  })
  it('an SSH handshake that fails to authenticate is not the host key', () => {
    expect(cats(step('$ flux bootstrap git --url=ssh://git@gitlab.example.com/p/f.git', '✗ failed to clone repository: ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey], no supported methods remain'))[0]).not.toBe('ssh_host_key_verification_failed')
  })
  it('Terraform\'s registry answering 503 is the registry\'s outage, not GitLab\'s', () => {
    expect(cats(step('$ terraform init', '│ Could not retrieve the list of available versions for provider hashicorp/azurerm: could not connect to registry.terraform.io: failed to request discovery document: 503 Service Unavailable'))[0]).toBe('upstream_service_unavailable')
  })
})
