import { type Hit, Scan, diagnosis, evidence, hostOf, firstGroup } from '../scan.js'
import type { Diagnosis, Rule } from '../types.js'

/**
 * Package managers in the job's script failing for reasons other than the network: the package
 * does not exist (or the index was never updated), a private registry refused the credentials, the
 * distribution's repositories are gone (end of life), a repository key is missing, another apt
 * holds the lock, pip refuses a system Python (PEP 668), apt finds the clock behind. Wordings from
 * apt (apt-pkg/cacheset.cc, acquire-item.cc, contrib/fileutl.cc), apk-tools, pip, npm/cli
 * (error-message.js), Maven and Gradle, composer, bundler, yum/dnf.
 */

// apt's "E:" became "Error:" in apt 3.0; a BuildKit step prefixes "#12 2.902 " (or only the time when pasted from the middle).
const NOT_FOUND = /^(?:#\d+ )?(?:[\d.]+ )?(?:E|Error): Unable to locate package (\S+)|^(?:#\d+ )?(?:[\d.]+ )?(?:E|Error): Package '([^']+)' has no installation candidate|^error: target not found: (\S+)|^\s*([\w.:+-]+) \(no such package\):|No matching distribution found for ([^\s]+)|npm (?:ERR!|error) 404 +'([^']+)' is not in (?:this|the npm) registry|Could not find artifact ([\w.:-]+) in|No package ([\w.+-]+) available\.|Error: No matching repo to modify: ([\w.-]+)(?:, [\w.-]+)*\.?$|Unable to find a match: ([\w.+-]+)|^pkg: No packages available to install matching '([^']+)' have been found in the repositories|^(?:E|Error): (?:Version|Release) '[^']+' for '([^']+)' was not found|npm (?:ERR!|error) notarget No matching version found for (\S+?)\.?$|Could not find a valid gem '([^']+)' \([^)\n]{0,100}\) in any repository$|Could not find gem '([^']+)' in (?:rubygems repository|any of the gem sources)|Root composer\.json requires ([\w./-]+) [^,\n]{0,100}, it could not be found in any version|error NU110[12]: Unable to find package ([\w.-]+)|no matching package named `([^`]+)` found|^go: (\S+?): no matching versions for query|^\s*> Could not find ([\w.-]+:[\w.-]+:[\w.-]+)\.$|^\s*> Could not find any matches for ([\w.-]+:[\w.-]+:\S+) as no versions of [\w.:-]+ are available\.$|^PackagesNotFoundError: The following packages are not available from current channels/
// "Not found" after the index or the registry could not be reached is the network's answer (network.ts):
// apt's and apk's fetch failures, pip's retries and connection errors.
const NETWORK_BEFORE = /Temporary failure resolving|Failed to fetch|Could not connect to|Some index files failed to download|Could not resolve(?! all (?:files|artifacts|dependencies) for)|warning NU1801: Unable to load the service index|temporary error \(try again later\)|network error|unable to select packages: .*(?:connection|resolve)|Retrying \(Retry\(|NewConnectionError|ConnectTimeoutError|Temporary failure in name resolution|Could not fetch URL|SSLError|ProxyError/
const REGISTRY_AUTH = /npm (?:ERR!|error) code E40[13]\b|Unable to authenticate, need: Basic|npm (?:ERR!|error) 40[13] (?:Unauthorized|Forbidden)|Received status code 40[13] from server|status code: 40[13], reason phrase: (?:Unauthorized|Forbidden)|Could not authenticate against ([\w.-]+)|Authentication is required for ([\w.-]+)|Bad username or password for ([\w.-]+)|401 Client Error: Unauthorized for url: \S*(?:\/simple\/|\/packages\/pypi)/
const EOL = /The repository '([^']+)' (?:does not have|no longer has) a Release file|Cannot find a valid baseurl for repo|Cannot prepare internal mirrorlist: No URLs in mirrorlist|Could not resolve host: mirrorlist\.centos\.org/
// The distributions' own mirrors (a third-party repository without this suite is not an end of life).
const DISTRO_MIRROR = /(?:deb|security|ftp|httpredir|archive)\.debian\.org|(?:archive|security|ports)\.ubuntu\.com|mirror(?:list)?\.centos\.org|download\.fedoraproject\.org|mirrors\.fedoraproject\.org/
const KEY = /NO_PUBKEY ([0-9A-F]+)|The repository '([^']+)' is not signed|UNTRUSTED signature|EXPKEYSIG ([0-9A-F]+)|BADSIG ([0-9A-F]+)/
const LOCK = /^E: Could not get lock (\/var\/lib\/(?:dpkg|apt)\/[\w/-]+)|^E: Unable to acquire the dpkg frontend lock \([^)]*\), is another process using it\?/
const PEP668 = /error: externally-managed-environment/
// The program exists but cannot be started: its ELF interpreter (a glibc binary on Alpine/musl) or a shared library is missing.
const LOADER = /cannot execute: required file not found|error while loading shared libraries: ([^:]+): cannot open shared object file|^(?:E\s+)?(?:ImportError|OSError): (lib[\w.+-]*\.so(?:\.\d+)*): cannot open shared object file: No such file or directory|Couldn't find a valid (ICU) package installed on the system|Error loading shared library ([^:\s]+): No such file or directory|exec user process caused:? "?no such file or directory/
// npm's registry answers a publish it does not authorize (no token, or one that may not publish that
// name) with 404 on the PUT, followed by its "is not in this registry" text for the package.
const NPM_PUT_404 = /npm (?:ERR!|error) 404 Not Found - PUT (https?:\/\/\S+)/
const CLOCK = /Release file for (\S+) is not valid yet \(invalid for another ([^)]+)\)/

function notFound(s: Scan): Diagnosis[] {
  const hit = s.last(NOT_FOUND)
  if (!hit || s.ev.trace.lines.some((l) => l.n < hit.line.n && NETWORK_BEFORE.test(l.text)) || s.has(NPM_PUT_404)) return []
  // pacman prints the same words for a package to remove (-R) that is not installed.
  if (/target not found/.test(hit.line.text) && /^\$ .*pacman\b.*\s-R/.test(s.commandAt(hit.line.n)?.text ?? '')) return []
  // Gradle's "Could not find g:a:v" is a missing artifact only with the repositories it searched; without them
  // (old Gradle, Android's SDK components) the component was never installed, which the lines above say.
  if (/^\s*> Could not find /.test(hit.line.text) && !s.near(hit.line.n, /Searched in the following locations:/, 2)) return []
  const pkg = firstGroup(hit) ?? '<package>'
  const apt = /Unable to locate package|no installation candidate/.test(hit.line.text)
  const updated = s.ev.trace.lines.some((l) => l.n < hit.line.n && /^\$ .*apt(?:-get)? update/.test(l.text))
  // apt names the packages that replace an obsolete one on the lines after "However the following packages
  // replace it:", in a block that starts with "Package <p> is not available" — only that package's block counts.
  const block = s.all(/^Package (\S+) is not available, but is referred to by another package\.$/).filter((h) => h.m[1] === pkg && h.line.n < hit.line.n).pop()
  const replacedAt = block ? s.all(/However the following packages replace it:/).find((h) => h.line.n > block.line.n && h.line.n - block.line.n <= 4) : undefined
  const replacement = replacedAt ? s.output.find((l) => l.n > replacedAt.line.n)?.text.trim() : undefined
  // A floating tag of a distribution image moves to each new release (distribution packages only).
  const floating = /Unable to locate package|installation candidate|no such package|target not found|Unable to find a match|No package .* available|No packages available to install/.test(hit.line.text) ? floatingTag(s.image()) : undefined
  const fixes = apt ? [
    ...(replacement ? [{ text: `${pkg} is obsolete in this release: install what replaces it (${replacement}).`, snippet: `apt-get install -y ${replacement}` }] : []),
    ...(updated || replacement ? [] : [{ text: 'Update the package index first, in the same command (images ship without one).', snippet: 'before_script:\n  - apt-get update && apt-get install -y <packages>' }]),
    { text: `Check the package name for the image's distribution and release (it may be renamed, or only in another suite or component such as universe/contrib).`, snippet: `apt-cache search ${pkg.replace(/[:=].*$/, '')}\ncat /etc/os-release` },
  ] : /No matching repo to modify/.test(hit.line.text) ? [
    { text: `dnf has no repository with the id ${pkg} in this release: repository ids get renamed between releases (CentOS PowerTools → powertools → crb). List the ids the image has; a cached image layer may still be the old release.`, snippet: 'dnf repolist all\ncat /etc/os-release' },
  ] : /target not found/.test(hit.line.text) ? [
    { text: `pacman has no ${pkg}: the package was renamed or dropped (MSYS2 drops 32-bit mingw packages one by one), or the database is stale.`, snippet: `pacman -Syu\npacman -Ss ${pkg.replace(/^mingw-w64-(?:i686|x86_64|ucrt-x86_64)-/, '')}` },
  ] : /No packages available to install matching/.test(hit.line.text) ? [
    { text: `FreeBSD pkg has no ${pkg}: ports rename and drop packages (py39-* go when the default Python moves on), and the job installs by name at run time. Search for the current name.`, snippet: `pkg search ${pkg.replace(/^py\d+-/, '')}\npkg -vv | grep -A2 url` },
  ] : /no such package/.test(hit.line.text) ? [
    { text: 'Alpine: check the package name for this Alpine release, and enable the community repository if it lives there.', snippet: `apk search ${pkg}\ncat /etc/alpine-release` },
  ] : [
    { text: `Check the name and version of ${pkg} and that it exists for this platform and language version (a wheel for this Python, a version really published).` },
    { text: 'A private package: point the tool at the registry that has it (GitLab\'s package registry with CI_JOB_TOKEN, a proxy), with credentials.' },
  ]
  // A floating tag (ubuntu:latest, debian:stable) that moved to a new release renames and drops packages overnight.
  if (floating) fixes.push({ text: `${floating} moves to each new release; pin the release the job was written for.`, snippet: `image: ${floating.replace(/:[^/]*$/, '')}:<release>` })
  return [diagnosis('package_not_found', `The package ${pkg} was not found`, `The package manager has no ${pkg}${replacement ? ` in this release: it was replaced (by ${replacement})` : apt && !updated ? ': the image\'s apt index is empty until apt-get update runs' : ' in the repositories it uses: the name or version is wrong for this distribution or platform, or it is only in a repository the job does not configure'}${floating ? ` (the image ${floating} follows the newest release)` : ''}.`,
    evidence(s.commandAt(hit.line.n), hit, replacedAt), fixes, 0.8)]
}

/** An image tag that follows the newest release of a distribution. */
function floatingTag(image: string | undefined): string | undefined {
  if (!image) return undefined
  return /^(?:docker\.io\/)?(?:library\/)?(?:ubuntu|debian|alpine|fedora|centos|archlinux|opensuse\/\w+)(?::(?:latest|stable|testing|rolling|stable-slim|testing-slim))?$/.test(image) ? image : undefined
}

function registryAuth(s: Scan): Diagnosis[] {
  const put = s.last(NPM_PUT_404)
  if (put && !s.has(REGISTRY_AUTH)) {
    const host = hostOf(put.m[1]) ?? 'the npm registry'
    // GitLab's project-level npm registry: its own .npmrc lines, and its own reasons for a 404.
    const gitlab = /^(https?:\/\/[^/]+)(\/(?:[^/]+\/)*api\/v4\/projects\/[^/]+\/packages\/npm\/)/.exec(put.m[1] ?? '')
    if (gitlab) {
      const path = `${gitlab[1]?.replace(/^https?:/, '')}${gitlab[2]}`
      return [diagnosis('package_registry_auth_failed', `GitLab's npm registry (${host}) refused the publish`,
        `npm publish got 404 on its PUT to the project's npm registry: the job's .npmrc has no token for that registry path, or the publish goes to the wrong place — a wrong project id, the instance-level endpoint (which takes no publish), or a package scope that is not the project's root namespace.`,
        evidence(s.commandAt(put.line.n), put), [
          { text: 'Add the registry and the job token for this project\'s path to .npmrc (appended: the project\'s own .npmrc settings stay).', snippet: `script:\n  - echo "@<scope>:registry=https:${path}" >> .npmrc\n  - echo "${path}:_authToken=\${CI_JOB_TOKEN}" >> .npmrc\n  - npm publish` },
          { text: 'Check the package name\'s scope is the project\'s top-level group (or user) and the URL names this project\'s id.' },
        ], 0.75)]
    }
    return [diagnosis('package_registry_auth_failed', `${host} refused the publish`,
      `npm publish got 404 on its PUT to ${host}: the registry answers 404, not 401/403, when the request carries no token or a token that may not publish this package (the name belongs to someone else, or a scoped package's organisation does not include the token's user). The job's .npmrc has no accepted token for ${host}.`,
      evidence(s.commandAt(put.line.n), put), [
        { text: `Add the token for ${host} to .npmrc in the job, from a masked CI/CD variable (appended: the project's own .npmrc settings stay).`, snippet: `script:\n  - echo "//${host}/:_authToken=\${NPM_TOKEN}" >> .npmrc\n  - npm publish` },
        { text: 'A protected variable is empty on unprotected branches and tags: check the variable\'s settings, and that the package name is yours (or scoped to your organisation).' },
      ], 0.75)]
  }
  const hit = s.last(REGISTRY_AUTH)
  if (!hit) return []
  const host = firstGroup(hit) ?? hostOf(/https?:\/\/[^\s'"]+/.exec(hit.line.text)?.[0]) ?? hostOf(/https?:\/\/[^\s'"]+/.exec(s.near(hit.line.n, /https?:\/\//, 3)?.line.text ?? '')?.[0]) ?? 'the package registry'
  const tool = /npm/.test(hit.line.text) ? 'npm' : /status code: 40|Could not find artifact/.test(hit.line.text) ? 'maven' : /Received status code/.test(hit.line.text) ? 'gradle' : /Could not authenticate against/.test(hit.line.text) ? 'composer' : /Authentication is required|Bad username/.test(hit.line.text) ? 'bundler' : 'pip'
  const snippet = {
    npm: '# .npmrc written in the job (GitLab package registry)\n- echo "@<scope>:registry=${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/npm/" > .npmrc\n- echo "${CI_API_V4_URL#https:}/projects/${CI_PROJECT_ID}/packages/npm/:_authToken=${CI_JOB_TOKEN}" >> .npmrc',
    maven: '<!-- settings.xml -->\n<server>\n  <id>gitlab-maven</id>\n  <configuration><httpHeaders><property>\n    <name>Job-Token</name><value>${CI_JOB_TOKEN}</value>\n  </property></httpHeaders></configuration>\n</server>',
    gradle: 'credentials(HttpHeaderCredentials) {\n  name = "Job-Token"\n  value = System.getenv("CI_JOB_TOKEN")\n}\nauthentication { header(HttpHeaderAuthentication) }',
    composer: 'composer config gitlab-token.<host> "$CI_JOB_TOKEN"',
    bundler: 'bundle config set --local <host> "gitlab-ci-token:${CI_JOB_TOKEN}"',
    pip: 'pip install --index-url "https://gitlab-ci-token:${CI_JOB_TOKEN}@<gitlab>/api/v4/projects/<id>/packages/pypi/simple" <package>',
  }[tool]
  return [diagnosis('package_registry_auth_failed', `${host} refused the ${tool} credentials`, `The package registry ${host} answered ${/\b403\b|E403|Forbidden/.test(hit.line.text) ? '403 (the credentials may not read or publish there)' : '401 (no credentials, or wrong or expired ones)'}. The job's ${tool} configuration (${{ npm: '.npmrc', maven: 'settings.xml', gradle: 'the repository credentials', composer: 'auth.json', bundler: 'bundle config', pip: 'the index URL' }[tool]}) does not carry a token the registry accepts.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: `Give ${tool} a token for ${host} from a CI/CD variable (for GitLab's package registry, the job token works when the project allows it).`, snippet },
      { text: 'A token from a masked variable that is protected is empty on unprotected branches: check the variable\'s settings.' },
    ], 0.8)]
}

function distroEol(s: Scan): Diagnosis[] {
  const hit = s.last(EOL)
  if (!hit) return []
  const release = /Release file/.test(hit.line.text)
  if (release && !DISTRO_MIRROR.test(hit.m[1] ?? '')) return []
  // yum prints "Cannot find a valid baseurl" whenever the mirror list could not be fetched: on a supported release that is the network.
  if (/valid baseurl/.test(hit.line.text) && (!s.has(/mirrorlist\.centos\.org|centos/i) || s.has(/Timeout|timed out|Connection refused/i))) return []
  return [diagnosis('distro_repository_eol', 'The image\'s distribution is past its end of life', `The package repositories of the image's release are gone from the mirrors ("${hit.line.text.trim().slice(0, 140)}"): the release reached its end of life and was moved to the archive (Debian's archive.debian.org, CentOS's vault), so updates and installs fail.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Move the job to a supported release of the image.', snippet: 'image: debian:bookworm   # or a current tag of the same image' },
      { text: 'If it must stay, point the package manager at the archive (no more security updates).', snippet: 'sed -i "s|deb.debian.org|archive.debian.org|g; /security/d" /etc/apt/sources.list\n# CentOS 7: sed -i "s|mirrorlist=|#mirrorlist=|; s|#baseurl=http://mirror.centos.org|baseurl=http://vault.centos.org|" /etc/yum.repos.d/*.repo' },
    ], /Cannot find a valid baseurl|mirrorlist\.centos\.org|No URLs in mirrorlist|does not have a Release file|no longer has a Release file/.test(hit.line.text) || s.has(/mirrorlist\.centos\.org|Cannot find a valid baseurl/) ? 0.9 : 0.75)]
}

function repositoryKey(s: Scan): Diagnosis[] {
  const hits = s.all(KEY)
  const hit = hits.filter((h) => !/^W: /.test(h.line.text)).pop() ?? hits.pop()
  if (!hit) return []
  // apt before 2.x only warned and went on: a warning followed by another failure is background.
  if (/^W: /.test(hit.line.text) && s.failsAfter(hit.line.n, /^[WNE]: |GPG|signature|NO_PUBKEY|Release/)) return []
  // BADSIG: the key is there, the file it checks is wrong (a mirror or caching proxy serving a stale or broken InRelease).
  const bad = s.all(KEY).find((h) => /BADSIG/.test(h.line.text))
  if (bad) {
    return [diagnosis('repository_key_missing', 'A repository\'s signature does not verify', `apt has the signing key, but the signature of the repository's index does not verify ("BADSIG"): a mirror, a caching proxy or a middlebox served a stale or corrupted InRelease.`,
      evidence(bad, hit), [
        { text: 'Retry; if it repeats, clear the lists and bypass the caching proxy for this repository.', snippet: 'rm -rf /var/lib/apt/lists/* && apt-get update' },
      ], 0.5)]
  }
  const key = hit.m[1] ?? hit.m[3]
  return [diagnosis('repository_key_missing', `A package repository's signing key is ${/EXPKEYSIG/.test(hit.line.text) ? 'expired' : 'missing'}`, `${key ? `The key ${key}` : 'The key'} that signs a repository the job uses is not in the image's keyring (or expired), so the package manager refuses that repository.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Install the repository\'s current key before apt-get update (a keyring file referenced by signed-by).', snippet: 'curl -fsSL <repository>/key.gpg | gpg --dearmor -o /usr/share/keyrings/<name>.gpg\necho "deb [signed-by=/usr/share/keyrings/<name>.gpg] <repository> <suite> main" > /etc/apt/sources.list.d/<name>.list' },
      { text: 'Or refresh the distribution\'s own keys (debian-archive-keyring, alpine-keys) with a newer image.' },
    ], 0.8)]
}

function lock(s: Scan): Diagnosis[] {
  const hit = s.last(LOCK)
  if (!hit) return []
  return [diagnosis('package_manager_lock', 'Another apt/dpkg holds the package lock', `${hit.m[1] ?? 'The dpkg lock'} is held by another process: on a shell-executor host another job or unattended-upgrades is installing at the same time; in an image, a background apt started by the entrypoint.`,
    evidence(hit), [
      { text: 'Shell executor: do not install system packages from jobs (provision the host), or wait for the lock.', snippet: 'apt-get -o DPkg::Lock::Timeout=300 install -y <packages>' },
      { text: 'Better, run such jobs in containers (the Docker executor), where each job has its own package database.' },
    ], 0.8)]
}

function pep668(s: Scan): Diagnosis[] {
  const hit = s.last(PEP668)
  if (!hit) return []
  return [diagnosis('python_externally_managed', 'pip refuses to install into the image\'s system Python', 'The image\'s distribution marks its Python as externally managed (PEP 668, Debian 12, Ubuntu 23.04 and later): pip will not install into it system-wide.',
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Use a virtual environment in the job.', snippet: 'before_script:\n  - python3 -m venv .venv\n  - . .venv/bin/activate\n  - pip install -r requirements.txt' },
      { text: 'Or use a python: image (not managed by the distribution), or the distribution\'s python3-<pkg> packages.' },
    ], 0.85)]
}

// The program's libraries are there but older than the program: a symbol it needs is missing
// (glibc's ld.so, FreeBSD's ld-elf.so.1). Packages upgraded one by one leave such pairs.
// (The library's name is read from the hit line afterwards: "\S+\.so" here would retry from every character of a long line.)
const SYMBOL = /\.so\.\d+: version `(?<version>[A-Z][A-Z0-9]*_[\d.]+\w*)' not found|ld-elf\.so\.1: \S+: version (?<bsdVersion>[A-Z][A-Z0-9]*_[\d.]+) required by \S+ not found|symbol lookup error: (?<program>\S+): undefined symbol: (?<symbol>\w+)|ld-elf\.so\.1: (?<bsdProgram>\S+): Undefined symbol "(?<bsdSymbol>[\w@.]+)"|dyld(?:\[\d+\])?: Symbol not found: _?(?<dyldSymbol>\w+)/

function symbolMissing(s: Scan): Diagnosis[] {
  const hit = s.last(SYMBOL)
  if (!hit) return []
  const g = hit.m.groups ?? {}
  // Versioned symbols: the library is older than the version the program was linked against.
  if (g['version'] !== undefined) return versionedSymbol(s, hit, /(\S{1,200}\.so\.\d+): version `/.exec(hit.line.text)?.[1] ?? 'C library', g['version'])
  if (g['bsdVersion'] !== undefined) return versionedSymbol(s, hit, /ld-elf\.so\.1: (\S{1,200}): version /.exec(hit.line.text)?.[1] ?? 'C library', g['bsdVersion'])
  const program = g['program'] ?? g['bsdProgram'] ?? 'the program'
  const symbol = g['symbol'] ?? g['bsdSymbol'] ?? g['dyldSymbol'] ?? '<symbol>'
  return [diagnosis('binary_loader_missing', `${program} needs ${symbol}, which its libraries lack`,
    `"${hit.line.text.trim().slice(0, 160)}": ${program} was built against a newer version of a shared library than the one the image has. Installing or upgrading one package on top of an image's older package set (without upgrading the rest) leaves such a pair; so does a binary copied from another system.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Upgrade the image\'s packages together before installing more (or rebuild the image from a current base).', snippet: 'before_script:\n  - apt-get update && apt-get -y upgrade   # FreeBSD: pkg upgrade -y; Alpine: apk upgrade' },
      { text: 'Or install the program and its library from the same release (pin both), or use an image where they match.' },
    ], 0.85)]
}

function versionedSymbol(s: Scan, hit: Hit, lib: string, version: string): Diagnosis[] {
  const required = /\(required by ([^)]+)\)|required by (\S+) not found/.exec(hit.line.text)?.slice(1).find((g) => g !== undefined)
  // A build product in the checkout (target/, build/, a virtualenv) was made in another image: a cache restored across images.
  const built = required !== undefined && /\/builds\/|(?:^|\/)(?:target|build|\.venv|node_modules|vendor)\//.test(required)
  return [diagnosis('binary_loader_missing', `${required ?? 'A program'} needs ${version}, newer than the image's ${lib}`,
    `"${hit.line.text.trim().slice(0, 160)}": ${required ?? 'the program (or a precompiled module it loads)'} was built on a system with a newer ${/GLIBC_/.test(version) ? 'glibc' : 'library'} than the image has. Precompiled binaries, wheels and gems built on a newer distribution do not run on an older one.`,
    evidence(s.commandAt(hit.line.n), hit), [
      ...(built ? [{ text: `${required} was built in the job's checkout, most likely by an earlier job in another (newer) image whose cache this job restored: clear the cache, or key it by image.`, snippet: 'cache:\n  key: "$CI_JOB_NAME-$CI_JOB_IMAGE"\n# or clear the runner caches from the pipelines page' }] : []),
      { text: 'Use an image whose distribution release is at least as new as the one the binary was built for.', snippet: 'ldd --version   # the image\'s glibc\nimage: <a newer release of the image>' },
      { text: 'Or build the binary (gem, wheel, module) from source in the image, or get a build made for this older release (manylinux wheels, --platform ruby gems).', snippet: 'gem install <gem> --platform ruby   # pip install --no-binary <pkg> <pkg>' },
    ], 0.85)]
}

// musl's loader for a library or program built against glibc (gcompat/glibc shims on Alpine): symbols it lacks.
// Also inside a language's error: Python's ImportError, Node's dlopen Error.
const MUSL_RELOCATION = /\bError relocating ([^:\s]+): ([^:\s]+): symbol not found/

function muslRelocation(s: Scan): Diagnosis[] {
  const hits = s.all(MUSL_RELOCATION)
  const hit = hits[hits.length - 1]
  if (!hit) return []
  const files = [...new Set(hits.map((h) => h.m[1] ?? ''))]
  return [diagnosis('binary_loader_missing', `${files.join(' and ')} cannot be loaded: symbols musl does not have`,
    `musl's loader could not resolve ${hits.length > 1 ? `${hits.length} symbols` : `"${hit.m[2]}"`} in ${files.join(', ')}: a program or library built against glibc (a __*_chk symbol, a newer libstdc++) is loaded by Alpine's musl — typically an image that adds glibc compatibility libraries, or packages mixed from another Alpine release.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Do not mix C libraries: install the program from the image\'s own Alpine release (apk), or use a glibc-based image (Debian/Ubuntu) for it.', snippet: 'cat /etc/alpine-release; apk info -W ' + (files[0] ?? '<file>') },
      { text: 'If the image ships glibc shims (gcompat, a glibc package), check which library the program picked up.', snippet: 'ldd ' + (files[files.length - 1] ?? '<program>') },
    ], 0.75)]
}

// Gradle runs each JDK it provisions to read its version; a glibc JDK on a musl image cannot start.
const TOOLCHAIN_PROBE = /Provisioned toolchain '([^']+)' could not be probed/

function toolchainProbe(s: Scan): Diagnosis[] {
  const hit = s.last(TOOLCHAIN_PROBE)
  if (!hit) return []
  const alpine = /alpine|musl/i.test(s.image() ?? '') || /alpine|musl/.test(hit.line.text)
  // The toolchain's Java version from the provisioned directory's name (adoptium-8-…, amazon-corretto-21…).
  const version = /[-/](?:jdk-?)?(\d{1,2})(?:[-.]|$)/.exec((hit.m[1] ?? '').split('/').pop() ?? '')?.[1] ?? '<version>'
  // Alpine names Java 8's directory java-1.8-openjdk; Debian adds the architecture.
  const installed = alpine ? (version === '8' ? '/usr/lib/jvm/java-1.8-openjdk' : `/usr/lib/jvm/java-${version}-openjdk`) : `/usr/lib/jvm/java-${version}-openjdk-amd64`
  return [diagnosis('binary_loader_missing', 'Gradle cannot run the JDK it provisioned', `Gradle downloaded a JDK for the build's toolchain (${hit.m[1]}) and could not start it to read its version: ${alpine ? 'the image is Alpine (musl), and the JDKs Gradle downloads are glibc builds' : 'the usual reason is a glibc JDK on a musl image (Alpine), or a JDK for another architecture'}.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Build in a glibc image that has the toolchain\'s Java version, so Gradle needs to provision nothing.', snippet: `image: eclipse-temurin:${version}-jdk   # the version the toolchain asks for` },
      { text: `Or install that JDK from the image's own packages and point Gradle at it (Gradle's toolchain resolvers download glibc builds only).`, snippet: `${alpine ? `apk add openjdk${version}` : `apt-get install -y openjdk-${version}-jdk-headless`}\n# gradle.properties\norg.gradle.java.installations.paths=${installed}` },
    ], 0.6)]
}

function loader(s: Scan): Diagnosis[] {
  const hit = s.last(LOADER)
  if (!hit) return [...muslRelocation(s), ...toolchainProbe(s)]
  const lib = firstGroup(hit)
  const alpine = /alpine|musl/i.test(s.image() ?? '') || s.has(/^fetch https:\/\/dl-cdn\.alpinelinux\.org|\bapk add\b/)
  // bash 5.2 says the same for a script whose #! interpreter is missing: CRLF line endings, or a
  // virtualenv/node_modules entry point made in another image.
  const program = /cannot execute: required file not found/.test(hit.line.text) ? /(\S+): cannot execute/.exec(hit.line.text)?.[1] ?? '' : ''
  if (/\.(?:sh|bash|py|pl|rb)$|(?:^|\/)(?:\.?venv|env)\/bin\/|node_modules\/\.bin\//.test(program)) {
    const venv = /(?:^|\/)(?:\.?venv|env)\/bin\//.test(program)
    return [diagnosis('binary_loader_missing', `${program}'s #! interpreter is missing`, venv
      ? `${program} is a virtualenv entry point whose #! line names the Python of the image (or path) it was created in; restored from a cache into another image or path, that interpreter does not exist.`
      : `${program} is a script whose #! interpreter does not exist here: CRLF line endings make it look for "/bin/bash\\r", or it names a shell or interpreter the image lacks.`,
      evidence(s.commandAt(hit.line.n), hit), venv ? [
        { text: 'Create the virtualenv in the job\'s own image, or key its cache on the image too.', snippet: 'cache:\n  key: venv-$CI_JOB_IMAGE\n  paths: [.venv/]\nbefore_script:\n  - python -m venv .venv && .venv/bin/pip install -r requirements.txt' },
      ] : [
        { text: 'Check its first line and its line endings; store scripts with LF endings.', snippet: `head -1 ${program} | od -c | head -2\nsed -i 's/\\r$//' ${program}\necho "*.sh text eol=lf" >> .gitattributes` },
      ], 0.8)]
  }
  return [diagnosis('binary_loader_missing', lib ? `The program needs ${lib}, which the image lacks` : 'The program exists but its loader is missing', lib
    ? `The binary is linked against ${lib}, and the image has no such library (another distribution or release, or a slimmed image).`
    : `The file is there, but the system cannot start it: it is a dynamically linked program whose loader (ELF interpreter) the image does not have${alpine ? ' — a glibc binary on Alpine, whose C library is musl' : ' — typically a glibc binary on a musl image (Alpine), or a binary for another architecture'}.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: lib ? `Install the package that provides ${lib}, or use an image of the distribution the binary was built for.` : 'Use an image with the C library the binary was built for (a Debian/Ubuntu image for glibc binaries), or a static or musl build of the tool.', snippet: lib ? `ldd <program>   # lists what else is missing
apt-get install -y <package providing ${lib}>` : 'image: debian:bookworm-slim   # instead of alpine for glibc binaries' },
      ...(alpine && !lib ? [{ text: 'On Alpine, gcompat can run some glibc binaries.', snippet: 'apk add --no-cache gcompat' }] : []),
    ], 0.85)]
}

function clockSkew(s: Scan): Diagnosis[] {
  const hit: Hit | undefined = s.last(CLOCK)
  if (!hit) return []
  return [diagnosis('clock_skew', 'The clock is behind: apt finds the repository\'s files from the future', `apt rejects ${hit.m[1]} because its Release file is dated ${hit.m[2]} after the machine's current time: the clock of the runner host (or VM, or Docker Desktop's VM) is wrong.`,
    evidence(hit), [
      { text: 'Fix the host clock (NTP) on the runner host or VM.', snippet: 'timedatectl status\nsudo timedatectl set-ntp true' },
      { text: 'As a stopgap only, let apt accept it.', snippet: 'apt-get -o Acquire::Check-Valid-Until=false -o Acquire::Check-Date=false update' },
    ], 0.85)]
}

export const packagesRule: Rule = {
  id: 'packages',
  categories: ['package_not_found', 'package_registry_auth_failed', 'distro_repository_eol', 'repository_key_missing', 'package_manager_lock', 'python_externally_managed', 'clock_skew', 'binary_loader_missing'],
  match(ev) {
    const s = Scan.of(ev)
    return [...notFound(s), ...registryAuth(s), ...distroEol(s), ...repositoryKey(s), ...lock(s), ...pep668(s), ...clockSkew(s), ...loader(s), ...symbolMissing(s)]
  },
}
