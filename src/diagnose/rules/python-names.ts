import { Scan, diagnosis, evidence } from '../scan.js'
import type { Diagnosis, TraceLine } from '../types.js'

/**
 * What Python's error messages name (import paths) against what pip installs (distributions), and
 * which standard-library names newer Pythons removed — so a drift answer pins a package that exists
 * and a "newer Python" answer is given only for a name that really went away.
 */

// Import names whose distribution on PyPI has another name. `lib`/`_openssl` are cryptography's CFFI
// bindings as pyOpenSSL reaches them.
const DISTRIBUTION: Record<string, string> = {
  PIL: 'Pillow', 'google.protobuf': 'protobuf', yaml: 'PyYAML', cv2: 'opencv-python', sklearn: 'scikit-learn',
  skimage: 'scikit-image', OpenSSL: 'pyOpenSSL', lib: 'cryptography', _openssl: 'cryptography', bs4: 'beautifulsoup4',
  dateutil: 'python-dateutil', attr: 'attrs', jwt: 'PyJWT', Crypto: 'pycryptodome', dns: 'dnspython', serial: 'pyserial',
  git: 'GitPython', magic: 'python-magic', docx: 'python-docx', pkg_resources: 'setuptools', _cffi_backend: 'cffi',
  zmq: 'pyzmq', MySQLdb: 'mysqlclient', markdown: 'Markdown', jose: 'python-jose', dotenv: 'python-dotenv',
}

/** The distribution to pin for a module path, or undefined when the path does not say (google.cloud.x). */
export function pythonPackage(module: string | undefined): string | undefined {
  if (module === undefined) return undefined
  const parts = module.split('.')
  const two = parts.slice(0, 2).join('.')
  if (DISTRIBUTION[two]) return DISTRIBUTION[two]
  if (parts[0] === 'google') return undefined
  return DISTRIBUTION[parts[0]!] ?? parts[0]
}

// Names removed from the standard library, with the version that removed them.
const REMOVED_NAMES: Record<string, [readonly string[], string]> = {
  collections: [['Callable', 'Mapping', 'MutableMapping', 'Sequence', 'MutableSequence', 'Iterable', 'Iterator', 'Set', 'MutableSet', 'Hashable', 'Sized', 'Container', 'Generator', 'Awaitable', 'Coroutine', 'AsyncIterable', 'AsyncIterator', 'KeysView', 'ItemsView', 'ValuesView', 'MappingView'], '3.10'],
  time: [['clock'], '3.8'],
  platform: [['linux_distribution', 'dist'], '3.8'],
  os: [['errno'], '3.7'],
  base64: [['encodestring', 'decodestring'], '3.9'],
  fractions: [['gcd'], '3.9'],
  sys: [['setcheckinterval', 'getcheckinterval'], '3.9'],
  inspect: [['getargspec', 'formatargspec', 'getmoduleinfo'], '3.11'],
  asyncio: [['coroutine'], '3.11'],
  ssl: [['wrap_socket', 'match_hostname', 'RAND_pseudo_bytes'], '3.12'],
  configparser: [['SafeConfigParser', 'readfp'], '3.12'],
  locale: [['format'], '3.12'],
  pkgutil: [['ImpImporter', 'ImpLoader'], '3.12'],
  unittest: [['makeSuite', 'findTestCases', 'getTestCaseNames'], '3.13'],
}
// Whole modules removed: distutils, imp and the asyncore family in 3.12, the "dead batteries" in 3.13.
const REMOVED_MODULES: Record<string, string> = Object.fromEntries([
  ...['distutils', 'imp', 'asynchat', 'asyncore', 'smtpd'].map((m) => [m, '3.12']),
  ...['cgi', 'cgitb', 'crypt', 'imghdr', 'mailcap', 'nntplib', 'pipes', 'sndhdr', 'spwd', 'sunau', 'telnetlib', 'uu', 'xdrlib', 'audioop', 'chunk', 'aifc', 'msilib', 'nis', 'ossaudiodev', 'lib2to3'].map((m) => [m, '3.13']),
])

/** The Python version that removed `module` (whole) or `module.name`; undefined when it did not. */
export function removedFromPython(module: string, name?: string): string | undefined {
  if (REMOVED_MODULES[module]) return REMOVED_MODULES[module]
  const entry = REMOVED_NAMES[module]
  return entry && (name === undefined ? false : entry[0].includes(name)) ? entry[1] : undefined
}

/** An installed package using what a newer Python removed: the image's Python moved past it. */
export function newerPython(s: Scan, line: TraceLine, consumer: string | undefined, module: string, name: string): Diagnosis | undefined {
  const removedIn = REMOVED_MODULES[module] ?? removedFromPython(module, name)
  if (removedIn === undefined) return undefined
  const version = s.last(/\/python(3\.\d+)\//)?.m[1]
  const what = REMOVED_MODULES[module] ? `the module ${module}` : `${module}.${name}`
  return diagnosis('toolchain_version_too_old', `The Python in the image is newer than ${consumer ?? 'an installed package'} supports`,
    `"${line.text.trim().slice(0, 160)}": ${consumer ?? 'installed code'} uses ${what}, which Python ${removedIn} removed from the standard library${version ? ` (the job runs Python ${version})` : ''}. The image's Python moved (a floating tag such as python:3 or :latest) past what that release of the package supports.`,
    evidence(s.commandAt(line.n), line), [
      { text: `Pin the image to a Python before ${removedIn}, the minor version the job last passed on.`, snippet: 'image: python:3.X   # the last minor version the job passed on' },
      { text: `Upgrade ${consumer ?? 'the package'} to a release that supports this Python.` },
    ], 0.6)
}
