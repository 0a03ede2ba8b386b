import { Scan, diagnosis, evidence } from '../scan.js'
import type { Diagnosis, Rule } from '../types.js'

/**
 * A tool, runtime or library in the image whose version the project (or a dependency) does not
 * accept — usually older than required, sometimes newer than an upper bound or an exact pin —
 * as each tool words it: go.mod and go's toolchain switch, npm/yarn engines, pip's
 * Requires-Python, Java class files, cargo's rust-version, RubyGems and Bundler, Meson, CMake's
 * FindPackageHandleStandardArgs, pkg-config and pkgconf; and Node 17+ with OpenSSL 3 under a build
 * that hashes with MD4 (webpack 4). An OCI manifest refused is manifest-format.ts's.
 */

const TOO_OLD = new RegExp([
  String.raw`go: go\.mod requires go >= ([\d.]+) \(running go ([\d.]+)`,
  String.raw`npm (?:ERR!|error) code EBADENGINE`,
  String.raw`^error .*The engine "(\w+)" is incompatible with this module\. Expected version "([^"]+)"\. Got "([^"]+)"`,
  String.raw`requires a different Python: ([\d.]+) not in '([^']+)'`,
  String.raw`has been compiled by a more recent version of the Java Runtime \(class file version ([\d.]+)\), this version of the Java Runtime only recognizes class file versions up to ([\d.]+)`,
  String.raw`Unsupported class file major version (\d+)`,
  String.raw`package ${'`'}([^${'`'}]+)${'`'} cannot be built because it requires rustc ([\d.]+) or newer, while the currently active rustc version is ([\d.]+)`,
  String.raw`^(?:error: )?rustc ([\d.]+) is not supported by the following packages?:`,
  String.raw`go: download (go[\d.]+\w*) for [\w/]+: toolchain not available`,
  // Meson: a dependency, a program, Meson itself.
  String.raw`ERROR: +Invalid version of (?:dependency|program), need '([^']+)' \['([^']+)'\] found '([^']+)'`,
  String.raw`ERROR: Meson version is (\S+) but project requires (.{1,80})$`,
  // CMake's FindPackageHandleStandardArgs ("…but required is at least/exact version …", "required range is …").
  String.raw`Could NOT find (\w+): Found unsuitable version "([^"]+)"`,
  // pkg-config and pkgconf.
  String.raw`Requested '([^']+)' but version of ([^\n]{1,200}?) is ([\d.]+\S*)`,
  String.raw`Package '[^']+' requires '([^']+)' but version of \S+ is ([\d.]+\S*)`,
  String.raw`Package '([^']+)' has version '([^']+)', required version is '([^']+)'`,
  // RubyGems and Bundler.
  String.raw`requires Ruby(?:Gems)? version ([^.\s][^\n]{0,120}?)\. The current (?:ruby|RubyGems) version is ([\d.]+)`,
  String.raw`Your Ruby version is ([\d.]+\S*), but your Gemfile specified (.{1,60})$`,
  // npm 6 (ENOTSUP under engine-strict), pnpm, Poetry, Composer's platform check (PHP itself, not an extension).
  String.raw`^npm (?:ERR!|error) notsup Unsupported engine for `,
  String.raw`ERR_PNPM_UNSUPPORTED_ENGINE`,
  String.raw`^Poetry was unable to find a compatible version\.`,
  String.raw`Composer detected issues in your platform: Your Composer dependencies require a PHP version "([^"]+)"\. You are running ([\d.]+)`,
  // The JVM: Maven's enforcer, Gradle's variant matching and the Android Gradle plugin.
  String.raw`Detected JDK [Vv]ersion:? (\d[\d._-]*)(?: \([^()\n]{0,300}\))? is not in the allowed range (\S{1,40}?)\.?$`,
  String.raw`Dependency requires at least JVM runtime version (\d+)\. This build uses a Java (\d+) JVM`,
  String.raw`Android Gradle plugin requires Java (\d+) to run\. You are currently using Java (\d+)`,
  // Terraform's required_version, CMake's cmake_minimum_required, Go ≤ 1.20 reading a three-part go line,
  // SwiftPM's tools version, Dart's SDK constraint, the .NET SDK's target framework.
  String.raw`This configuration does not support Terraform version ([\d.]+)`,
  String.raw`CMake ([\d.]+) or higher is required\.\s+You are running version ([\d.]+)`,
  String.raw`invalid go version '(\d+\.\d+\.\d+)': must match format \d+\.\d+$`,
  String.raw`is using Swift tools version ([\d.]+) but the installed version is ([\d.]+)`,
  String.raw`^Because \S+ (?:depends on [^,\n]{1,200} which )?requires (?:Flutter )?SDK version ([^,\n]{1,80}), version solving failed`,
  String.raw`NETSDK1045: The current \.NET SDK does not support targeting`,
].join('|'))

/** Dotted version → numbers ("2.8.dev" → [2, 8]); compares numerically, missing parts as 0. */
function compare(a: string, b: string): number {
  const x = a.split('.').map((p) => Number.parseInt(p, 10)).filter((n) => !Number.isNaN(n))
  const y = b.split('.').map((p) => Number.parseInt(p, 10)).filter((n) => !Number.isNaN(n))
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}

/**
 * The version found and the requirement, as the wording on `text` (and, for CMake, which wraps the
 * message, the next line) gives them; undefined where the wording names no requirement.
 */
function requirement(text: string, next: string, around = ''): { found: string; req: string } | undefined {
  // Maven's version ranges: [a,b) → ">= a, < b".
  const enforcer = /Detected JDK [Vv]ersion:? (\d[\d._-]*)(?: \([^()\n]{0,300}\))? is not in the allowed range (\S{1,40}?)\.?$/.exec(text)
  if (enforcer) return { found: (enforcer[1] ?? '').replace(/[_-]/g, '.'), req: mavenRange(enforcer[2] ?? '') }
  const poetry = /The currently activated Python version ([\d.]+) is not supported by the project \(([^)\n]{1,80})\)/.exec(around)
  if (/Poetry was unable to find a compatible version/.test(text) && poetry) return { found: poetry[1] ?? '', req: poetry[2] ?? '' }
  const pnpm = /Expected version: ([^\n]{1,80})\n(?:[^\n]*\n)?Got: v?([\d.]+)/.exec(around)
  if (/ERR_PNPM_UNSUPPORTED_ENGINE/.test(text) && pnpm) return { found: pnpm[2] ?? '', req: (pnpm[1] ?? '').trim().replace(/\s+(?=[<>=~^])/g, ', ') }
  const terraform = /does not support Terraform version ([\d.]+)/.exec(text)
  const required = /required_version\s*=\s*"([^"\n]{1,80})"/.exec(around)
  if (terraform && required) return { found: terraform[1] ?? '', req: required[1] ?? '' }
  const py = /requires a different Python: ([\d.]+) not in '([^']+)'/.exec(text)
  if (py) return { found: py[1] ?? '', req: py[2] ?? '' }
  const cmake = /Found unsuitable version "([^"]+)"/.exec(text)
  if (cmake) {
    const rest = `${text} ${next}`
    const exact = /exact version "([^"]+)"/.exec(rest)?.[1]
    const range = /required range is "([\d.]+)\.\.\.(<?)([\d.]+)"/.exec(rest)
    const least = /at\s+least "([^"]+)"/.exec(rest)?.[1]
    const req = exact ? `== ${exact}` : range ? `>= ${range[1]}, ${range[2] ? '<' : '<='} ${range[3]}` : least ? `>= ${least}` : ''
    return { found: cmake[1] ?? '', req }
  }
  const requested = /Requested '\S+ ([<>=!]+ ?[\d.]+\S*)' but version of [^\n]{1,200}? is ([\d.]+\S*)/.exec(text) ?? /requires '\S+ ([<>=!]+ ?[\d.]+\S*)' but version of \S+ is ([\d.]+\S*)/.exec(text)
  if (requested) return { found: requested[2] ?? '', req: requested[1] ?? '' }
  const pkgconf = /has version '([^']+)', required version is '([^']+)'/.exec(text)
  if (pkgconf) return { found: pkgconf[1] ?? '', req: pkgconf[2] ?? '' }
  const meson = /need '[^']+' \['([^']+)'\] found '([^']+)'/.exec(text) ?? /Meson version is (\S+) but project requires (.+)$/.exec(text)
  if (meson) return /Meson version/.test(text) ? { found: meson[1] ?? '', req: meson[2] ?? '' } : { found: meson[2] ?? '', req: meson[1] ?? '' }
  const gem = /requires Ruby(?:Gems)? version ([^\n]+?)\. The current (?:ruby|RubyGems) version is ([\d.]+)/.exec(text)
  if (gem) return { found: gem[2] ?? '', req: gem[1] ?? '' }
  const bundler = /Your Ruby version is ([\d.]+\S*), but your Gemfile specified (.+)$/.exec(text)
  if (bundler) return { found: bundler[1] ?? '', req: bundler[2] ?? '' }
  return undefined
}

/** A Maven version range ("[11,17)", "[17,)", "(,1.8]") in the comparison words aboveRequirement reads. */
function mavenRange(r: string): string {
  const m = /^([[(])\s*([^,\])]*)\s*,\s*([^\])]*)\s*([\])])$/.exec(r)
  if (!m) return r
  const parts = [m[2] ? `${m[1] === '[' ? '>=' : '>'} ${m[2]}` : '', m[3] ? `${m[4] === ']' ? '<=' : '<'} ${m[3]}` : ''].filter(Boolean)
  return parts.join(', ')
}

/** The found version breaks an upper bound or an exact pin (so the image is too new, not too old). */
function aboveRequirement(found: string, req: string): boolean {
  for (const part of req.split(/,\s*|\s+and\s+/)) {
    const m = /^\s*(<=|<|==|=|~>|>=|>|!=)?\s*v?([\d][\w.]*)\s*$/.exec(part)
    if (!m) continue
    const op = m[1] ?? '=='
    const v = m[2] ?? ''
    const c = compare(found, v)
    if ((op === '<' && c >= 0) || (op === '<=' && c > 0) || ((op === '==' || op === '=') && c > 0)) return true
    // "~> 3.1.0" allows 3.1.x; "~> 3.1" allows 3.x.
    if (op === '~>') {
      const parts = v.split('.')
      const upper = parts.length > 1 ? [...parts.slice(0, -2), String(Number(parts[parts.length - 2]) + 1)].join('.') : String(Number(parts[0]) + 1)
      if (compare(found, upper) >= 0) return true
    }
  }
  return false
}

/** The runtime is above what is supported: class files a tool cannot read, or a version past an upper bound or pin. */
function tooNew(text: string, next: string, around: string): boolean {
  if (/Unsupported class file major version/.test(text)) return true
  const r = requirement(text, next, around)
  return r !== undefined && r.found !== '' && aboveRequirement(r.found, r.req)
}

// Node 17+ ships OpenSSL 3, which has no MD4 unless the legacy provider is loaded; webpack 4 (and
// react-scripts 4, Angular 12) hash modules with MD4.
const OPENSSL3 = /error:0308010C:digital envelope routines::unsupported|ERR_OSSL_EVP_UNSUPPORTED/

function openssl3(s: Scan): Diagnosis[] {
  // OpenSSL's own line says more than Node's error code after it.
  const hit = s.last(/error:0308010C:digital envelope routines::unsupported/) ?? s.last(OPENSSL3)
  if (!hit) return []
  const image = s.image()
  // The stack says which algorithm: a hash (webpack's MD4) or a cipher (RC2/DES in an old PKCS#12, a TLS context).
  const stack = s.ev.trace.lines.filter((l) => Math.abs(l.n - hit.line.n) <= 8).map((l) => l.text).join('\n')
  if (!/createHash|md4|webpack|new Hash\b/i.test(stack)) {
    return [diagnosis('toolchain_version_too_old', 'Node.js in the image (OpenSSL 3) refuses a legacy algorithm',
      `"${hit.line.text.trim().slice(0, 120)}": Node.js 17 and later use OpenSSL 3, which moved old ciphers and hashes (RC2, RC4, DES, Blowfish) to its legacy provider; the code reads something made with one — typically a PKCS#12 certificate bundle encrypted the old way.`,
      evidence(s.commandAt(hit.line.n), hit), [
        { text: 'Re-encode the material with current algorithms (a .p12/.pfx: export it again with AES).', snippet: 'openssl pkcs12 -legacy -in old.p12 -nodes -out tmp.pem && openssl pkcs12 -export -in tmp.pem -out new.p12' },
        { text: 'Stopgap: load OpenSSL\'s legacy provider.', snippet: 'variables:\n  NODE_OPTIONS: --openssl-legacy-provider' },
      ], 0.6)]
  }
  return [diagnosis('toolchain_version_too_old', 'Node.js in the image is newer than the build supports (OpenSSL 3)',
    `"${hit.line.text.trim().slice(0, 120)}": Node.js 17 and later use OpenSSL 3, which refuses the MD4 hash that webpack 4 (react-scripts 4, older Angular and Vue CLIs) uses for module ids${image && /^node(?::(?:latest|current|lts|\d+(?:-\S+)?))?$|^node:(?:latest|current)/.test(image) ? `; the image ${image} moved to such a Node.js` : ''}. The project built before on an older Node.js.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Pin the image to the last Node.js the build supports.', snippet: 'image: node:16' },
      { text: 'Better: upgrade the build (webpack 5.61+, react-scripts 5) so it no longer hashes with MD4.' },
      { text: 'Stopgap on Node.js 17+: load OpenSSL\'s legacy provider.', snippet: 'variables:\n  NODE_OPTIONS: --openssl-legacy-provider' },
    ], 0.8)]
}

function versions(s: Scan): Diagnosis[] {
  const hit = s.last(TOO_OLD)
  if (!hit) return []
  const next = s.output.find((l) => l.n > hit.line.n)?.text ?? ''
  // Some tools give the requirement and the version found on the lines around their verdict (pnpm, Poetry, Terraform).
  const around = s.ev.trace.lines.filter((l) => Math.abs(l.n - hit.line.n) <= 10).map((l) => l.text.replace(/^│\s?/, '')).join('\n')
  const newer = tooNew(hit.line.text, next, around)
  // go ≤ 1.20 cannot read a three-part go line and has no toolchain switching (GOTOOLCHAIN came with 1.21).
  const oldGo = /invalid go version '\d+\.\d+\.\d+'/.test(hit.line.text)
  const goSwitch = /toolchain not available/.test(hit.line.text)
  const ruby = /Ruby version|Gemfile specified/.test(hit.line.text)
  const image = s.image()
  return [diagnosis('toolchain_version_too_old', newer ? 'A tool or library in the image is newer than the project accepts' : 'A tool in the image is older than the project requires', newer
    ? `"${hit.line.text.trim().slice(0, 160)}": what the image has is above the project's (or a dependency's) upper bound or exact pin${image && /:[\d.]+$|:latest$|^[^:]+$/.test(image) ? `; a floating tag such as ${image} moves to newer releases` : ''}.`
    : goSwitch
      ? `"${hit.line.text.trim().slice(0, 160)}": go.mod asks for ${hit.m[0].match(/go[\d.]+\w*/)?.[0] ?? 'a newer Go'} (its go or toolchain line), newer than the go in the image, and the go command could not download that toolchain (no such release, or no access to the Go proxy).`
      : `"${hit.line.text.trim().slice(0, 160)}": the project (or a dependency it resolved) declares a newer language or runtime version than the image provides.`,
    evidence(s.commandAt(hit.line.n), hit), newer ? [
      { text: 'Pin the image to a release within the supported versions, or raise the bound (upgrade the package, the Gradle wrapper, the Gemfile\'s ruby line).', snippet: ruby ? 'image: ruby:<the exact version the Gemfile names>\n# or in the Gemfile: ruby "~> 3.1"' : 'image: <language>:<supported version>' },
    ] : [
      oldGo
        ? { text: 'This go predates Go 1.21 (it cannot read a three-part go line, nor download a toolchain): use a Go image at least as new as go.mod\'s go line.', snippet: 'image: golang:1.22' }
        : { text: 'Use an image tag with the version the project requires (or let the tool fetch it: GOTOOLCHAIN=auto for Go).', snippet: 'image: <language>:<required version>' },
      { text: 'Or pin the requirement to what the image has, if the project really supports it.' },
    ], 0.85)]
}

export const toolchainRule: Rule = {
  id: 'toolchain',
  categories: ['toolchain_version_too_old'],
  match(ev) {
    const s = Scan.of(ev)
    return [...versions(s), ...openssl3(s)]
  },
}
