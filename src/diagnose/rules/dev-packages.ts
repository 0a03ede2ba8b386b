import type { Fix } from '../types.js'

/**
 * Which distribution package brings a library's development files: its headers, its pkg-config
 * module, its CMake package, its link-time `lib<x>.so`. A name is a header (`zlib.h`,
 * `openssl/ssl.h`), a pkg-config/CMake/Meson name (`zlib`, `ZLIB`, `glib-2.0`) or a linker name
 * (`z` of `-lz`). Debian/Ubuntu, Fedora/RHEL and Alpine names, checked against their archives.
 */

// The development packages of libraries builds most often miss: Debian/Ubuntu, Fedora/RHEL, Alpine.
// The fifth name, where there is one, is vcpkg's port (Windows builds).
const PACKAGES: readonly [RegExp, string, string, string, string?][] = [
  [/^zlib\.h$|^zlib$|^z$/i, 'zlib1g-dev', 'zlib-devel', 'zlib-dev', 'zlib'],
  [/^gmp(?:xx)?\.h$|^gmp$/i, 'libgmp-dev', 'gmp-devel', 'gmp-dev', 'gmp'],
  [/^mpfr\.h$|^mpfr$/, 'libmpfr-dev', 'mpfr-devel', 'mpfr-dev', 'mpfr'],
  [/^mpc\.h$|^mpc$/, 'libmpc-dev', 'libmpc-devel', 'mpc1-dev', 'mpc'],
  [/^Python\.h$|^python[\d.]*(?:-embed)?$/i, 'python3-dev', 'python3-devel', 'python3-dev', 'python3'],
  [/^(?:XSUB|EXTERN|perl)\.h$/, 'libperl-dev', 'perl-devel', 'perl-dev'],
  [/^ruby\.h$|^ruby(?:-[\d.]+)?$/, 'ruby-dev', 'ruby-devel', 'ruby-dev'],
  [/^ffi\.h$|^libffi$|^ffi$/i, 'libffi-dev', 'libffi-devel', 'libffi-dev', 'libffi'],
  [/^openssl\/|^openssl$|^libssl$|^ssl$|^crypto$|^libcrypto$/i, 'libssl-dev', 'openssl-devel', 'openssl-dev', 'openssl'],
  [/^curl\/|^libcurl$|^curl$/i, 'libcurl4-openssl-dev', 'libcurl-devel', 'curl-dev', 'curl'],
  [/^libxml\/|^libxml-2\.0$|^LibXml2$|^xml2$/i, 'libxml2-dev', 'libxml2-devel', 'libxml2-dev', 'libxml2'],
  [/^(?:n?curses|term)\.h$|^ncursesw?$/i, 'libncurses-dev', 'ncurses-devel', 'ncurses-dev'],
  [/^readline\/|^readline$/, 'libreadline-dev', 'readline-devel', 'readline-dev'],
  [/^sqlite3\.h$|^sqlite3$/i, 'libsqlite3-dev', 'sqlite-devel', 'sqlite-dev', 'sqlite3'],
  [/^bzlib\.h$|^BZip2$|^bz2$/i, 'libbz2-dev', 'bzip2-devel', 'bzip2-dev', 'bzip2'],
  [/^lzma\.h$|^liblzma$|^lzma$/i, 'liblzma-dev', 'xz-devel', 'xz-dev', 'liblzma'],
  [/^zstd\.h$|^libzstd$|^zstd$/i, 'libzstd-dev', 'libzstd-devel', 'zstd-dev', 'zstd'],
  [/^glib\.h$|^glib-2\.0$|^gio-2\.0$|^gobject-2\.0$/, 'libglib2.0-dev', 'glib2-devel', 'glib-dev', 'glib'],
  [/^gtk4$|^gtk-4\.0$/, 'libgtk-4-dev', 'gtk4-devel', 'gtk4.0-dev', 'gtk'],
  [/^gtk\/|^gtk\+?-3\.0$/, 'libgtk-3-dev', 'gtk3-devel', 'gtk+3.0-dev', 'gtk3'],
  [/^libpq-fe\.h$|^libpq$|^PostgreSQL$|^pq$|^pg_config$/, 'libpq-dev', 'libpq-devel', 'libpq-dev', 'libpq'],
  [/^uuid\/uuid\.h$|^uuid$/, 'uuid-dev', 'libuuid-devel', 'util-linux-dev'],
  [/^yaml\.h$|^yaml-0\.1$|^yaml$/, 'libyaml-dev', 'libyaml-devel', 'yaml-dev', 'libyaml'],
  [/^expat\.h$|^expat$/i, 'libexpat1-dev', 'expat-devel', 'expat-dev', 'expat'],
  [/^png\.h$|^libpng$|^PNG$|^png$/, 'libpng-dev', 'libpng-devel', 'libpng-dev', 'libpng'],
  [/^jpeglib\.h$|^libjpeg$|^JPEG$|^jpeg$/, 'libjpeg-dev', 'libjpeg-turbo-devel', 'libjpeg-turbo-dev', 'libjpeg-turbo'],
  [/^ft2build\.h$|^freetype2?$/i, 'libfreetype-dev', 'freetype-devel', 'freetype-dev', 'freetype'],
  [/^(?:lib|g)elf\.h$|^libelf$|^elf$/, 'libelf-dev', 'elfutils-libelf-devel', 'elfutils-dev'],
  [/^libudev\.h$|^libudev$|^udev$/, 'libudev-dev', 'systemd-devel', 'eudev-dev'],
  [/^Eigen\/|^Eigen3$|^eigen3$/, 'libeigen3-dev', 'eigen3-devel', 'eigen-dev', 'eigen3'],
  [/^boost\/|^Boost$/, 'libboost-all-dev (or the libboost-<component>-dev you need)', 'boost-devel', 'boost-dev', 'boost'],
  [/^linux\/|^asm\//, 'linux-libc-dev', 'kernel-headers', 'linux-headers'],
  // The C library's own headers: no compiler toolchain headers at all (Alpine without musl-dev, a slim image).
  [/^(?:stdio|stdlib|string|unistd|errno|limits)\.h$|^sys\/(?:types|cdefs|stat)\.h$|^bits\//, 'libc6-dev (build-essential)', 'glibc-devel', 'musl-dev (build-base)'],
  // 32-bit builds on a 64-bit image.
  [/^gnu\/stubs-32\.h$/, 'gcc-multilib', 'glibc-devel.i686', '(none: Alpine has no multilib)'],
]

/** Whether the name (or its file name) is a library this table knows. */
export function knownLibrary(name: string): boolean {
  return find(name) !== undefined
}

function find(name: string): readonly [RegExp, string, string, string, string?] | undefined {
  const base = name.split('/').pop() ?? name
  return PACKAGES.find(([re]) => re.test(name) || re.test(base))
}

/** The fix naming the package per distribution (or how to find it); `windows` for an MSVC build. */
export function packagesFor(name: string, windows = false): Fix {
  const known = find(name)
  if (windows) {
    const port = known?.[4]
    return { text: `Install ${name}'s development files for Windows where the job builds (vcpkg, or the library's SDK) and point the build at them (INCLUDE and LIB, or CMAKE_PREFIX_PATH / the vcpkg toolchain file).`, snippet: port ? `vcpkg install ${port}:x64-windows` : `vcpkg search ${(name.split('/').pop() ?? name).replace(/\.h(?:pp)?$/, '')}   # the port that provides ${name}` }
  }
  if (known) {
    const [, deb, rpm, apk] = known
    return { text: `Install the development package in the image (or in before_script): ${deb} on Debian/Ubuntu, ${rpm} on Fedora/RHEL, ${apk} on Alpine.`, snippet: `apt-get update && apt-get install -y ${deb.split(' ')[0]}   # dnf install -y ${rpm.split(' ')[0]}   # apk add --no-cache ${apk.split(' ')[0]}` }
  }
  const base = name.split('/').pop() ?? name
  const file = /\.h(?:pp)?$/.test(name) || name.includes('/')
  return {
    text: `Find the package that provides ${name} for the image's distribution and install it (the -dev / -devel package of the library).`,
    snippet: file ? `apt-file search ${name}   # dnf provides '*/${name}'   # Alpine: https://pkgs.alpinelinux.org/contents?file=${base}` : `apt-cache search ${name} | grep -- -dev   # dnf search ${name}-devel   # apk search ${name}-dev`,
  }
}
