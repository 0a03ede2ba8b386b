import { Scan, diagnosis, evidence } from '../scan.js'
import type { Diagnosis, Fix, Rule, TraceLine } from '../types.js'

/**
 * A tool or library the job installs fresh on every run breaks inside its own code because a
 * package it uses changed under it (broken_tool_version, proposed by the corpus's nineteenth and
 * twentieth passes): jinja2 importing `soft_unicode` from a markupsafe that dropped it, a library
 * still `require()`-ing a dependency that went ESM-only, a globally installed PHP tool calling a
 * method its resolved symfony/process does not have, a Maven plugin linked against another
 * version of a jar. The failing call and the missing name are both in installed code (site-packages,
 * node_modules, vendor/, gems/), which is what separates it from the project's own mistake: the
 * project's code did not change, the versions it resolved did.
 */

interface Drift {
  line: TraceLine
  /** The package whose code made the call, when the paths say. */
  consumer?: string
  /** The package that no longer has what was asked for, when the message says. */
  provider?: string
  /** The name asked for. */
  name: string
  ecosystem: 'python' | 'node' | 'php' | 'ruby' | 'java'
}

const INSTALLED = /(?:site|dist)-packages\/|node_modules\/|\/vendor\/|\/gems\/|\/\.m2\/repository\//

// Python ≥ 3.8 names the module and its file; a circular import of the project is not a version.
// Before 3.8 the message has no module: the source line above it (`from markupsafe import …`) does.
const PY_IMPORT = /^(?:E\s+)?(?:ImportError: cannot import name '?([\w.]+)'?(?: from '([\w.]+)' \(([^)]*)\))?$|AttributeError: module '([\w.]+)' has no attribute '(\w+)')/
const PY_FROM = /^\s*from ([\w.]+) import /
// Standard-library modules whose names newer Pythons removed (collections.MutableMapping in 3.10,
// time.clock in 3.8, distutils and imp in 3.12, cgi in 3.13): the runtime moved, not a package.
const PY_STDLIB = new Set(['collections', 'time', 'inspect', 'asyncio', 'distutils', 'imp', 'typing', 'base64', 'cgi', 'os', 'sys', 'html', 'xml', 'importlib', 'pkgutil', 'unittest', 'configparser', 'array', 'threading', 'platform', 'gettext', 'locale', 'ssl', 'random', 'fractions', 'math', 'string'])
const PY_FRAME = /^\s*File "([^"]+)", line \d+/
const NODE_ESM = /Error \[ERR_REQUIRE_ESM\]: require\(\) of ES Module (\S+) from (\S+?)\.? not supported|Error \[ERR_REQUIRE_ESM\]: Must use import to load ES Module: (\S+)/
// Each starts at a literal and runs over one bounded token, so a long line is read in linear time.
const PHP_UNDEFINED = /Call to undefined (?:method|function) ([\w\\]+)(?:::(\w+))?\(\) in (\S+)/
const RUBY_UNDEFINED = /undefined method [`'](\w+[?!]?)' for (?!nil\b)(#<[\w:]+|[\w:]+)/
const RUBY_FRAME = /^(\S+?):\d+:in /
const JAVA_LINKAGE = /java\.lang\.(?:NoSuchMethodError|AbstractMethodError|IncompatibleClassChangeError): '?(?:[\w.$<>[\]]+ )?([\w.$]+)\(/

function packageFromPath(path: string): string | undefined {
  const nm = path.lastIndexOf('node_modules/')
  return /(?:site|dist)-packages\/([A-Za-z_]\w*)/.exec(path)?.[1]
    ?? (nm >= 0 ? /^(?:@[\w.-]+\/)?[\w.-]+/.exec(path.slice(nm + 'node_modules/'.length))?.[0] : undefined)
    ?? /\/vendor\/([\w.-]+\/[\w.-]+)\//.exec(path)?.[1]
    ?? /\/gems\/([A-Za-z_][\w-]*?)-\d[\w.]*\//.exec(path)?.[1]
}

function pythonDrift(s: Scan): Drift | undefined {
  const lines = s.ev.trace.lines
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!
    const m = PY_IMPORT.exec(line.text)
    if (!m) continue
    // The frame that made the import or the attribute access: the last one above the error.
    let frame: string | undefined
    let from: string | undefined
    for (let j = i - 1; j >= Math.max(0, i - 60); j--) {
      const f = PY_FRAME.exec(lines[j]!.text)
      if (f) { frame = f[1]; break }
      from ??= PY_FROM.exec(lines[j]!.text)?.[1]
    }
    if (!frame || !INSTALLED.test(frame)) continue
    const consumer = packageFromPath(frame)
    const provider = (m[4] ?? m[2] ?? from)?.split('.')[0]
    // A relative import (`from . import x`) names the consumer's own package.
    if (provider === undefined || provider === '') continue
    // A package reaching for its own name is its own bug, not drift between two packages.
    if (consumer !== undefined && consumer.toLowerCase() === provider?.toLowerCase()) continue
    return { line, consumer, provider, name: m[1] ?? m[5]!, ecosystem: 'python' }
  }
  return undefined
}

function nodeDrift(s: Scan): Drift | undefined {
  const hit = s.last(NODE_ESM)
  if (!hit) return undefined
  const esm = hit.m[1] ?? hit.m[3] ?? ''
  const from = hit.m[2] ?? s.near(hit.line.n, /^require\(\) of \S+ from (\S+) /, 3)?.m[1]
  if (!/node_modules\//.test(esm)) return undefined
  // A require() from the project's own files is the project's to change, not drift between packages.
  if (from !== undefined && !/node_modules\//.test(from)) return undefined
  return { line: hit.line, consumer: from ? packageFromPath(from) : undefined, provider: packageFromPath(esm), name: 'require()', ecosystem: 'node' }
}

function phpDrift(s: Scan): Drift | undefined {
  const hit = s.last(PHP_UNDEFINED)
  if (!hit || !/\/vendor\//.test(hit.m[3]!)) return undefined
  const ns = hit.m[1]!.split('\\').filter(Boolean)
  // Symfony\Component\Process\Process → symfony/process; Vendor\Package\… → vendor/package.
  const provider = ns[0] === 'Symfony' && ns[1] === 'Component' && ns[2] ? `symfony/${ns[2].toLowerCase()}` : ns.length > 1 ? `${ns[0]!.toLowerCase()}/${ns[1]!.toLowerCase()}` : undefined
  const consumer = packageFromPath(hit.m[3]!)
  if (consumer !== undefined && consumer === provider) return undefined
  return { line: hit.line, consumer, provider, name: hit.m[2] ? `${hit.m[1]}::${hit.m[2]}()` : `${hit.m[1]}()`, ecosystem: 'php' }
}

function rubyDrift(s: Scan): Drift | undefined {
  const hit = s.last(RUBY_UNDEFINED)
  // Raised in a gem's own file (its path starts the line), not in the project's.
  const path = hit ? RUBY_FRAME.exec(hit.line.text)?.[1] : undefined
  if (!hit || path === undefined || !path.includes('/gems/')) return undefined
  return { line: hit.line, consumer: packageFromPath(path), provider: hit.m[2]!.replace(/^#</, ''), name: hit.m[1]!, ecosystem: 'ruby' }
}

function javaDrift(s: Scan): Drift | undefined {
  const hit = s.last(JAVA_LINKAGE)
  if (!hit) return undefined
  const member = hit.m[1]!
  const cls = member.slice(0, member.lastIndexOf('.'))
  return { line: hit.line, provider: cls || undefined, name: `${member}()`, ecosystem: 'java' }
}

const PIN: Record<Drift['ecosystem'], (p: string) => Fix> = {
  python: (p) => ({ text: `Pin ${p} to the last release that worked with the rest (a constraint next to the install), until the package that uses it has a release for the new one.`, snippet: `script:\n  - pip install "${p}<NEXT_MAJOR"   # the release before the one that broke\n  - pip install -r requirements.txt` }),
  node: (p) => ({ text: `Keep ${p} on its last CommonJS major with an override, until the package that require()s it moves to import().`, snippet: `// package.json\n"overrides": { "${p}": "<LAST_CJS_MAJOR>" }` }),
  php: (p) => ({ text: `Require a ${p} that has the method, next to the tool (a global install resolves its own versions).`, snippet: `script:\n  - composer global require ${p}:"^NEEDED" <the tool>` }),
  ruby: (p) => ({ text: `Pin the gem or the Ruby image to the versions that worked (Ruby 3.2 removed long-deprecated methods such as File.exists?), or upgrade the gem that calls ${p}.`, snippet: 'image: ruby:<LAST_WORKING>\nscript:\n  - bundle install   # with the Gemfile.lock committed' }),
  java: (p) => ({ text: `Align the versions of the jars that provide ${p}: see which ones the build resolves and force one.`, snippet: 'script:\n  - mvn dependency:tree -Dverbose -Dincludes=<groupId>   # or: gradle dependencyInsight --dependency <name>' }),
}

const LOCK: Fix = { text: 'Install from a lock file (and pin CI images by tag or digest), so every pipeline gets the versions the last green one had and a release upstream cannot change them between two runs.', snippet: 'script:\n  - npm ci          # package-lock.json\n  - pip install -r requirements.lock\n  - composer install  # composer.lock\n  - bundle install    # Gemfile.lock' }

function dependencyDrift(s: Scan): Diagnosis[] {
  const d = pythonDrift(s) ?? nodeDrift(s) ?? phpDrift(s) ?? rubyDrift(s) ?? javaDrift(s)
  if (!d || s.inDiff(d.line)) return []
  // A later command means the script went past it (`|| true`, a fallback): not why the job failed.
  if (s.ev.trace.lines.some((l) => l.n > d.line.n && l.text.startsWith('$ '))) return []
  if (d.ecosystem === 'python' && d.provider !== undefined && PY_STDLIB.has(d.provider)) return newerPython(s, d)
  const who = d.consumer ? `${d.consumer} (installed code, not the project's)` : 'installed code'
  const what = d.provider ? `${d.provider} as installed` : 'the package it calls'
  const cause = d.ecosystem === 'node'
    ? `"${d.line.text.trim().slice(0, 160)}": ${who} require()s ${d.provider ?? 'a package'}, whose installed release is an ES module only. A new major of a dependency reached this job through a version range; the project's own code did not change.`
    : `"${d.line.text.trim().slice(0, 160)}": ${who} asks for ${d.name}, which ${what} does not have. The installed versions do not fit together: a release of one of them (often one installed fresh on every run, by a version range, a global install or a floating image tag) removed or changed what the other uses.`
  const fixes: Fix[] = [PIN[d.ecosystem](d.provider ?? '<the package>'), LOCK,
    { text: `Look in the issue tracker of ${d.consumer ?? 'the tool'} for the release that broke: upgrading it to one that supports the new ${d.provider ?? 'dependency'} is the lasting fix.` }]
  return [diagnosis('broken_tool_version', `A dependency's release broke ${d.consumer ?? 'an installed tool'}`, cause, evidence(s.commandAt(d.line.n), d.line), fixes,
    d.consumer !== undefined && d.provider !== undefined ? 0.65 : 0.55)]
}

function newerPython(s: Scan, d: Drift): Diagnosis[] {
  const version = s.last(/\/python(3\.\d+)\//)?.m[1]
  return [diagnosis('toolchain_version_too_old', `The Python in the image is newer than ${d.consumer ?? 'an installed package'} supports`,
    `"${d.line.text.trim().slice(0, 160)}": ${d.consumer ?? 'installed code'} uses ${d.provider}.${d.name}, which the standard library of ${version ? `Python ${version}` : 'this Python'} no longer has. The image's Python moved (a floating tag such as python:3 or :latest) past what that release of the package supports.`,
    evidence(s.commandAt(d.line.n), d.line), [
      { text: 'Pin the image to the Python minor version that worked.', snippet: 'image: python:3.9   # the last minor version the job passed on' },
      { text: `Upgrade ${d.consumer ?? 'the package'} to a release that supports this Python.` },
    ], 0.6)]
}

export const dependencyDriftRule: Rule = {
  id: 'dependency-drift',
  categories: ['broken_tool_version', 'toolchain_version_too_old'],
  match: (ev) => dependencyDrift(Scan.of(ev)),
}
