import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { expectLinear, sized } from '../../test/support/linear-time.js'
import { all, cats, inImage, on, run, step, top, withServices } from '../../test/support/diagnose-log.js'
import { parseTrace, parseTraceStream } from './trace.js'

// Review rv9 of issue 14's rule changes (7034cae, f205970, 7a61be2): 27 findings (F1–F27, mended in the
// commit after "Merge branch 'helper-rv9'") and the guards that must stay.

describe('dependency-drift.ts', () => {
  // F1: pytest prints frames as `path:line: in fn`, not `File "path", line n`: the drift is missed.
  it('F1: pytest\'s collection error for jinja2 importing what markupsafe removed is drift', () => {
    const d = top(step('$ pytest', '______ ERROR collecting tests/test_docs.py ______', 'tests/test_docs.py:1: in <module>', '    import jinja2',
      '/usr/local/lib/python3.9/site-packages/jinja2/__init__.py:12: in <module>', '    from .environment import Environment',
      '/usr/local/lib/python3.9/site-packages/jinja2/filters.py:13: in <module>', '    from markupsafe import soft_unicode',
      "E   ImportError: cannot import name 'soft_unicode' from 'markupsafe' (/usr/local/lib/python3.9/site-packages/markupsafe/__init__.py)",
      '=========================== short test summary info ============================', 'ERROR tests/test_docs.py', '!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!'))
    expect(d?.category).toBe('broken_tool_version')
  })
  // F2: the frame search crosses into an earlier, unrelated traceback (a logged warning from a library).
  it('F2: a project\'s own ImportError under pytest does not borrow a library frame from an earlier traceback', () => {
    expect(cats(step('$ pytest',
      'Traceback (most recent call last):', '  File "/usr/local/lib/python3.11/site-packages/urllib3/connectionpool.py", line 703, in urlopen', '    httplib_response = self._make_request(', 'ConnectionResetError: [Errno 104] Connection reset by peer',
      '______ ERROR collecting tests/test_models.py ______', 'tests/test_models.py:3: in <module>', '    from app.models import Usr',
      "E   ImportError: cannot import name 'Usr' from 'app.models' (/builds/acme/app/app/models.py)"))).not.toContain('broken_tool_version')
  })
  // F3: Python 3.12 appends a suggestion to an ImportError; the `\)$` anchor misses the line.
  it('F3: Python 3.12\'s "Did you mean" suffix on the ImportError', () => {
    expect(top(step('$ python train.py', 'Traceback (most recent call last):', '  File "/usr/local/lib/python3.12/site-packages/imgaug/imgaug.py", line 15, in <module>', '    from numpy import float_',
      "ImportError: cannot import name 'float_' from 'numpy' (/usr/local/lib/python3.12/site-packages/numpy/__init__.py). Did you mean: 'float16'?"))?.category).toBe('broken_tool_version')
  })
  // F4: the provider is the import name; pip installs distributions (Pillow, protobuf), not PIL or google.
  it('F4a: Pillow 10 dropping ANTIALIAS: the fix pins Pillow, not "PIL"', () => {
    const d = top(step('$ python make_thumbs.py', 'Traceback (most recent call last):', '  File "/usr/local/lib/python3.11/site-packages/moviepy/video/fx/resize.py", line 37, in resizer',
      '    resized_pil = pilim.resize(newsize[::-1], Image.ANTIALIAS)', "AttributeError: module 'PIL.Image' has no attribute 'ANTIALIAS'"))
    expect(d?.category).toBe('broken_tool_version')
    expect(d?.fixes[0]?.snippet).not.toContain('pip install "PIL<')
    expect(all(d).toLowerCase()).toContain('pillow')
  })
  it('F4b: protobuf 4 without internal.builder: the fix pins protobuf, not "google"', () => {
    const d = top(step('$ python -m tensorboard.main --logdir runs', 'Traceback (most recent call last):', '  File "/usr/local/lib/python3.10/site-packages/tensorboard/compat/proto/resource_handle_pb2.py", line 5, in <module>',
      '    from google.protobuf.internal import builder as _builder',
      "ImportError: cannot import name 'builder' from 'google.protobuf.internal' (/usr/local/lib/python3.10/site-packages/google/protobuf/internal/__init__.py)"))
    expect(d?.category).toBe('broken_tool_version')
    expect(d?.fixes[0]?.snippet).not.toContain('pip install "google<')
    expect(d?.fixes[0]?.snippet).toContain('protobuf')
  })
  it('F4c: pyOpenSSL and cryptography\'s bindings: the fix does not pin a package named "lib"', () => {
    const d = top(step('$ certbot renew', 'Traceback (most recent call last):', '  File "/usr/lib/python3/dist-packages/OpenSSL/crypto.py", line 1553, in X509StoreFlags',
      '    CB_ISSUER_CHECK = _lib.X509_V_FLAG_CB_ISSUER_CHECK', "AttributeError: module 'lib' has no attribute 'X509_V_FLAG_CB_ISSUER_CHECK'"))
    expect(d?.category).toBe('broken_tool_version')
    expect(d?.fixes[0]?.snippet).not.toContain('pip install "lib<')
  })
  // F5: PY_STDLIB lists modules, not removed names: a name a NEWER Python added is read as "Python too new".
  it('F5: typing.Literal missing on Python 3.7 is an older Python, not a newer one', () => {
    const d = top(step('$ black --check .', 'Traceback (most recent call last):', '  File "/usr/local/lib/python3.7/site-packages/pydantic_core/core_schema.py", line 16, in <module>',
      '    from typing import Literal', "AttributeError: module 'typing' has no attribute 'Literal'"))
    expect(all(d)).not.toMatch(/newer than/)
    expect(all(d)).not.toContain('image: python:3.9   # the last minor version')
  })
  it('F6: a project file named random.py shadowing the stdlib is not a Python version problem', () => {
    expect(cats(step('$ python -m pytest', 'Traceback (most recent call last):', '  File "/usr/local/lib/python3.12/site-packages/faker/generator.py", line 19, in seed_instance',
      '    self.__random = random_module.Random()', "AttributeError: module 'random' has no attribute 'Random'"))).not.toContain('toolchain_version_too_old')
  })
  // F7: Laravel forwards a call on the project's own model through vendor/ (ForwardsCalls.php).
  it('F7: "Call to undefined method App\\Models\\User::posts()" in ForwardsCalls.php is the project\'s code', () => {
    expect(cats(step('$ php artisan db:seed', "PHP Fatal error:  Uncaught BadMethodCallException: Call to undefined method App\\Models\\User::posts() in /builds/acme/app/vendor/laravel/framework/src/Illuminate/Support/Traits/ForwardsCalls.php:67"))).not.toContain('broken_tool_version')
  })
  // F8: ActiveModel's method_missing raising for the project's record (a typo) is not a gem's drift.
  it('F8: NoMethodError on the project\'s own model, raised in ActiveModel\'s method_missing', () => {
    expect(cats(step('$ bin/rails runner scripts/backfill.rb', "/usr/local/bundle/gems/activemodel-7.0.4/lib/active_model/attribute_methods.rb:450:in `method_missing': undefined method `nmae' for #<User id: 1, email: \"a@example.com\"> (NoMethodError)"))).not.toContain('broken_tool_version')
  })
  // F9: Ruby 3.3/3.4 word the receiver "for class File" / "for an instance of X": the provider becomes "class"/"an".
  it('F9: Ruby 3.4\'s wording names File, not "class"', () => {
    const d = top(step('$ bundle exec jekyll build', "/usr/local/bundle/gems/jekyll-3.9.0/lib/jekyll/commands/serve.rb:9:in '<class:Serve>': undefined method 'exists?' for class File (NoMethodError)"))
    expect(d?.category).toBe('broken_tool_version')
    expect(all(d)).not.toMatch(/calls class\b|provide class\b/)
    expect(all(d)).toContain('File')
  })
  // F10: the JDK 11+ AbstractMethodError and the usual IncompatibleClassChangeError have no `name(` after the colon.
  it('F10a: JDK 11+ AbstractMethodError ("Receiver class … does not define or inherit …")', () => {
    expect(top(step('$ mvn -B verify', '[ERROR] Failed to execute goal org.apache.maven.plugins:maven-surefire-plugin:3.0.0:test (default-test) on project app: Execution default-test of goal org.apache.maven.plugins:maven-surefire-plugin:3.0.0:test failed: An API incompatibility was encountered while executing org.apache.maven.plugins:maven-surefire-plugin:3.0.0:test: java.lang.AbstractMethodError: Receiver class org.apache.maven.surefire.booter.ForkedBooter does not define or inherit an implementation of the resolved method \'abstract void setup()\' of interface org.apache.maven.surefire.api.booter.Booter.'))?.category).toBe('broken_tool_version')
  })
  it('F10b: "IncompatibleClassChangeError: Found interface …, but class was expected"', () => {
    expect(top(step('$ ./gradlew build', '> Task :app:compileJava FAILED', 'java.lang.IncompatibleClassChangeError: Found interface org.objectweb.asm.ClassVisitor, but class was expected',
      '\tat org.gradle.internal.classpath.InstrumentingClasspathFileTransformer.transform(InstrumentingClasspathFileTransformer.java:91)'))?.category).toBe('broken_tool_version')
  })
  // F11: the check for a later command ignores stages: after_script's own `$ ` lines silence the rule.
  it('F11: an after_script does not hide the drift', () => {
    expect(top(step('$ mkdocs build', 'Traceback (most recent call last):', '  File "/usr/local/lib/python3.9/site-packages/jinja2/filters.py", line 13, in <module>', '    from markupsafe import soft_unicode',
      "ImportError: cannot import name 'soft_unicode' from 'markupsafe' (/usr/local/lib/python3.9/site-packages/markupsafe/__init__.py)", 'Running after_script', '$ echo "build finished"', 'build finished'))?.category).toBe('broken_tool_version')
  })
  it('guard: a mock\'s AttributeError (not "module … has no attribute") is not drift', () => {
    expect(cats(step('$ pytest', '  File "/usr/local/lib/python3.11/unittest/mock.py", line 1398, in get_original', '    raise AttributeError(',
      "AttributeError: <module 'app.service' from '/builds/acme/app/app/service.py'> does not have the attribute 'fetch'"))).not.toContain('broken_tool_version')
  })
  it('guard: a shadowing circular import (partially initialized module) is not drift', () => {
    expect(cats(step('$ python requests.py', '  File "/usr/local/lib/python3.11/site-packages/urllib3/util/retry.py", line 4, in <module>',
      "AttributeError: partially initialized module 'requests' has no attribute 'get' (most likely due to a circular import)"))).not.toContain('broken_tool_version')
  })
})

describe('terminal.ts', () => {
  // F12: RHEL/CentOS sudoers' `Defaults requiretty` wording.
  it('F12: "sudo: sorry, you must have a tty to run sudo" on a shell runner', () => {
    expect(top(on('shell', '$ sudo systemctl restart app', 'sudo: sorry, you must have a tty to run sudo'))?.category).toBe('tty_required')
  })
  it('F13: an after_script does not hide docker run -it', () => {
    expect(top(step('$ docker run -it --rm node:20 npm test', 'the input device is not a TTY', 'Running after_script', '$ docker ps -a'))?.category).toBe('tty_required')
  })
  it('guard: sudo\'s setrlimit warning in a container is not a tty problem', () => {
    expect(cats(step('$ sudo make install', 'sudo: setrlimit(RLIMIT_CORE): Operation not permitted', 'make: *** [install] Error 2'))).not.toContain('tty_required')
  })
  it('guard: debconf falling back from its dialog frontend is not a tty failure', () => {
    expect(cats(step('$ apt-get install -y tzdata', 'debconf: unable to initialize frontend: Dialog', 'debconf: (TERM is not set, so the dialog frontend is not usable.)', 'E: Unable to locate package tzdata'))).not.toContain('tty_required')
  })
  it('guard: ssh\'s pseudo-terminal warning is not a failure', () => {
    expect(cats(step('$ ssh deploy@host ./deploy.sh', 'Pseudo-terminal will not be allocated because stdin is not a terminal.', 'Permission denied (publickey).'))).not.toContain('tty_required')
  })
})

describe('locale.ts', () => {
  // F14: pip indents the output of setup.py (and the box of pip ≥ 22): the anchored `^Unicode…Error` misses it.
  it('F14: pip\'s indented setup.py output with the ascii codec', () => {
    expect(top(inImage('python:3.6', '$ pip install -r requirements.txt', '    Complete output from command python setup.py egg_info:', '    Traceback (most recent call last):',
      '      File "/tmp/pip-build-k2h1/pyexcel/setup.py", line 31, in <module>', '        long_description=open("README.rst").read(),', '      File "/usr/local/lib/python3.6/encodings/ascii.py", line 26, in decode',
      "    UnicodeDecodeError: 'ascii' codec can't decode byte 0xe2 in position 1436: ordinal not in range(128)", '    ----------------------------------------',
      'Command "python setup.py egg_info" failed with error code 1 in /tmp/pip-build-k2h1/pyexcel/'))?.category).toBe('locale_not_utf8')
  })
  // F15: Ruby Sass (Jekyll, Compass) words it "Invalid US-ASCII character".
  it('F15: Jekyll\'s Sass converter: "Invalid US-ASCII character"', () => {
    expect(top(step('$ bundle exec jekyll build', "  Conversion error: Jekyll::Converters::Scss encountered an error while converting 'assets/css/style.scss':", '                    Invalid US-ASCII character "\\xE2" on line 5'))?.category).toBe('locale_not_utf8')
  })
  it('guard: a CocoaPods locale warning the job went past (the failure is a missing spec)', () => {
    expect(top(on('shell', '$ pod install', 'WARNING: CocoaPods requires your terminal to be using UTF-8 encoding.', '[!] Unable to find a specification for `AFNetworking (~> 9.0)`'))?.category).not.toBe('locale_not_utf8')
  })
  it('guard: "invalid byte sequence in UTF-8" is binary data, not a missing locale', () => {
    expect(cats(step("/usr/local/bundle/gems/x-1.0/lib/x.rb:3:in `split': invalid byte sequence in UTF-8 (ArgumentError)"))).not.toContain('locale_not_utf8')
  })
})

describe('service-credentials.ts', () => {
  // F16: on the Docker executor without any service, a remote database's refusal still answers (0.5).
  it('F16: a Docker job deploying to a remote MySQL (public address, no services)', () => {
    expect(cats(inImage('mysql:8.0', '$ mysql -h db.example.com -u deploy -p"$DB_PASSWORD" app < migrate.sql', "ERROR 1045 (28000): Access denied for user 'deploy'@'203.0.113.7' (using password: YES)"))).not.toContain('service_credentials_mismatch')
  })
  // F17: 10/8 and 192.168/16 are any private network, not the Docker bridge: a shell runner's corporate DB.
  it('F17: a shell runner refused by the company\'s MySQL at a 10.x address', () => {
    expect(cats(on('shell', '$ mysql -h mysql01.corp.example -u deploy -p"$DB_PASSWORD" -e "select 1"', "ERROR 1045 (28000): Access denied for user 'deploy'@'10.20.3.15' (using password: YES)"))).not.toContain('service_credentials_mismatch')
  })
  // F18: any service counts as the database, even docker:dind.
  it('F18: with only a docker:dind service, a remote PostgreSQL\'s refusal is not the service\'s', () => {
    const d = run(withServices(['docker:24-dind'], '$ psql "$PRODUCTION_DATABASE_URL" -c "select 1"', 'psql: error: connection to server at "db.example.com" (203.0.113.5), port 5432 failed: FATAL:  password authentication failed for user "app"')).diagnoses.find((x) => x.category === 'service_credentials_mismatch')
    expect(d?.cause ?? '').not.toContain('service container')
  })
  // F19: Redis's refusal gets MySQL's variables in the fix.
  it('F19: Redis NOAUTH with a redis service: the fix does not talk MySQL', () => {
    const d = top(withServices(['redis:7'], '$ npm test', 'ReplyError: NOAUTH Authentication required.'))
    expect(d?.category).toBe('service_credentials_mismatch')
    expect(all(d)).not.toContain('MYSQL_ROOT_PASSWORD')
  })
  // F20: node-postgres and Go's lib/pq relay the server's message without "FATAL:".
  it('F20a: node-postgres\'s "error: password authentication failed" with a postgres service', () => {
    expect(top(withServices(['postgres:16'], '$ npm run migrate', 'error: password authentication failed for user "app"', '    at Parser.parseErrorMessage (/builds/acme/app/node_modules/pg-protocol/dist/parser.js:287:98)'))?.category).toBe('service_credentials_mismatch')
  })
  it('F20b: Go lib/pq\'s "pq: password authentication failed" with a postgres service', () => {
    expect(top(withServices(['postgres:16'], '$ go test ./...', '    db_test.go:31: pq: password authentication failed for user "app"', 'FAIL\tgitlab.com/acme/app/store\t0.041s'))?.category).toBe('service_credentials_mismatch')
  })
  // F21: SQL Server's refusal ("Login failed for user") with the mssql service.
  it('F21: SQL Server "Login failed for user \'sa\'" with an mssql service', () => {
    expect(top(withServices(['mcr.microsoft.com/mssql/server:2022-latest'], '$ dotnet test', "Microsoft.Data.SqlClient.SqlException (0x80131904): Login failed for user 'sa'."))?.category).toBe('service_credentials_mismatch')
  })
  // F22: 1044 is a login that worked and a database the user has no grant on, not a refused login.
  it('F22: MySQL 1044 (no rights on that database) is not "refused the job\'s login"', () => {
    const d = top(withServices(['mysql:8.0'], '$ bin/console doctrine:database:create', "SQLSTATE[42000] [1044] Access denied for user 'app'@'%' to database 'app_test'"))
    expect(d?.title ?? '').not.toMatch(/refused the job's login/)
  })
  // F23: the no-password advice is Laravel's (.env.testing, artisan) for any client.
  it('F23: a Python job sending no password is not told to run php artisan', () => {
    const d = top(withServices(['mysql:8.0'], '$ python manage.py migrate', "django.db.utils.OperationalError: (1045, \"Access denied for user 'root'@'172.17.0.4' (using password: NO)\")"))
    expect(d?.category).toBe('service_credentials_mismatch')
    expect(all(d)).not.toContain('artisan')
  })
  it('F24: an after_script does not hide the refused login', () => {
    expect(top(withServices(['postgres:16'], '$ bundle exec rails db:create', 'PG::ConnectionBad: connection to server at "postgres" (172.17.0.3), port 5432 failed: FATAL:  password authentication failed for user "runner"', 'Running after_script', '$ cat log/test.log | tail -n 50'))?.category).toBe('service_credentials_mismatch')
  })
  it('guard: a MySQL service refusing the job (172.17 address) is the service\'s', () => {
    expect(top(withServices(['mysql:8.0'], '$ mysql -h mysql -u root -p"$MYSQL_PASSWORD" -e "select 1"', "ERROR 1045 (28000): Access denied for user 'root'@'172.17.0.4' (using password: YES)"))?.category).toBe('service_credentials_mismatch')
  })
})

describe('missing-programs.ts: Hugo\'s lookups', () => {
  // F25: Hugo looks up PostCSS through npx/node_modules (hexec.go: `binary with name %q not found %s`); apk has no postcss.
  it('F25: PostCSS not installed: the fix installs the npm packages, not "apk add postcss"', () => {
    const d = top(step('$ hugo --minify', 'Error: error building site: POSTCSS: failed to transform "css/main.css" (text/css): binary with name "postcss" not found using npx'))
    expect(d?.category).toBe('command_not_found')
    expect(all(d)).not.toContain('apk add --no-cache postcss')
    expect(all(d)).toMatch(/npm (?:ci|install)/)
  })
})

describe('trace-reader.ts: an accepted upload is not the failed stage', () => {
  const paste = (ok: string) => ['$ php artisan migrate:fresh --seed', 'In Connection.php line 669:', '  SQLSTATE[HY000] [2002] Connection refused', 'Uploading artifacts...', 'storage/logs: found 3 matching files', 'WARNING: db.sql: no matching files', ok, 'ERROR: Job failed: exit code 1'].join('\n')
  // F26: the runner (≥ 11) words an accepted upload `Uploading artifacts as "archive" to coordinator... 201 Created`.
  it('F26: the current runner\'s wording of an accepted upload', () => {
    const r = run(paste('Uploading artifacts as "archive" to coordinator... 201 Created  id=391733588 responseStatus=201 Created token=xvYwHHTo'))
    expect(r.phase).toBe('step_script')
    expect(r.diagnoses[0]?.category).not.toBe('artifacts_no_matching_files')
  })
  it('guard: the string and the streaming parser agree on the old wording', async () => {
    const log = paste('Uploading artifacts to coordinator... ok            id=391733588 responseStatus=201 Created token=xvYwHHTo')
    const streamed = await parseTraceStream(Readable.from([Buffer.from(log.slice(0, 97)), Buffer.from(log.slice(97))]))
    expect(streamed.failedPhase).toBe(parseTrace(log).failedPhase)
    expect(parseTrace(log).failedPhase).toBe('step_script')
  })
  it('guard: an upload that really failed after an accepted one stays the failed stage', () => {
    expect(run(['$ make', 'Uploading artifacts...', 'Uploading artifacts to coordinator... ok  id=1 responseStatus=201 Created', 'FATAL: invalid argument', 'ERROR: Job failed: exit code 1'].join('\n')).phase).toBe('upload_artifacts_on_success')
  })
})

describe('regexes on long lines', () => {
  // F27: artifacts.ts NO_FILES gained `^\s*` before `(.+?)`: a long indented line backtracks quadratically
  // (80 000 spaces and one character: ~1.7 s for that line alone; the old `^(?:WARNING: )?(.+?)` was linear).
  it('F27: a line of 80 000 blanks and one character is read in linear time', () => {
    expectLinear((k) => { const log = step('$ make', `${' '.repeat(sized(80_000, k))}x`); return () => run(log) })
  })
  it('guard: 80 000-character lines run through the new rules in linear time', () => {
    expectLinear((k) => {
      const n = (c: number): number => sized(c, k)
      const log = step('$ make', ' '.repeat(n(80_000)), 'a'.repeat(n(80_000)), `java.lang.NoSuchMethodError: ${'a.'.repeat(n(40_000))}`, `Access denied for user '${'x'.repeat(n(80_000))}`,
        `Call to undefined method ${'A\\'.repeat(n(40_000))}`, `undefined method \`x' for ${'A::'.repeat(n(27_000))}`)
      return () => run(log)
    })
  })
})
