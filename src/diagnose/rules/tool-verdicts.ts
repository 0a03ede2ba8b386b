import { Scan, diagnosis, evidence, hostOf } from '../scan.js'
import type { Diagnosis, Rule } from '../types.js'

/**
 * Tools of the job's script whose own words say why the job stopped where no other class does: a
 * package's configuration asking a question on a console nobody watches (debconf's Readline
 * frontend, so the job waits until its timeout), and Sphinx's linkcheck finding a linked site
 * unreachable or refusing (the site's failure, not the documentation's; a 404 or a missing anchor
 * stays the documentation's own dead link), and libxml2 (xmllint, xsltproc) failing to fetch a DTD or
 * schema from the web that a build validates against.
 */

// debconf with no terminal falls back to a Readline prompt (tzdata, keyboard-configuration, …).
const DEBCONF_PROMPT = /^\s*debconf: falling back to frontend: Readline|^\s*Configuring (?:tzdata|keyboard-configuration|console-setup|locales)$/
// Sphinx's linkcheck builder: "(<doc>: line N) broken    <url> - <reason>".
const LINKCHECK = /^\s*(?:\(\s*(?:[\w./-]+: )?line\s+\d+\)\s*)?broken\s+(https?:\/\/\S+) - (.+)$/
// What a site does wrong (down, slow, refusing the checker), as opposed to a link that is simply dead.
const SITE_FAULT = /\b5\d\d\b|\b(?:403|406|429)\b|timed? ?out|Timeout|Max retries exceeded|Connection(?:Error| refused| reset| aborted)|NewConnectionError|SSLError|RemoteDisconnected/

// libxml2's words (xmlIO.c) when a DTD, schema or stylesheet named by URL could not be loaded.
const EXTERNAL_ENTITY = /failed to load external entity "(https?:\/\/[^"]+)"|Could not parse DTD (https?:\/\/\S+)|failed to load HTTP resource/

function externalEntity(s: Scan): Diagnosis[] {
  // With --nonet libxml2 never asks the site ("Attempt to load network entity"): the file is missing from the local catalog.
  if (s.has(/Attempt to load network entity|^\$ .*--nonet\b/)) return []
  const hits = s.all(EXTERNAL_ENTITY)
  const hit = hits.find((h) => h.m[1] ?? h.m[2]) ?? hits[0]
  if (!hit) return []
  const url = hit.m[1] ?? hit.m[2]
  const host = hostOf(url) ?? 'a web site'
  return [diagnosis('upstream_service_unavailable', `The build fetches ${url ? `a DTD/schema from ${host}` : 'a DTD/schema from the web'} and could not get it`,
    `libxml2 (xmllint, xsltproc) loads ${url ?? 'a document'} over the network while validating or transforming; ${host} was down, slow or unreachable from the runner, so the build failed on a file it does not own.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Validate against a local copy: install the DTD/schema package and let the XML catalog resolve the URL, or vendor the file and point at it.', snippet: 'apt-get install -y docbook-xml xml-core   # ships DTDs and catalog entries\nxmllint --nonet --catalogs --noout <file>' },
      { text: 'Check the site from the runner; if it is down, retry later.', snippet: `curl -sSIL ${url ?? 'https://<host>/<path>'}` },
    ], 0.7)]
}

function waitingForInput(s: Scan): Diagnosis[] {
  const hit = s.last(DEBCONF_PROMPT)
  if (!hit) return []
  // A job that ended with an exit code did not hang at the question (apt printed the notice and went on).
  const trailer = s.last(/^(?:ERROR: )?Job failed\b/)
  if (trailer && !/execution took longer|timeout|timed out|canceled/i.test(trailer.line.text)) return []
  // The last thing the job printed is the question.
  const last = [...s.output].reverse().find((l) => !/^(?:ERROR: )?Job failed|^Cleaning up|^Uploading artifacts for failed job/.test(l.text))
  if (!last || last.n < hit.line.n || !/[:?]\s*$/.test(last.text.trim()) || /^\s*\[|^(?:ERROR|WARNING|E|W):/.test(last.text)) return []
  return [diagnosis('job_timeout', 'The job waited for an answer to an interactive question', `A package's configuration (debconf) found no terminal, fell back to asking on the console and waited for an answer ("${last.text.trim().slice(0, 80)}") that never comes in CI, until the job's timeout.`,
    evidence(hit, last), [
      { text: 'Make package installs non-interactive.', snippet: 'variables:\n  DEBIAN_FRONTEND: noninteractive\n  TZ: Etc/UTC' },
      { text: 'Or preseed the answers (tzdata: link /etc/localtime first).', snippet: 'ln -fs /usr/share/zoneinfo/Etc/UTC /etc/localtime && apt-get install -y tzdata' },
    ], 0.75)]
}

function linkcheck(s: Scan): Diagnosis[] {
  const hits = s.all(LINKCHECK).filter((h) => SITE_FAULT.test(h.m[2] ?? ''))
  const hit = hits[hits.length - 1]
  if (!hit) return []
  const host = hostOf(hit.m[1]) ?? 'a linked site'
  return [diagnosis('upstream_service_unavailable', `The documentation's link check failed on ${host}`, `Sphinx's linkcheck could not get ${hits.length === 1 ? 'a linked page' : `${hits.length} linked pages`}: ${host} answered "${(hit.m[2] ?? '').slice(0, 120)}". The site (down, slow, or refusing the checker) is the cause, not the documentation build.`,
    evidence(...hits.slice(-3)), [
      { text: 'Check the link from a browser and from the runner; if the site is down or blocks the checker, retry later or ignore it.', snippet: '# conf.py\nlinkcheck_ignore = [r"https://example\\.org/.*"]\nlinkcheck_retries = 3\nlinkcheck_timeout = 30' },
      { text: 'Some sites refuse the default user agent: send a browser-like one.', snippet: '# conf.py\nuser_agent = "Mozilla/5.0 (X11; Linux x86_64) Sphinx linkcheck"' },
      { text: 'Keep link checking out of the blocking path: a scheduled pipeline or allow_failure.', snippet: 'linkcheck:\n  allow_failure: true\n  rules:\n    - if: $CI_PIPELINE_SOURCE == "schedule"' },
    ], 0.7)]
}

export const toolVerdictsRule: Rule = {
  id: 'tool-verdicts',
  categories: ['job_timeout', 'upstream_service_unavailable'],
  match(ev) {
    const s = Scan.of(ev)
    return [...waitingForInput(s), ...linkcheck(s), ...externalEntity(s)]
  },
}
