import { type Hit, Scan, diagnosis, evidence } from '../scan.js'
import type { Diagnosis, Fix, Rule } from '../types.js'

/**
 * A library the build needs is not in the image: its headers, its pkg-config file or its CMake
 * package come with the distribution's development package (-dev, -devel), which images leave out.
 * Told by the build tools' own words for "not there at all" — GCC/Clang/MSVC's missing include,
 * autoconf's checks, pkg-config, CMake's find modules, Meson's dependencies, Rust's pkg-config
 * crate. "There, but the wrong version" is toolchain.ts; a header of the project itself (a quoted
 * include, a generated config.h, a submodule not checked out) is not this class.
 */

// gcc "fatal error: zlib.h: No such file or directory"; clang "fatal error: 'zlib.h' file not found"; MSVC C1083.
const HEADER = /fatal error: '?([\w./+-]+\.h(?:pp)?)'?: No such file or directory|fatal error: '([\w./+-]+\.h(?:pp)?)' file not found|fatal error C1083: Cannot open include file: '([\w./+-]+\.h(?:pp)?)': No such file or directory/
// The include line the compiler quotes under the error: <...> is a system header, "..." the project's.
const INCLUDE = /^\s*(?:\d+\s*\|?\s*)?#\s*include\s*([<"])([\w./+-]+)[>"]/
const LIBRARY = new RegExp([
  // autoconf: AC_MSG_ERROR wordings of configure scripts for a library (PKG_CHECK_MODULES prints pkg-config's below).
  /^configure: error: (?:Could not find|Cannot find|Unable to find|missing) (?:the )?([\w.+-]+)(?: (?:library|libraries|headers?|development (?:files|headers|package)|devel))?(?: (?:not found|is required|are required))?\.?$/,
  /^configure: error: ([\w.+-]+) (?:library|libraries|headers?|development (?:files|headers)) (?:not found|is required|are required|missing)/,
  // pkg-config's own, also printed under Meson and CMake's pkg_check_modules.
  /^No package '([\w.+-]+)' found$/,
  /^Package ([\w.+-]+) was not found in the pkg-config search path\./,
  // CMake's FindPackageHandleStandardArgs, and find_package(CONFIG) without a config file.
  /Could NOT find (\w+) \(missing: [^)]*\)/,
  /Could not find a package configuration file provided by "([\w.+-]+)"/,
  // Meson.
  /ERROR: Dependency "([\w.+-]+)" not found, tried /,
  /Dependency lookup for ([\w.+-]+) with method '\w+' failed/,
  // Rust: the pkg-config crate, and openssl-sys's own.
  /The system library `([\w.+-]+)` required by crate `[\w-]+` was not found/,
  /Could not find directory of (OpenSSL) installation/,
].map((r) => r.source).join('|'))

const PROGRAM = /^(?:perl|python\d?|bison|flex|yacc|m4|makeinfo|gettext|msgfmt|xgettext|pkg-?config|git|doxygen|sphinx-build|cmake|ninja|meson|autoconf|automake|libtool|gperf|help2man|xsltproc|swig)$/i

// The development packages of libraries builds most often miss: Debian/Ubuntu, Fedora/RHEL, Alpine.
const PACKAGES: readonly [RegExp, string, string, string][] = [
  [/^zlib\.h$|^zlib$|^ZLIB$/i, 'zlib1g-dev', 'zlib-devel', 'zlib-dev'],
  [/^gmp(?:xx)?\.h$|^gmp$/i, 'libgmp-dev', 'gmp-devel', 'gmp-dev'],
  [/^mpfr\.h$/, 'libmpfr-dev', 'mpfr-devel', 'mpfr-dev'],
  [/^mpc\.h$/, 'libmpc-dev', 'libmpc-devel', 'mpc1-dev'],
  [/^Python\.h$|^python3?(?:-embed)?$/i, 'python3-dev', 'python3-devel', 'python3-dev'],
  [/^(?:XSUB|EXTERN|perl)\.h$/, 'libperl-dev', 'perl-devel', 'perl-dev'],
  [/^ffi\.h$|^libffi$/i, 'libffi-dev', 'libffi-devel', 'libffi-dev'],
  [/^openssl\/|^openssl$|^OpenSSL$|^libssl$/i, 'libssl-dev', 'openssl-devel', 'openssl-dev'],
  [/^curl\/|^libcurl$|^CURL$/i, 'libcurl4-openssl-dev', 'libcurl-devel', 'curl-dev'],
  [/^libxml\/|^libxml-2\.0$|^LibXml2$/i, 'libxml2-dev', 'libxml2-devel', 'libxml2-dev'],
  [/^(?:n?curses|term)\.h$|^ncursesw?$/i, 'libncurses-dev', 'ncurses-devel', 'ncurses-dev'],
  [/^readline\//, 'libreadline-dev', 'readline-devel', 'readline-dev'],
  [/^sqlite3\.h$|^sqlite3$|^SQLite3$/i, 'libsqlite3-dev', 'sqlite-devel', 'sqlite-dev'],
  [/^bzlib\.h$|^BZip2$/i, 'libbz2-dev', 'bzip2-devel', 'bzip2-dev'],
  [/^lzma\.h$|^liblzma$|^LibLZMA$/i, 'liblzma-dev', 'xz-devel', 'xz-dev'],
  [/^zstd\.h$|^libzstd$/i, 'libzstd-dev', 'libzstd-devel', 'zstd-dev'],
  [/^glib\.h$|^glib-2\.0$|^gio-2\.0$|^gobject-2\.0$/, 'libglib2.0-dev', 'glib2-devel', 'glib-dev'],
  [/^libpq-fe\.h$|^libpq$|^PostgreSQL$/, 'libpq-dev', 'libpq-devel', 'libpq-dev'],
  [/^uuid\/uuid\.h$|^uuid$/, 'uuid-dev', 'libuuid-devel', 'util-linux-dev'],
  [/^yaml\.h$|^yaml-0\.1$/, 'libyaml-dev', 'libyaml-devel', 'yaml-dev'],
  [/^expat\.h$|^expat$|^EXPAT$/, 'libexpat1-dev', 'expat-devel', 'expat-dev'],
  [/^png\.h$|^libpng$|^PNG$/, 'libpng-dev', 'libpng-devel', 'libpng-dev'],
  [/^jpeglib\.h$|^libjpeg$|^JPEG$/, 'libjpeg-dev', 'libjpeg-turbo-devel', 'libjpeg-turbo-dev'],
  [/^ft2build\.h$|^freetype2$|^Freetype$/, 'libfreetype-dev', 'freetype-devel', 'freetype-dev'],
  [/^(?:lib|g)elf\.h$|^libelf$/, 'libelf-dev', 'elfutils-libelf-devel', 'elfutils-dev'],
  [/^libudev\.h$|^libudev$/, 'libudev-dev', 'systemd-devel', 'eudev-dev'],
  [/^linux\/|^asm\//, 'linux-libc-dev', 'kernel-headers', 'linux-headers'],
  // The C library's own headers: no compiler toolchain headers at all (Alpine without musl-dev, a slim image).
  [/^(?:stdio|stdlib|string|unistd|errno|limits)\.h$|^sys\/(?:types|cdefs|stat)\.h$|^bits\//, 'libc6-dev (build-essential)', 'glibc-devel', 'musl-dev (build-base)'],
  // 32-bit builds on a 64-bit image.
  [/^gnu\/stubs-32\.h$/, 'gcc-multilib', 'glibc-devel.i686', '(none: Alpine has no multilib)'],
]

function packagesFor(name: string): Fix {
  const base = name.split('/').pop() ?? name
  const known = PACKAGES.find(([re]) => re.test(name) || re.test(base))
  if (known) {
    const [, deb, rpm, apk] = known
    return { text: `Install the development package in the image (or in before_script): ${deb} on Debian/Ubuntu, ${rpm} on Fedora/RHEL, ${apk} on Alpine.`, snippet: `apt-get update && apt-get install -y ${deb.split(' ')[0]}   # dnf install -y ${rpm.split(' ')[0]}   # apk add --no-cache ${apk.split(' ')[0]}` }
  }
  const file = /\.h(?:pp)?$/.test(name)
  return {
    text: `Find the package that provides ${name} for the image's distribution and install it (the -dev / -devel package of the library).`,
    snippet: file ? `apt-file search ${name}   # dnf provides '*/${name}'   # Alpine: https://pkgs.alpinelinux.org/contents?file=${base}` : `apt-cache search ${name} | grep -- -dev   # dnf search ${name}-devel   # apk search ${name}-dev`,
  }
}

function missing(s: Scan): Diagnosis[] {
  const header = s.last(HEADER)
  const library = s.last(LIBRARY)
  const hit = header && (!library || header.line.n >= library.line.n) ? header : library
  if (!hit) return []
  if (hit === header) return headerMissing(s, hit)
  const name = hit.m.slice(1).find((g) => g !== undefined) ?? 'a library'
  // configure's "Cannot find perl" is a program (command_not_found), not a library.
  if (PROGRAM.test(name)) return []
  return [diagnosis('dev_headers_missing', `The build cannot find the library ${name}`,
    `The build's dependency check did not find ${name} at all ("${hit.line.text.trim().slice(0, 160)}"): its development files (headers, pkg-config file, CMake package) are not in the image. Images ship libraries' runtime parts at most; the -dev/-devel package has to be installed.`,
    evidence(s.commandAt(hit.line.n), hit), [packagesFor(name), rebuildImage()], 0.7)]
}

function headerMissing(s: Scan, hit: Hit): Diagnosis[] {
  const name = hit.m[1] ?? hit.m[2] ?? hit.m[3] ?? ''
  const include = s.ev.trace.lines.filter((l) => l.n > hit.line.n && l.n <= hit.line.n + 2).map((l) => INCLUDE.exec(l.text)).find((m) => m !== null)
  const known = PACKAGES.some(([re]) => re.test(name) || re.test(name.split('/').pop() ?? ''))
  // A quoted include is the project's own header (generated, or in a submodule not checked out).
  if (include?.[1] === '"' || (!include && !known)) return []
  return [diagnosis('dev_headers_missing', `The header ${name} is not in the image`,
    `The compiler could not find ${name}${include ? ', a system header (#include <…>)' : ''}: the library's development package is not installed in the job's image. Images ship a library's runtime part at most; its headers come with the -dev/-devel package.`,
    evidence(s.commandAt(hit.line.n), hit), [packagesFor(name), rebuildImage()], include ? 0.75 : 0.7)]
}

function rebuildImage(): Fix {
  return { text: 'Better: install build dependencies once in the CI image (its Dockerfile) rather than in every job, and pin the image\'s tag so a rebuilt image cannot drop them.' }
}

export const buildDependenciesRule: Rule = {
  id: 'build-dependencies',
  categories: ['dev_headers_missing'],
  match: (ev) => missing(Scan.of(ev)),
}
