import { type Hit, Scan, diagnosis, evidence, firstGroup } from '../scan.js'
import type { Diagnosis, Fix, Rule } from '../types.js'

/**
 * Programs a tool looks for itself and reports in its own words, not the shell's "command not found"
 * (image.ts): a browser for headless tests (chrome-launcher, Puppeteer, Karma, Cypress), a Python
 * interpreter for a test session (nox, tox), the host tools bitbake checks before a Yocto build. The
 * job image does not have them; the usual mistake with browsers is a `services:` entry, which runs
 * in a container of its own and puts nothing on the job's PATH. And build systems looking for a compiler
 * (autoconf, CMake, Meson, rustc's linker, the cc crate, setuptools).
 */

const BROWSER = new RegExp([
  // chrome-launcher (Lighthouse, lhci): its two refusals.
  String.raw`The environment variable CHROME_PATH must be set to executable of a build of Chromium`,
  String.raw`No Chrome installations found\.`,
  // Puppeteer: the browser it downloads at install time is not there (skipped download, other cache dir).
  String.raw`Could not find (?:Chrome|Chromium|Firefox) \(ver\. [\w.]+\)`,
  String.raw`Could not find expected browser \((\w+)\) locally`,
  String.raw`Browser was not found at the configured executablePath`,
  // Karma's launchers, Cypress, Playwright (its downloaded browsers), chromedriver (Selenium, WebdriverIO).
  String.raw`No binary for (\w+) browser on your platform`,
  String.raw`Browser: (\w+) was not found on your system`,
  String.raw`browserType\.launch: Executable doesn't exist at \S*ms-playwright`,
  String.raw`unknown error: cannot find Chrome binary`,
].join('|'))
// Only the wordings of a run that failed for the interpreter: nox's "failed" (with CI set, which GitLab
// sets) and tox's errors. Their "skipped" wordings are warnings: another session may be what failed.
const INTERPRETER = new RegExp([
  String.raw`Session \S+ failed: Python interpreter ([\w.]+) not found`,
  String.raw`ERROR:\s+InterpreterNotFound: (python[\w.]*)`,
  String.raw`failed with could not find python interpreter matching any of the specs (\S+)`,
].join('|'))
// Hugo's own lookup of the programs it runs (go for Hugo Modules, git, node for PostCSS).
const GO_BINARY = /binary with name "([\w.-]+)" not found/
const HOSTTOOLS = /The following required tools \(as specified by HOSTTOOLS\) appear to be unavailable in PATH/

function browser(s: Scan, hit: Hit): Diagnosis {
  // Karma names its launcher (ChromeHeadless, FirefoxHeadless): the browser is what it launches.
  const name = (firstGroup(hit) ?? (/Firefox/i.test(hit.line.text) ? 'Firefox' : 'Chrome')).replace(/Headless$/, '')
  const service = s.services().find((x) => /chrom|browser|selenium|headless/i.test(x))
  const alpine = /alpine/.test(s.image() ?? '')
  const playwright = /ms-playwright/.test(hit.line.text)
  // Debian's package is "chromium"; Ubuntu's chromium-browser is a snap, which does not run in a container.
  const install = alpine ? 'apk add --no-cache chromium   # then CHROME_PATH=/usr/bin/chromium-browser' : 'apt-get update && apt-get install -y chromium   # Debian images; then CHROME_PATH=/usr/bin/chromium'
  const fixes: Fix[] = [
    ...(playwright ? [{ text: 'Playwright uses the browsers it downloads for its own version: install them in the job, or use Playwright\'s image of the same version.', snippet: 'image: mcr.microsoft.com/playwright:v<version of @playwright/test>-jammy\n# or: npx playwright install --with-deps chromium' }] : []),
    { text: 'Run the job in an image that ships the browser, or install it in before_script.', snippet: /firefox/i.test(name) ? 'image: cypress/browsers:latest   # Chrome, Firefox and Edge' : `image: cypress/browsers:latest\n# or in before_script: ${install}` },
    { text: 'If the browser is installed, tell the tool where it is.', snippet: 'variables:\n  CHROME_PATH: /usr/bin/chromium      # chrome-launcher, Lighthouse\n  CHROME_BIN: /usr/bin/chromium       # Karma\n  PUPPETEER_EXECUTABLE_PATH: /usr/bin/chromium' },
    ...(/Could not find (?:expected browser|Chrome|Chromium|Firefox)/.test(hit.line.text) ? [{ text: 'Puppeteer downloads its browser when it is installed: do not skip that download (PUPPETEER_SKIP_DOWNLOAD), and cache its directory with node_modules.', snippet: 'variables:\n  PUPPETEER_CACHE_DIR: $CI_PROJECT_DIR/.cache/puppeteer\ncache:\n  paths: [.cache/puppeteer, node_modules]' }] : []),
  ]
  return diagnosis('command_not_found', `No ${name} browser in the job image`,
    `The tests need a ${name} executable in the job container and the tool found none ("${hit.line.text.trim().slice(0, 120)}").${service ? ` The service ${service} runs in a container of its own: it puts no browser on the job's PATH (a browser service is reached over the network, through WebDriver or a DevTools URL).` : ''}`,
    evidence(s.commandAt(hit.line.n), hit), fixes, 0.8)
}

function missing(s: Scan): Diagnosis[] {
  const b = s.last(BROWSER)
  if (b) return [browser(s, b)]
  const i = s.last(INTERPRETER)
  if (i) {
    const py = firstGroup(i) ?? 'python'
    const version = /(\d+\.\d+)/.exec(py)?.[1] ?? /^py(\d)(\d+)$/.exec(py)?.slice(1, 3).join('.')
    return [diagnosis('command_not_found', `No Python ${version ?? py} in the job image`,
      `The test runner has a session for Python ${version ?? py}, and the job image does not have that interpreter ("${i.line.text.trim().slice(0, 120)}"). nox fails the run for a missing interpreter when CI is set (GitLab sets it in every job); tox fails unless told to skip.`,
      evidence(s.commandAt(i.line.n), i), [
        { text: 'Run each Python version in its own job, with the image of that version, and select the session.', snippet: `test:\n  parallel:\n    matrix:\n      - PY: ["3.9", "3.10"]\n  image: python:$PY\n  script: nox -s "test-$PY"   # tox: tox -e py$(echo $PY | tr -d .)` },
        { text: 'Or use an image with several interpreters (pyenv, or uv python install).', snippet: 'before_script:\n  - uv python install 3.9 3.10' },
      ], 0.8)]
  }
  const g = s.last(GO_BINARY)
  if (g) {
    const program = firstGroup(g) ?? 'go'
    // Hugo resolves npm tools (PostCSS, Babel, Tailwind) through node_modules/.bin and npx, in the same words.
    const npm = /using npx|node_modules/.test(g.line.text) || /^(?:postcss|babel|tailwindcss|npx|node)$/.test(program)
    const fixes: Fix[] = program === 'go'
      ? [{ text: 'Use an image with Hugo and Go (Hugo Modules download with go), or install go before hugo runs.', snippet: 'image: hugomods/hugo:exts   # Hugo extended with Go, Node.js and Git\n# or: apk add --no-cache go git' },
        { text: 'Or vendor the modules into the repository so the build needs no download.', snippet: 'hugo mod vendor   # commit _vendor/' }]
      : npm
        ? [{ text: `Install the site's npm tools before hugo runs (${program} from package.json), in an image with Node.js.`, snippet: 'script:\n  - npm ci   # or: npm install -D postcss postcss-cli autoprefixer\n  - hugo' }]
        : [{ text: `Install ${program} in the job's image before hugo runs.`, snippet: `before_script:\n  - apk add --no-cache ${program}` }]
    return [diagnosis('command_not_found', `Hugo needs ${program} in the job image`,
      `"${g.line.text.trim().slice(0, 140)}": Hugo runs ${program} itself${program === 'go' ? ' to download Hugo Modules (a theme imported as a module)' : npm ? ' (an npm tool of the site\'s pipeline)' : ''}, and the job's image does not have it.`,
      evidence(s.commandAt(g.line.n), g), fixes, 0.8)]
  }
  const h = s.last(HOSTTOOLS)
  if (!h) return []
  const list = s.lineAt(h.line.n + 1)?.text.replace(/^.*? - INFO\s+- /, '').trim()
  return [diagnosis('command_not_found', `bitbake's host tools are missing from the image${list ? `: ${list}` : ''}`,
    'bitbake checks before any build that the host tools of HOSTTOOLS are on PATH, and the job image lacks some of them: it is not an image made for this kind of build (a kas-isar image for an OpenEmbedded build, a slim image).',
    evidence(h, s.lineAt(h.line.n + 1)), [
      { text: 'Use a build image made for Yocto/OpenEmbedded builds (kas\'s kas image, crops/poky), or install the listed tools in it.', snippet: 'image: ghcr.io/siemens/kas/kas:<version>' },
    ], 0.8)]
}

// Build systems looking for a compiler the image lacks: autoconf, CMake, Meson, rustc's linker, the cc crate, setuptools.
const NO_COMPILER = /configure: error: no acceptable (C|C\+\+) compiler found in \$PATH|^\s*No CMAKE_(C|CXX)_COMPILER could be found\.|ERROR: Unknown compiler\(s\): \[\['([\w.+-]+)'|error: linker `([\w.+-]+)` not found|Failed to find tool\. Is `([\w.+-]+)` installed\?|error: command '([\w.+-]+)' failed: No such file or directory|configure: error: (C\+\+|C) compiler cannot create executables/

function noCompiler(s: Scan): Diagnosis[] {
  const hit = s.last(NO_COMPILER)
  if (!hit) return []
  // "cannot create executables" also follows broken flags or a missing libc: only a compiler that was not found at all is this.
  const looked = /cannot create executables/.test(hit.line.text) ? s.all(/^checking for (g\+\+|c\+\+|gcc|cc)\.\.\. (no|\S+)$/).filter((h) => h.line.n < hit.line.n) : []
  if (/cannot create executables/.test(hit.line.text) && (looked.length === 0 || looked.some((h) => h.m[2] !== 'no'))) return []
  const lang = /C\+\+|CXX|c\+\+|g\+\+/.test(hit.m[0]) ? 'C++' : 'C'
  const tool = firstGroup(hit) ?? ''
  const compiler = /^(?:C|C\+\+|CXX)$/.test(tool) ? (lang === 'C++' ? 'g++' : 'gcc') : tool
  const image = s.image()
  return [diagnosis('command_not_found', `No ${lang} compiler in the job image`,
    `The build looked for a ${lang} compiler (or the linker ${compiler}) and found none: ${image ? `the image ${image}` : 'the job image'} does not ship one, or no longer does (slim images, or a floating tag that moved to a release whose packages no longer pull the build tools in).`,
    evidence(s.commandAt(hit.line.n), looked[looked.length - 1], hit), [
      { text: 'Install the compiler in before_script, or use an image that ships the build tools.', snippet: /alpine/.test(image ?? '') ? 'before_script:\n  - apk add --no-cache build-base' : 'before_script:\n  - apt-get update && apt-get install -y build-essential' },
      { text: 'Pin the image release the job was written for, rather than a floating tag.' },
    ], 0.85)]
}

export const missingProgramsRule: Rule = {
  id: 'missing-programs',
  categories: ['command_not_found'],
  match(ev) {
    const s = Scan.of(ev)
    return [...missing(s), ...noCompiler(s)]
  },
}
