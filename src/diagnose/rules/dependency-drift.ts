import { Scan, diagnosis, evidence } from '../scan.js'
import type { Diagnosis, Fix, Rule, TraceLine } from '../types.js'
import { newerPython, pythonPackage, removedFromPython } from './python-names.js'

/**
 * A tool or library the job installs fresh on every run breaks inside its own code because a
 * package it uses changed under it (broken_tool_version, proposed by the corpus's nineteenth and
 * twentieth passes): jinja2 importing `soft_unicode` from a markupsafe that dropped it, a library
 * still `require()`-ing a dependency that went ESM-only, a globally installed PHP tool calling a
 * method its resolved symfony/process does not have, a Maven plugin linked against another
 * version of a jar. The failing call is in installed code (site-packages, node_modules, vendor/,
 * gems/) and the missing name in another package, which is what separates it from the project's own
 * mistake: the project's code did not change, the versions it resolved did.
 */

interface Drift {
  line: TraceLine
  /** The package whose code made the call, when the paths say. */
  consumer?: string
  /** The package that no longer has what was asked for, when the message says. */
  provider?: string
  /** The module path the message names (Python), to tell the distribution to pin. */
  module?: string
  /** The name asked for. */
  name: string
  ecosystem: 'python' | 'node' | 'php' | 'ruby' | 'java'
  confidence: number
}

const INSTALLED = /(?:site|dist)-packages\/|node_modules\/|\/vendor\/|\/gems\/|\/\.m2\/repository\//

// Python ≥ 3.8 names the module and its file (3.12 adds a suggestion); before 3.8 the source line above
// (`from markupsafe import …`) does. A circular import of the project ("partially initialized") never matches.
const PY_IMPORT = /^\s*(?:E\s+)?(?:ImportError: cannot import name '?([\w.]+)'?(?: from '([\w.]+)' \(([^)]*)\))?(?:\. Did you mean: '[\w.]+'\?)?$|AttributeError: module '([\w.]+)' has no attribute '(\w+)'|ModuleNotFoundError: No module named '(\w+)'$)/
const PY_FROM = /^\s*from ([\w.]+) import /
// A traceback frame, as CPython prints it and as pytest does (`path:line: in fn`).
const PY_FRAME = /^\s*File "([^"]+)", line \d+|^(\S+\.py):\d+: in /
// Where one error's frames end when reading upwards: its header, pytest's block header, another error.
const PY_BOUNDARY = /^\s*Traceback \(most recent call last\)|^_{3,} |^\s*(?:E\s+)?[\w.]*(?:Error|Exception):/
// Each starts at a literal and runs over one bounded token, so a long line is read in linear time.
const NODE_ESM = /Error \[ERR_REQUIRE_ESM\]: require\(\) of ES Module (\S+) from (\S+?)\.? not supported|Error \[ERR_REQUIRE_ESM\]: Must use import to load ES Module: (\S+)/
const PHP_UNDEFINED = /Call to undefined (?:method|function) ([\w\\]+)(?:::(\w+))?\(\) in (\S+)/
// The project's own namespaces (Laravel's App\, tests, migrations): a call into them is not a dependency's.
const PHP_PROJECT = /^(?:App|Tests?|Database|Domain|Src)$/
// Only a class or module receiver: a method missing on an instance is as often the project's typo
// (relayed by ActiveModel's method_missing) as a version. Ruby ≤ 3.2 says `for File:Class`, 3.3+ `for class File`.
const RUBY_UNDEFINED = /undefined method [`'](\w+[?!]?)' for (?:(?:class|module) ([\w:]+)|([\w:]+):(?:Class|Module)\b)/
const RUBY_FRAME = /^(\S+?):\d+:in [`']([^`']*)'/
const JAVA_LINKAGE = new RegExp([
  String.raw`java\.lang\.NoSuchMethodError: '?(?:[\w.$<>[\]]+ )?([\w.$]+)\(`,
  // JDK 11+: the interface or class that gained the method the implementation lacks.
  String.raw`java\.lang\.AbstractMethodError: Receiver class [\w.$]+ does not define or inherit an implementation of the resolved method '[^']*' of (?:interface|abstract class) ([\w.$]+)`,
  String.raw`java\.lang\.AbstractMethodError: (?:Method )?([\w.$/]+)\.`,
  String.raw`java\.lang\.IncompatibleClassChangeError: (?:Found (?:interface|class) ([\w.$]+), but (?:class|interface) was expected|([\w.$]+))`,
].join('|'))
// Maven's own verdict on a plugin's classpath: the strongest sign of drift on the JVM.
const MAVEN_API = /An API incompatibility was encountered while executing/

function packageFromPath(path: string): string | undefined {
  const nm = path.lastIndexOf('node_modules/')
  return /(?:site|dist)-packages\/([A-Za-z_]\w*)/.exec(path)?.[1]
    ?? (nm >= 0 ? /^(?:@[\w.-]+\/)?[\w.-]+/.exec(path.slice(nm + 'node_modules/'.length))?.[0] : undefined)
    ?? /\/vendor\/([\w.-]+\/[\w.-]+)\//.exec(path)?.[1]
    ?? /\/gems\/([A-Za-z_][\w-]*?)-\d[\w.]*\//.exec(path)?.[1]
}

/** The frame of the failing import or attribute access: the nearest above it, within its own traceback. */
function pythonFrame(lines: readonly TraceLine[], i: number): { frame?: string; from?: string } {
  let from: string | undefined
  for (let j = i - 1; j >= Math.max(0, i - 60); j--) {
    const text = lines[j]!.text
    const f = PY_FRAME.exec(text)
    if (f) return { frame: f[1] ?? f[2], from }
    if (PY_BOUNDARY.test(text)) return { from }
    from ??= PY_FROM.exec(text)?.[1]
  }
  return { from }
}

function pythonDrift(s: Scan): Drift | undefined {
  const lines = s.ev.trace.lines
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!
    const m = PY_IMPORT.exec(line.text)
    if (!m) continue
    const { frame, from } = pythonFrame(lines, i)
    if (!frame || !INSTALLED.test(frame)) continue
    // The module the message names lives in the project: the project's own name, not a dependency's.
    if (m[3] !== undefined && !INSTALLED.test(m[3]) && /\/builds\//.test(m[3])) continue
    const consumer = packageFromPath(frame)
    if (m[6] !== undefined) {
      // An installed package importing a standard-library module a newer Python removed (distutils, imp, …).
      if (!removedFromPython(m[6])) continue
      return { line, consumer, provider: m[6], module: m[6], name: m[6], ecosystem: 'python', confidence: 0.6 }
    }
    const module = m[4] ?? m[2] ?? from
    const provider = module?.split('.')[0]
    // A relative import (`from . import x`) names the consumer's own package.
    if (provider === undefined || provider === '') continue
    // A package reaching for its own name is its own bug, not drift between two packages.
    if (consumer !== undefined && consumer.toLowerCase() === provider.toLowerCase()) continue
    return { line, consumer, provider, module, name: m[1] ?? m[5]!, ecosystem: 'python', confidence: consumer !== undefined ? 0.65 : 0.55 }
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
  const consumer = from ? packageFromPath(from) : undefined
  return { line: hit.line, consumer, provider: packageFromPath(esm), name: 'require()', ecosystem: 'node', confidence: consumer ? 0.65 : 0.55 }
}

function phpDrift(s: Scan): Drift | undefined {
  const hit = s.last(PHP_UNDEFINED)
  // A BadMethodCallException is a framework's __call relaying a call on the project's own objects.
  if (!hit || !/\/vendor\//.test(hit.m[3]!) || /BadMethodCallException|ForwardsCalls\.php/.test(hit.line.text)) return undefined
  const ns = hit.m[1]!.split('\\').filter(Boolean)
  if (ns.length < 2 || PHP_PROJECT.test(ns[0]!)) return undefined
  // Symfony\Component\Process\Process → symfony/process; Vendor\Package\… → vendor/package.
  const provider = ns[0] === 'Symfony' && ns[1] === 'Component' && ns[2] ? `symfony/${ns[2].toLowerCase()}` : `${ns[0]!.toLowerCase()}/${ns[1]!.toLowerCase()}`
  const consumer = packageFromPath(hit.m[3]!)
  if (consumer !== undefined && consumer === provider) return undefined
  return { line: hit.line, consumer, provider, name: hit.m[2] ? `${hit.m[1]}::${hit.m[2]}()` : `${hit.m[1]}()`, ecosystem: 'php', confidence: 0.65 }
}

function rubyDrift(s: Scan): Drift | undefined {
  const hit = s.last(RUBY_UNDEFINED)
  const frame = hit ? RUBY_FRAME.exec(hit.line.text) : undefined
  // Raised in a gem's own file (its path starts the line), not in the project's nor by a relay.
  if (!hit || !frame || !frame[1]!.includes('/gems/') || /method_missing|public_send|__send__|^send$/.test(frame[2]!)) return undefined
  return { line: hit.line, consumer: packageFromPath(frame[1]!), provider: hit.m[2] ?? hit.m[3], name: hit.m[1]!, ecosystem: 'ruby', confidence: 0.6 }
}

function javaDrift(s: Scan): Drift | undefined {
  const hit = s.last(JAVA_LINKAGE)
  const maven = s.last(MAVEN_API)
  if (!hit) return undefined
  const named = hit.m.slice(1).find((g) => g !== undefined)?.replace(/\//g, '.') ?? ''
  const member = hit.m[1] !== undefined
  const cls = member ? named.slice(0, named.lastIndexOf('.')) : named
  // Without Maven's verdict nothing shows where the call came from: the project's classes could be stale.
  return { line: hit.line, provider: cls || undefined, name: member ? `${named}()` : cls, ecosystem: 'java', confidence: maven ? 0.65 : 0.5 }
}

function pin(d: Drift): Fix {
  const p = d.ecosystem === 'python' ? pythonPackage(d.module ?? d.provider) : d.provider
  switch (d.ecosystem) {
    case 'python':
      return p
        ? { text: `Pin ${p} to the last release that worked with the rest (a constraint next to the install), until the package that uses it has a release for the new one.`, snippet: `script:\n  - pip install "${p}<NEXT_MAJOR"   # the release before the one that broke\n  - pip install -r requirements.txt` }
        : { text: `Pin the distribution that provides ${d.provider ?? 'that module'} to the last release that worked (pip show -f names it), until the package that uses it has a release for the new one.` }
    case 'node':
      return { text: `Keep ${p ?? 'the dependency'} on its last CommonJS major with an override, until the package that require()s it moves to import().`, snippet: `// package.json\n"overrides": { "${p ?? '<package>'}": "<LAST_CJS_MAJOR>" }` }
    case 'php':
      return { text: `Require a ${p ?? 'dependency'} that has the method, next to the tool (a global install resolves its own versions).`, snippet: `script:\n  - composer global require ${p ?? '<vendor/package>'}:"^NEEDED" <the tool>` }
    case 'ruby':
      return { text: `Pin the gem or the Ruby image to the versions that worked (Ruby 3.2 removed long-deprecated methods such as File.exists?), or upgrade the gem that calls ${p ?? 'it'}.`, snippet: 'image: ruby:<LAST_WORKING>\nscript:\n  - bundle install   # with the Gemfile.lock committed' }
    case 'java':
      return { text: `Align the versions of the jars that provide ${p ?? 'that class'}: see which ones the build resolves and force one.`, snippet: 'script:\n  - mvn dependency:tree -Dverbose -Dincludes=<groupId>   # or: gradle dependencyInsight --dependency <name>' }
  }
}

const LOCK: Fix = { text: 'Install from a lock file (and pin CI images by tag or digest), so every pipeline gets the versions the last green one had and a release upstream cannot change them between two runs.', snippet: 'script:\n  - npm ci          # package-lock.json\n  - pip install -r requirements.lock\n  - composer install  # composer.lock\n  - bundle install    # Gemfile.lock' }

function dependencyDrift(s: Scan): Diagnosis[] {
  const d = pythonDrift(s) ?? nodeDrift(s) ?? phpDrift(s) ?? rubyDrift(s) ?? javaDrift(s)
  if (!d || s.inDiff(d.line) || s.wentPast(d.line)) return []
  if (d.ecosystem === 'python' && d.provider !== undefined) {
    const newer = newerPython(s, d.line, d.consumer, d.provider, d.name)
    if (newer) return [newer]
    // Any other standard-library module: a name it never had (a newer Python's) or a project file shadowing it.
    if (removedFromPython(d.provider) !== undefined || STDLIB_TOP.has(d.provider)) return []
  }
  const who = d.consumer ? `${d.consumer} (installed code, not the project's)` : 'installed code'
  const what = d.provider ? `${d.provider} as installed` : 'the package it calls'
  const cause = d.ecosystem === 'node'
    ? `"${d.line.text.trim().slice(0, 160)}": ${who} require()s ${d.provider ?? 'a package'}, whose installed release is an ES module only. A new major of a dependency reached this job through a version range; the project's own code did not change.`
    : `"${d.line.text.trim().slice(0, 160)}": ${who} asks for ${d.name}, which ${what} does not have. The installed versions do not fit together: a release of one of them (often one installed fresh on every run, by a version range, a global install or a floating image tag) removed or changed what the other uses.`
  const fixes: Fix[] = [pin(d), LOCK,
    { text: `Look in the issue tracker of ${d.consumer ?? 'the tool'} for the release that broke: upgrading it to one that supports the new ${d.provider ?? 'dependency'} is the lasting fix.` }]
  return [diagnosis('broken_tool_version', `A dependency's release broke ${d.consumer ?? 'an installed tool'}`, cause, evidence(s.commandAt(d.line.n), d.line), fixes, d.confidence)]
}

// Standard-library modules whose missing names are never drift between two installed packages.
const STDLIB_TOP = new Set(['collections', 'time', 'inspect', 'asyncio', 'typing', 'base64', 'os', 'sys', 'html', 'xml', 'importlib', 'pkgutil', 'unittest', 'configparser', 'array', 'threading', 'platform', 'gettext', 'locale', 'ssl', 'random', 'fractions', 'math', 'string', 'json', 're', 'socket', 'subprocess', 'functools', 'itertools', 'enum', 'dataclasses'])

export const dependencyDriftRule: Rule = {
  id: 'dependency-drift',
  categories: ['broken_tool_version', 'toolchain_version_too_old'],
  match: (ev) => dependencyDrift(Scan.of(ev)),
}
