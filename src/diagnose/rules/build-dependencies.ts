import { type Hit, Scan, diagnosis, evidence } from '../scan.js'
import type { Diagnosis, Fix, Rule } from '../types.js'
import { knownLibrary, packagesFor } from './dev-packages.js'

/**
 * A library the build needs is not in the image: its headers, its pkg-config file, its CMake
 * package or its link-time library come with the distribution's development package (-dev,
 * -devel), which images leave out. Told by the build tools' own words for "not there at all" —
 * GCC/Clang/MSVC's missing include, the linker's missing -l, autoconf's checks, pkg-config and
 * pkgconf, CMake's find modules, Meson's dependencies and compiler checks, Rust's pkg-config crate,
 * Ruby's mkmf, psycopg2's pg_config. "There, but the wrong version" is toolchain.ts; a header of the
 * project itself (a quoted include, a generated config.h, a submodule not checked out) and a
 * program the build looks for are not this class; neither is a check that failed in a step the job
 * got past (CMake's optional packages, printed as `-- ` status lines or warnings).
 */

// gcc "fatal error: zlib.h: No such file or directory"; clang "fatal error: 'zlib.h' file not found"; MSVC C1083.
// A name without .h (Eigen/Dense, QtCore) counts only with an <…> include under it.
const HEADER = /fatal error: '?([\w./+-]+)'?: No such file or directory|fatal error: '([\w./+-]+)' file not found|fatal error (C1083): Cannot open include file: '([\w./+-]+)': No such file or directory/
// The include line the compiler quotes under the error: <...> is a system header, "..." the project's.
const INCLUDE = /^\s*(?:\d+\s*(?:\|\s*)?)?#\s*include\s*([<"])([\w./+-]+)[>"]/
const LIBRARY = new RegExp([
  // autoconf: AC_MSG_ERROR wordings of configure scripts for a library (PKG_CHECK_MODULES prints pkg-config's below).
  /^configure: error: (?:Could not find|Cannot find|Unable to find|missing) (?:the )?([\w.+-]+)( (?:library|libraries|headers?|development (?:files|headers|package)|devel))?(?: (?:not found|is required|are required))?\.?$/,
  /^configure: error: ([\w.+-]+) (?:library|libraries|headers?|development (?:files|headers)) (?:not found|is required|are required|missing)/,
  // pkg-config's own, pkgconf's, and CMake's pkg_check_modules printing pkg-config's as a status line.
  /^(?:--\s+)?No package '([\w.+-]+)' found$/,
  /^(?:--\s+)?Package '([\w.+-]+)', required by '[^']*', not found$/,
  /^Package ([\w.+-]+) was not found in the pkg-config search path\./,
  // CMake's FindPackageHandleStandardArgs (a module's own text may come before the list; the list may wrap),
  // and find_package(CONFIG) without a config file.
  /^\s*Could NOT find (\w+)(?: \(missing:|, )/,
  /^\s*Could not find a package configuration file provided by "([\w.+-]+)"/,
  // Meson: dependencies, and the compiler checks of has_header/find_library with required: true.
  /ERROR: Dependency "([\w.+-]+)" not found, tried /,
  /Dependency lookup for ([\w.+-]+) with method '\w+' failed/,
  /ERROR: C(?:\+\+)? header '([\w./+-]+)' not found/,
  /ERROR: C(?:\+\+)? (?:shared or static )?library '([\w.+-]+)' not found/,
  // Rust: the pkg-config crate, and openssl-sys's own.
  /The system library `([\w.+-]+)` required by crate `[\w-]+` was not found/,
  /Could not find directory of (OpenSSL) installation/,
  // Ruby's mkmf, psycopg2's setup.py.
  /mkmf\.rb can't find header files for (ruby)\b/,
  /Error: (pg_config) executable not found/,
  // lxml's setup.py when xml2-config / xslt-config are missing.
  /Please make sure the (libxml2) and libxslt development packages are installed/,
  // The linker: GNU ld / gold, lld, Apple ld.
  /\bld(?:\.gold|\.bfd|\.exe)?: (?:error: )?cannot find -l([\w.+-]+)/,
  /\bld\.lld: error: unable to find library -l([\w.+-]+)/,
  /\bmold: fatal: library not found: ([\w.+-]+)/,
  // Apple's ld (macOS): before and since Xcode 15.
  /^ld: library not found for -l([\w.+-]+)|^ld: library '([\w.+-]+)' not found/,
].map((r) => r.source).join('|'))

const LINKER = /cannot find -l|unable to find library -l|library not found: /

// Programs configure looks for under the same words (command_not_found); only configure's wording mixes them.
const PROGRAM = /^(?:perl|python[\d.]*|bison|flex|yacc|m4|makeinfo|gettext|msgfmt|xgettext|pkg-?config|git|doxygen|sphinx-build|cmake|ninja|meson|autoconf|automake|libtool|gperf|help2man|xsltproc|swig|java|javac|gawk|awk|pandoc)$/i

// Ruby's mkmf when no compiler works at all (a native gem in an image without build tools).
const NO_TOOLCHAIN = /^You have to install development tools first\.$/

function missing(s: Scan): Diagnosis[] {
  const tools = s.last(NO_TOOLCHAIN)
  if (tools && !s.wentPast(tools.line)) return noToolchain(s, tools)
  const header = s.last(HEADER)
  const library = s.last(LIBRARY)
  const hit = header && (!library || header.line.n >= library.line.n) ? header : library
  // A check in a step the job got past (CMake configured with an optional package missing, then failed elsewhere).
  if (!hit || s.wentPast(hit.line)) return []
  return hit === header ? headerMissing(s, hit) : libraryMissing(s, hit)
}

function noToolchain(s: Scan, hit: Hit): Diagnosis[] {
  const gem = s.last(/\/gems\/([\w.-]+?)-\d[\w.]*\/ext\//)?.m[1]
  return [diagnosis('dev_headers_missing', `${gem ? `The gem ${gem}` : 'A native gem'} cannot be built: the image has no C toolchain`,
    `"${hit.line.text.trim()}": mkmf could not compile and link a test program, so the gem's native extension cannot be built. The image has no working compiler (gcc, make, the C library's headers), or not the headers the extension needs.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Install the build tools (and the library\'s -dev package the gem needs) before bundle install.', snippet: 'script:\n  - apt-get update && apt-get install -y build-essential   # Alpine: apk add build-base; RHEL/UBI: dnf install -y gcc make redhat-rpm-config' },
      rebuildImage(),
    ], 0.75)]
}

function libraryMissing(s: Scan, hit: Hit): Diagnosis[] {
  const name = hit.m.slice(1).find((g) => g !== undefined && !g.startsWith(' ')) ?? 'a library'
  const text = hit.line.text
  if (/^configure: error:/.test(text)) {
    // configure's bare "Could not find X" is a program as often as a library: only a known library, lib…, or the word.
    if (PROGRAM.test(name)) return []
    if (/^configure: error: (?:Could not find|Cannot find|Unable to find|missing) /.test(text) && hit.m[2] === undefined && !knownLibrary(name) && !/^lib/.test(name)) return []
  }
  if (/Could NOT find/.test(text)) {
    // CMake's optional package: a status line, or a message outside a CMake Error block.
    if (/^-- /.test(text) || !inCmakeError(s, hit)) return []
    // A (missing: …) list of only programs (PYTHON_EXECUTABLE, Interpreter) is a program, not a library.
    const vars = missingList(s, hit)
    if (vars.some((v) => /_EXECUTABLE$|^Interpreter$/.test(v)) && !vars.some((v) => /_INCLUDE_DIRS?$|_LIBRAR(?:Y|IES)$|^Development/.test(v))) return []
  }
  if (/^\s*Could not find a package configuration file/.test(text) && !inCmakeError(s, hit)) return []
  // CMake's pkg_check_modules status line counts only when CMake then stopped on it.
  if (/^--\s+(?:No package|Package ')/.test(text) && !s.near(hit.line.n, /A required package was not found|CMake Error/, 4)) return []
  const macos = /^ld: library (?:not found for -l|')/.test(text)
  if (macos) {
    return [diagnosis('dev_headers_missing', `The linker cannot find the library ${name}`,
      `Apple's linker did not find lib${name} ("${text.trim().slice(0, 120)}"): the library is not installed on the macOS runner, or its directory is not on the linker's path (Homebrew's prefix is not searched by default on Apple silicon).`,
      evidence(s.commandAt(hit.line.n), hit), [
        { text: `Install it with Homebrew and give the linker Homebrew's library directory.`, snippet: `brew install ${name}\nexport LIBRARY_PATH="$(brew --prefix)/lib:$LIBRARY_PATH"   # or -L"$(brew --prefix ${name})/lib"` },
      ], 0.7)]
  }
  return [diagnosis('dev_headers_missing', `The build cannot find the library ${name}`,
    `The build's dependency check did not find ${name} at all ("${text.trim().slice(0, 160)}"): its development files (headers, pkg-config file, CMake package, link library) are not in the image. Images ship libraries' runtime parts at most; the -dev/-devel package has to be installed.`,
    // A -l name no table knows may be a library the project builds itself (build order), not a package.
    evidence(s.commandAt(hit.line.n), hit), [packagesFor(name), rebuildImage()], LINKER.test(text) && !knownLibrary(name) ? 0.5 : 0.7)]
}

function headerMissing(s: Scan, hit: Hit): Diagnosis[] {
  const windows = hit.m[3] === 'C1083'
  const name = hit.m[1] ?? hit.m[2] ?? hit.m[4] ?? ''
  const include = s.ev.trace.lines.filter((l) => l.n > hit.line.n && l.n <= hit.line.n + 2).map((l) => INCLUDE.exec(l.text)).find((m) => m !== null)
  const known = knownLibrary(name)
  // A quoted include, or none shown, is the project's own header (generated, or in a submodule not checked out),
  // unless it is a library this table knows (Cython writes #include "Python.h"); an unknown one needs <…>.
  if (!known && include?.[1] !== '<') return []
  // A header the build generates (configure's config.h, a version header) is the project's, however included.
  if (!known && GENERATED.test(name)) return []
  // <myproj/version.h> of the project myproj: its own include directory, not the image.
  const top = name.includes('/') ? name.split('/')[0] : undefined
  if (!known && top && projectNames(s).has(top)) return []
  // MSVC on a POSIX header: the code is not portable to Windows, no package brings it.
  if (windows && POSIX_ONLY.test(name)) return []
  return [diagnosis('dev_headers_missing', `The header ${name} is not ${windows ? 'installed where the job builds' : 'in the image'}`,
    `The compiler could not find ${name}${include?.[1] === '<' ? ', a system header (#include <…>)' : ''}: ${windows ? 'the library\'s development files are not installed on the Windows build machine or not on the include path.' : 'the library\'s development package is not installed in the job\'s image. Images ship a library\'s runtime part at most; its headers come with the -dev/-devel package.'}`,
    evidence(s.commandAt(hit.line.n), hit), [packagesFor(name, windows), ...(windows ? [] : [rebuildImage()])], 0.75)]
}

// Headers builds generate (autoconf's config.h, CMake's configure_file outputs, version headers).
const GENERATED = /^(?:[\w-]*config(?:ure)?[\w-]*|version|gitversion|build[_-]?info)\.h$|^generated\//i
// Headers only POSIX systems have (MSVC never does).
const POSIX_ONLY = /^(?:unistd|strings|dirent|libgen|pthread|dlfcn|termios|syslog|pwd|grp|poll)\.h$|^(?:sys\/(?:socket|wait|mman|select|time|ioctl|un|utsname|resource)|netinet\/\w+|arpa\/inet)\.h$/

/** The project's directory names: the last part of the paths the runner clones into and the job works in. */
function projectNames(s: Scan): Set<string> {
  const names = new Set<string>()
  for (const l of s.ev.trace.lines) {
    const m = /(?:\/builds|\\builds)(?:[/\\][^/\\\s'"]+){0,8}?[/\\]([\w.-]+)[/\\](?:\.git\b|src\b|include\b)/.exec(l.text)
    if (m?.[1]) names.add(m[1])
    if (names.size >= 3) break
  }
  return names
}

/**
 * In the message of a `CMake Error at …` (FindPackageHandleStandardArgs' FATAL_ERROR, find_package's
 * "By not providing Find<X>.cmake" paragraph before the line), not of a warning: the nearest such header.
 */
function inCmakeError(s: Scan, hit: Hit): boolean {
  const block = s.ev.trace.lines.filter((l) => l.n < hit.line.n && hit.line.n - l.n <= 12 && /^CMake (?:Error|Warning)/.test(l.text.trimStart())).pop()
  return block !== undefined && /^CMake Error/.test(block.text.trimStart())
}

/** The variables of CMake's "(missing: …)" list, which may wrap onto the next lines. */
function missingList(s: Scan, hit: Hit): string[] {
  const text = s.ev.trace.lines.filter((l) => l.n >= hit.line.n && l.n <= hit.line.n + 2).map((l) => l.text).join(' ')
  const list = /\(missing:\s*([^)]*)\)?/.exec(text)?.[1] ?? ''
  return list.split(/\s+/).filter((v) => v !== '')
}

function rebuildImage(): Fix {
  return { text: 'Better: install build dependencies once in the CI image (its Dockerfile) rather than in every job, and pin the image\'s tag so a rebuilt image cannot drop them.' }
}

export const buildDependenciesRule: Rule = {
  id: 'build-dependencies',
  categories: ['dev_headers_missing'],
  match: (ev) => missing(Scan.of(ev)),
}
