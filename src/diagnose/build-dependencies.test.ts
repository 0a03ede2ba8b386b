import { describe, expect, it } from 'vitest'
import { all, cats, step, top } from '../../test/support/diagnose-log.js'

// dev_headers_missing: a library the build needs is not in the image at all (its -dev package).

describe('a missing library, in each build tool\'s words', () => {
  it.each([
    ['gcc', ['$ make', 'src/zip.c:3:10: fatal error: zlib.h: No such file or directory', '    3 | #include <zlib.h>', '      |          ^~~~~~~~', 'compilation terminated.'], 'zlib1g-dev'],
    ['clang', ['$ make', "src/zip.c:3:10: fatal error: 'zlib.h' file not found", '#include <zlib.h>', '         ^~~~~~~~', '1 error generated.'], 'zlib1g-dev'],
    ['MSVC (a Windows build: vcpkg, not apt)', ['$ nmake', "src\\zip.c(3): fatal error C1083: Cannot open include file: 'zlib.h': No such file or directory"], 'vcpkg install zlib'],
    ['a Python C extension', ['$ pip install .', '  src/ext.c:1:10: fatal error: Python.h: No such file or directory', '      1 | #include <Python.h>'], 'python3-dev'],
    ['perl headers on Alpine', ['$ make', '  perl.c:45:10: fatal error: XSUB.h: No such file or directory', '     45 | #include <XSUB.h>'], 'perl-dev'],
    ['no C library headers', ['$ gcc hello.c', 'hello.c:1:10: fatal error: stdio.h: No such file or directory', '    1 | #include <stdio.h>'], 'musl-dev'],
    ['autoconf', ['$ ./configure', 'checking for deflate in -lz... no', 'configure: error: zlib library not found'], 'zlib1g-dev'],
    ['autoconf, "Could not find"', ['$ ./configure', 'configure: error: Could not find zlib'], 'zlib1g-dev'],
    ['pkg-config under PKG_CHECK_MODULES', ['$ ./configure', 'configure: error: Package requirements (glib-2.0 >= 2.56) were not met:', '', "No package 'glib-2.0' found"], 'libglib2.0-dev'],
    ['CMake', ['$ cmake ..', 'CMake Error at /usr/share/cmake-3.22/Modules/FindPackageHandleStandardArgs.cmake:230 (message):', '  Could NOT find ZLIB (missing: ZLIB_LIBRARY ZLIB_INCLUDE_DIR)'], 'zlib1g-dev'],
    ['Meson', ['$ meson setup build', 'Run-time dependency zlib found: NO (tried pkgconfig and cmake)', '', 'meson.build:12:0: ERROR: Dependency "zlib" not found, tried pkgconfig and cmake'], 'zlib1g-dev'],
    ['Rust pkg-config crate', ['$ cargo build', '  The system library `openssl` required by crate `openssl-sys` was not found.'], 'libssl-dev'],
    ['a library with no known package', ['$ cmake ..', 'CMake Error at /usr/share/cmake-3.22/Modules/FindPackageHandleStandardArgs.cmake:230 (message):', '  Could NOT find Frobnicate (missing: FROBNICATE_INCLUDE_DIR)'], 'apt-cache search Frobnicate'],
  ])('%s', (_tool, lines, pkg) => {
    const d = top(step(...lines))
    expect(d?.category).toBe('dev_headers_missing')
    expect(all(d)).toContain(pkg)
  })
})

describe('not a missing library', () => {
  it('a header the project includes with quotes (generated, or a submodule not checked out)', () => {
    expect(cats(step('$ make', 'src/main.c:5:10: fatal error: config.h: No such file or directory', '    5 | #include "config.h"'))).not.toContain('dev_headers_missing')
  })
  it('an unknown header with no include line to tell', () => {
    expect(cats(step('$ make', 'src/main.c:5:10: fatal error: frob_gen.h: No such file or directory'))).not.toContain('dev_headers_missing')
  })
  it('a program configure looks for', () => {
    expect(cats(step('$ ./configure', 'configure: error: Cannot find perl'))).not.toContain('dev_headers_missing')
  })
  it('configure\'s missing compiler', () => {
    expect(cats(step('$ ./configure', 'configure: error: no acceptable C compiler found in $PATH'))).not.toContain('dev_headers_missing')
  })
  it('a library found in the wrong version', () => {
    expect(cats(step('$ ./configure', 'configure: error: Package requirements (glib-2.0 >= 2.56) were not met:', '', "Requested 'glib-2.0 >= 2.56' but version of GLib is 2.50.3"))).not.toContain('dev_headers_missing')
  })
})
