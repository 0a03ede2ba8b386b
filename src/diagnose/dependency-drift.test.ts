import { describe, expect, it } from 'vitest'
import { cats, step, top } from '../../test/support/diagnose-log.js'

// dependency-drift.ts: a tool installed fresh breaks inside its own code because a package it uses
// released a version without what it calls (broken_tool_version). The wordings are the interpreters'
// own (CPython's import system, Node's ESM loader, PHP's engine, Ruby's NoMethodError, the JVM's
// linkage errors); the paths are the installers' default layouts.

const JINJA = [
  '$ mkdocs build',
  'Traceback (most recent call last):',
  '  File "/usr/local/bin/mkdocs", line 5, in <module>',
  '    from mkdocs.__main__ import cli',
  '  File "/usr/local/lib/python3.9/site-packages/mkdocs/__main__.py", line 14, in <module>',
  '    from mkdocs import config',
  '  File "/usr/local/lib/python3.9/site-packages/jinja2/__init__.py", line 12, in <module>',
  '    from .environment import Environment',
  '  File "/usr/local/lib/python3.9/site-packages/jinja2/filters.py", line 13, in <module>',
  '    from markupsafe import soft_unicode',
  "ImportError: cannot import name 'soft_unicode' from 'markupsafe' (/usr/local/lib/python3.9/site-packages/markupsafe/__init__.py)",
]

describe('dependency-drift.ts: Python', () => {
  it('jinja2 importing what markupsafe 2.1 removed', () => {
    const d = top(step(...JINJA))
    expect(d?.category).toBe('broken_tool_version')
    expect(d?.cause).toContain('jinja2')
    expect(d?.fixes[0]?.text).toContain('markupsafe')
  })
  it('pyOpenSSL asking cryptography\'s bindings for a removed symbol', () => {
    expect(top(step('$ certbot renew', 'Traceback (most recent call last):', '  File "/usr/lib/python3/dist-packages/OpenSSL/crypto.py", line 1553, in X509StoreFlags',
      '    CB_ISSUER_CHECK = _lib.X509_V_FLAG_CB_ISSUER_CHECK', "AttributeError: module 'lib' has no attribute 'X509_V_FLAG_CB_ISSUER_CHECK'"))?.category).toBe('broken_tool_version')
  })
  it('Python before 3.8: the module is on the source line above', () => {
    const d = top(step('$ ansible-playbook site.yml', 'Traceback (most recent call last):', '  File "/usr/lib/python3/dist-packages/jinja2/filters.py", line 13, in <module>', '    from markupsafe import soft_unicode', "ImportError: cannot import name 'soft_unicode'"))
    expect(d?.category).toBe('broken_tool_version')
    expect(d?.fixes[0]?.text).toContain('markupsafe')
  })
  it('guard: a relative import inside one package names no second package', () => {
    expect(cats(step('$ tool', '  File "/usr/local/lib/python3.6/site-packages/tool/cli.py", line 2, in <module>', '    from . import helpers', "ImportError: cannot import name 'helpers'"))).not.toContain('broken_tool_version')
  })
  it('a removed standard-library name is a newer Python, not a package', () => {
    const d = top(step('$ python -m pytest', 'Traceback (most recent call last):', '  File "/usr/local/lib/python3.10/site-packages/nose/suite.py", line 106, in _set_tests',
      '    if isinstance(tests, collections.Callable) and not is_suite:', "AttributeError: module 'collections' has no attribute 'Callable'"))
    expect(d?.category).toBe('toolchain_version_too_old')
    expect(d?.cause).toContain('Python 3.10')
  })
  it('guard: the project\'s own import of a missing name is not drift', () => {
    expect(cats(step('$ python -m app', 'Traceback (most recent call last):', '  File "/builds/acme/app/app/main.py", line 3, in <module>', '    from app.models import Usr',
      "ImportError: cannot import name 'Usr' from 'app.models' (/builds/acme/app/app/models.py)"))).not.toContain('broken_tool_version')
  })
  it('guard: a circular import inside a package', () => {
    expect(cats(step('$ python -c "import pkg"', '  File "/usr/local/lib/python3.11/site-packages/pkg/a.py", line 1, in <module>',
      "ImportError: cannot import name 'b' from partially initialized module 'other' (most likely due to a circular import) (/usr/local/lib/python3.11/site-packages/other/__init__.py)"))).not.toContain('broken_tool_version')
  })
  it('guard: the script went past it', () => {
    expect(cats(step(...JINJA, '$ pip install "markupsafe<2.1" && mkdocs build', 'INFO    -  Documentation built in 1.20 seconds'))).not.toContain('broken_tool_version')
  })
})

describe('dependency-drift.ts: Node, PHP, Ruby, Java', () => {
  it('a library still require()-ing a dependency that went ESM-only', () => {
    const d = top(step('$ npx semantic-release', 'Error [ERR_REQUIRE_ESM]: require() of ES Module /builds/acme/app/node_modules/node-fetch/src/index.js from /builds/acme/app/node_modules/@acme/client/lib/http.js not supported.',
      'Instead change the require of index.js in /builds/acme/app/node_modules/@acme/client/lib/http.js to a dynamic import() which is available in all CommonJS modules.'))
    expect(d?.category).toBe('broken_tool_version')
    expect(d?.cause).toContain('@acme/client')
    expect(d?.fixes[0]?.snippet).toContain('"node-fetch"')
  })
  it('guard: the project\'s own require() of an ESM package is the project\'s to change', () => {
    expect(cats(step('$ node index.js', 'Error [ERR_REQUIRE_ESM]: require() of ES Module /builds/acme/app/node_modules/chalk/source/index.js from /builds/acme/app/index.js not supported.'))).not.toContain('broken_tool_version')
  })
  it('a global Composer tool calling a method its resolved dependency lacks', () => {
    const d = top(step('$ ~/.composer/vendor/bin/envoy run deploy', 'PHP Fatal error:  Uncaught Error: Call to undefined method Symfony\\Component\\Process\\Process::fromShellCommandline() in /root/.composer/vendor/laravel/envoy/src/RemoteProcessor.php:57'))
    expect(d?.category).toBe('broken_tool_version')
    expect(d?.fixes[0]?.text).toContain('symfony/process')
    expect(d?.cause).toContain('laravel/envoy')
  })
  it('a gem calling what Ruby 3.2 removed', () => {
    expect(top(step('$ bundle exec jekyll build', "/usr/local/bundle/gems/jekyll-3.9.0/lib/jekyll/commands/serve.rb:9:in `<class:Serve>': undefined method `exists?' for File:Class (NoMethodError)"))?.category).toBe('broken_tool_version')
  })
  it('guard: a nil receiver is a bug, not a version', () => {
    expect(cats(step('$ bundle exec danger', "/usr/local/bundle/gems/danger-8.0.0/lib/danger/x.rb:12:in `foo': undefined method `[]' for nil:NilClass (NoMethodError)"))).not.toContain('broken_tool_version')
  })
  it('a Maven plugin linked against another version of a jar', () => {
    expect(top(step('$ mvn verify', "[ERROR] Failed to execute goal org.apache.maven.plugins:maven-surefire-plugin:3.0.0:test (default-test) on project app: Execution default-test of goal org.apache.maven.plugins:maven-surefire-plugin:3.0.0:test failed: An API incompatibility was encountered while executing org.apache.maven.plugins:maven-surefire-plugin:3.0.0:test: java.lang.NoSuchMethodError: 'void org.apache.maven.surefire.api.util.internal.ObjectUtils.requireNonNull(java.lang.Object)'"))?.category).toBe('broken_tool_version')
  })
})
