import { describe, expect, it } from 'vitest'
import { all, cats, inImage, on, run, step, top, withServices } from '../../test/support/diagnose-log.js'
import { diagnose } from './engine.js'
import { parseTrace } from './trace.js'

// The twenty-first rule pass (batch 21's dev entries and the tools' wordings): Chromium as root, Gradle's
// vanished daemon, a VM driver without an address, a registry token refused with 403, mkmf without a
// compiler, the new classes locale_not_utf8 and service_credentials_mismatch, an upload the coordinator
// accepted is not the failed stage, Hugo looking for go, an ENTRYPOINT that reads `sh` as its file.

describe('container-privileges.ts: Chromium started as root', () => {
  it('Karma\'s ChromiumHeadless refusing its sandbox', () => {
    const d = top(step('Cannot start ChromiumHeadless', '\t[0102/080439.228858:ERROR:zygote_host_impl_linux.cc(89)] Running as root without --no-sandbox is not supported. See https://crbug.com/638180.'))
    expect(d?.category).toBe('unprivileged_container_build')
    expect(all(d)).toContain('--no-sandbox')
  })
  it('Puppeteer gets its own launch options (rv9\'s note)', () => {
    const d = top(step('$ node render.js', 'Error: Failed to launch the browser process!', '[0102/080439.228858:ERROR:zygote_host_impl_linux.cc(89)] Running as root without --no-sandbox is not supported. See https://crbug.com/638180.'))
    expect(d?.fixes[0]?.snippet).toContain('puppeteer.launch')
  })
})

describe('kubernetes.ts: Gradle\'s client words for a daemon that vanished', () => {
  it('"the daemon has disappeared" is memory, weakly', () => {
    const d = top(step('$ ./gradlew assembleRelease', 'The message received from the daemon indicates that the daemon has disappeared.', 'Build request sent: Build{id=615e5a73, currentDir=/builds/acme/app}'))
    expect(d?.category).toBe('oom_killed')
    expect(d?.confidence).toBeLessThan(0.9)
  })
})

describe('vm-driver.ts: a custom executor\'s VM without an address', () => {
  const log = (a: string, b: string) => ['Running with gitlab-runner 15.10.1 (dcfb4b66)', 'Preparing the "custom" executor', 'Using Custom executor...', `${a} Waiting for the VM to boot and be SSH-able...`, `${b} tart command returned non-zero exit code: "no IP address found, is your VM running?"`, 'ERROR: Job failed: exit status 1'].join('\n')
  it('at once: a driver that did not wait', () => {
    const d = top(log('2023/04/12 19:42:31', '2023/04/12 19:42:31'))
    expect(d?.category).toBe('machine_provisioning_failed')
    expect(d?.cause).toContain('at once')
  })
  it('after its wait: a slow boot', () => {
    expect(top(log('2023/07/07 12:49:27', '2023/07/07 12:50:28'))?.cause).toContain('slow boot')
  })
  it('without timestamps it claims neither (rv9\'s note)', () => {
    const d = top(['Preparing the "custom" executor', 'Using Custom executor...', 'Waiting for the VM to boot and be SSH-able...', 'tart command returned non-zero exit code: "no IP address found, is your VM running?"', 'ERROR: Job failed: exit status 1'].join('\n'))
    expect(d?.category).toBe('machine_provisioning_failed')
    expect(d?.cause).not.toMatch(/at once|slow boot/)
  })
})

describe('registry.ts: a token endpoint answering 403', () => {
  it('tart\'s AuthFailed while retrieving an authentication token', () => {
    expect(top(['Preparing the "custom" executor', 'Using Custom executor...', ' Pulling the latest version of ghcr.io/cirruslabs/macos-ventura-xcode:14.3.1...', ' tart command returned non-zero exit code: "Error: AuthFailed(why: \\"received unexpected HTTP status code 403 while retrieving an authentication token\\", details: \\"{}\\")"', 'WARNING: Cleanup script failed: exit status 1', 'ERROR: Job failed: exit status 1'].join('\n'))?.category).toBe('registry_auth_failed')
  })
})

describe('build-dependencies.ts: mkmf without a compiler', () => {
  it('"You have to install development tools first." names the gem', () => {
    const d = top(step('$ bundle install', 'Gem::Ext::BuildError: ERROR: Failed to build gem native extension.', '', 'current directory:', '/opt/app-root/src/bundle/ruby/3.0.0/gems/mysql2-0.5.3/ext/mysql2', "/usr/share/ruby/mkmf.rb:471:in `try_do': The compiler failed to generate an", 'executable file. (RuntimeError)', 'You have to install development tools first.'))
    expect(d?.category).toBe('dev_headers_missing')
    expect(d?.title).toContain('mysql2')
  })
  it('guard: the script went past it', () => {
    expect(cats(step('$ gem install nokogiri || true', 'You have to install development tools first.', '$ make test', 'make: *** [test] Error 1'))).not.toContain('dev_headers_missing')
  })
})

describe('locale.ts: no UTF-8 locale', () => {
  it('xcpretty on a Mac shell runner', () => {
    const d = top(step("/Users/ci/.rvm/gems/ruby-2.2.3/gems/xcpretty-0.2.2/lib/xcpretty/parser.rb:383:in `===': invalid byte sequence in US-ASCII (ArgumentError)", "from /Users/ci/.rvm/gems/ruby-2.2.3/gems/xcpretty-0.2.2/lib/xcpretty/parser.rb:383:in `update_test_state'"))
    expect(d?.category).toBe('locale_not_utf8')
    expect(d?.fixes[0]?.snippet).toContain('environment = ["LANG=en_US.UTF-8"')
  })
  it('click refusing an ASCII environment, in a Docker job', () => {
    const d = top(inImage('python:3.6', '$ flask db upgrade', 'RuntimeError: Click will abort further execution because Python 3 was configured to use ASCII as encoding for the environment. Consult https://click.palletsprojects.com/python3/ for mitigation steps.'))
    expect(d?.category).toBe('locale_not_utf8')
    expect(d?.fixes[0]?.snippet).toContain('LANG: C.UTF-8')
  })
  it('javac with an ASCII platform encoding', () => {
    expect(top(step('$ mvn -B package', '[ERROR] /builds/acme/app/src/main/java/App.java:[12,30] unmappable character (0xC3) for encoding US-ASCII'))?.category).toBe('locale_not_utf8')
  })
  it('guard: the script went past it', () => {
    expect(cats(step("x.rb:1:in `a': invalid byte sequence in US-ASCII (ArgumentError)", '$ make', 'make: *** [all] Error 2'))).not.toContain('locale_not_utf8')
  })
})

describe('service-credentials.ts: the service refused the job\'s login', () => {
  it('MySQL 1045 from the Docker network, wrapped by the PHP console, no password sent', () => {
    const d = top(step('$ php artisan migrate:refresh --seed', '  [Illuminate\\Database\\QueryException]', "  SQLSTATE[HY000] [1045] Access denied for user 'root'@'172.17.0.3' (using pa  ", '  ssword: NO) (SQL: select * from information_schema.tables)'))
    expect(d?.category).toBe('service_credentials_mismatch')
    expect(d?.fixes[0]?.text).toContain('no password')
  })
  it('PostgreSQL with a postgres service started', () => {
    const d = top(withServices(['postgres:16'], '$ npm run migrate', 'error: password authentication failed for user "app"', 'FATAL:  password authentication failed for user "app"'))
    expect(d?.category).toBe('service_credentials_mismatch')
    expect(d?.fixes[0]?.snippet).toContain('POSTGRES_PASSWORD')
  })
  it('the service named only by the job\'s YAML (--ci)', () => {
    const ciYaml = 'test:\n  image: python:3.12\n  services:\n    - name: postgres:16\n      alias: db\n  script:\n    - pytest\n'
    const d = diagnose({ trace: parseTrace(step('$ pytest', 'E   psycopg.OperationalError: connection failed: FATAL:  password authentication failed for user "app"')), ciYaml }).diagnoses[0]
    expect(d?.category).toBe('service_credentials_mismatch')
    expect(d?.cause).toContain('postgres:16')
  })
  it('guard: a YAML that only runs psql in its script is no service', () => {
    const ciYaml = 'deploy:\n  image: postgres:16\n  script:\n    - psql "$DATABASE_URL" -c "select 1"\n'
    expect(diagnose({ trace: parseTrace(step('$ psql "$DATABASE_URL" -c "select 1"', 'psql: error: connection to server at "db.example.com" (203.0.113.5), port 5432 failed: FATAL:  password authentication failed for user "app"')), ciYaml }).diagnoses.map((x) => x.category)).not.toContain('service_credentials_mismatch')
  })
  it('guard: a shell runner with no service (a real server\'s credentials)', () => {
    expect(cats(on('shell', '$ psql -h db.example.com -U app', 'psql: error: connection to server at "db.example.com" (203.0.113.5), port 5432 failed: FATAL:  password authentication failed for user "app"'))).not.toContain('service_credentials_mismatch')
  })
})

describe('trace-reader.ts: an upload the coordinator accepted is not where the job failed', () => {
  const paste = ['$ php artisan migrate:fresh --seed', 'In Connection.php line 669:', '  SQLSTATE[HY000] [2002] Connection refused', 'Uploading artifacts...', '00:03', '43 storage/logs: found 3 matching files', '44 WARNING: db.sql: no matching files', '45 Uploading artifacts to coordinator... ok            id=391733588 responseStatus=201 Created token=xvYwHHTo', '46 ERROR: Job failed: exit code 1']
  it('a job-page copy: the stage is the script, and the missing artifact path is not the answer', () => {
    const r = run(paste.join('\n'))
    expect(r.phase).toBe('step_script')
    expect(r.diagnoses[0]?.category).not.toBe('artifacts_no_matching_files')
  })
  it('guard: an upload that then fails stays the failed stage', () => {
    const r = run(['$ make', 'Uploading artifacts...', 'Uploading artifacts to coordinator... ok  id=1 responseStatus=201 Created', 'Uploading artifacts as "junit" to coordinator... error', 'ERROR: Uploading artifacts as "junit" to coordinator... too large archive  id=1 responseStatus=413 Request Entity Too Large', 'ERROR: Job failed: exit code 1'].join('\n'))
    expect(r.phase).toBe('upload_artifacts_on_success')
  })
})

describe('missing-programs.ts and image.ts: programs Hugo runs, an ENTRYPOINT that reads sh', () => {
  it('Hugo Modules without go', () => {
    const d = top(step('$ hugo', 'Error: failed to download modules: binary with name "go" not found'))
    expect(d?.category).toBe('command_not_found')
    expect(d?.title).toContain('go')
  })
  it('pandoc opening the runner\'s "sh" as its input file', () => {
    expect(top(['Using Docker executor with image pandoc/latex ...', 'pandoc: sh: openBinaryFile: does not exist (No such file or directory)', 'ERROR: Job failed: exit code 1'].join('\n'))?.category).toBe('image_entrypoint_override')
  })
  it('guard: a shell saying sh is missing is not an ENTRYPOINT', () => {
    expect(cats(['Using Docker executor with image scratch-tools ...', 'env: sh: openBinaryFile: does not exist', 'ERROR: Job failed: exit code 1'].join('\n'))).not.toContain('image_entrypoint_override')
  })
})
