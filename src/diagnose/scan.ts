import { type CiImage, type CiJob, ciFacts, jobsOfLog } from './ci-facts.js'
import { lineAt, stageIndex } from './trace.js'
import type { Diagnosis, Evidence, EvidenceLine, Fix, ProbeResult, TraceLine } from './types.js'

/**
 * The questions every rule asks about a failed job, answered once: which lines match, in which
 * phase, which executor, which GitLab host, what the probes saw. Keeping them here lets each
 * rule module stay a list of patterns plus the advice that goes with them.
 */
export interface Hit {
  line: TraceLine
  m: RegExpExecArray
}

export type Family = 'docker' | 'kubernetes' | 'shell' | 'other'

const FAILURE_WORD = /\b(?:error|fatal|fail|failed|failing|failure|exception|denied|not found)\b|[a-z](?:Error|Exception)\b/i
const RUNNER_TRAILER = /^(?:ERROR: )?(?:Job|Build) failed\b|^Cleaning up|^Uploading artifacts for failed job/

// The Scan of the evidence being diagnosed: every rule module asks for it, and one diagnose() call
// builds it once (only for the length of that call, so evidence changed between calls is seen).
const current = new WeakMap<Evidence, Scan>()

export class Scan {
  /** The shared Scan while diagnose() runs on `ev`, else a new one. */
  static of(ev: Evidence): Scan {
    return current.get(ev) ?? new Scan(ev)
  }

  /** Runs `f` with one Scan of `ev` shared by every rule that asks for it. */
  static sharedDuring<T>(ev: Evidence, f: () => T): T {
    current.set(ev, new Scan(ev))
    try {
      return f()
    } finally {
      current.delete(ev)
    }
  }

  readonly ev: Evidence
  /** Lines a rule may treat as output: not blank, and not the `$ command` echo of the script. */
  readonly output: TraceLine[]
  readonly executor: string | undefined
  readonly family: Family | undefined

  constructor(ev: Evidence) {
    this.ev = ev
    this.output = ev.trace.lines.filter((l) => l.text.trim() !== '' && !l.text.startsWith('$ '))
    this.executor = ev.executor ?? configString(firstRunner(ev.config), 'executor') ?? executorFromTrace(ev.trace.lines)
    this.family = familyOf(this.executor)
  }

  get phase(): string | undefined {
    return this.ev.trace.failedPhase
  }

  /** Every output line matching `re`, optionally only in the given phases. */
  all(re: RegExp, phases?: readonly string[]): Hit[] {
    const hits: Hit[] = []
    for (const line of this.output) {
      if (phases && !phases.includes(phaseName(line.section))) continue
      const m = re.exec(line.text)
      if (m) hits.push({ line, m })
    }
    return hits
  }

  /** The last matching line: the one nearest to the failure usually carries the cause. */
  last(re: RegExp, phases?: readonly string[]): Hit | undefined {
    const hits = this.all(re, phases)
    return hits[hits.length - 1]
  }

  first(re: RegExp, phases?: readonly string[]): Hit | undefined {
    return this.all(re, phases)[0]
  }

  has(re: RegExp, phases?: readonly string[]): boolean {
    return this.first(re, phases) !== undefined
  }

  /** Matching lines within `radius` lines of `n` (tools print the cause just before the summary). */
  near(n: number, re: RegExp, radius = 6): Hit | undefined {
    return this.all(re).find((h) => Math.abs(h.line.n - n) <= radius)
  }

  /** The script command that was running at line `n` (its `$ ` echo). */
  commandAt(n: number): TraceLine | undefined {
    let found: TraceLine | undefined
    for (const l of this.ev.trace.lines) {
      if (l.n > n) break
      if (l.text.startsWith('$ ')) found = l
    }
    return found
  }

  /** A host named by a URL on the lines around `n` or in the command running there (tools often print it apart). */
  hostNear(n: number, radius = 3): string | undefined {
    const lines = this.ev.trace.lines.filter((l) => Math.abs(l.n - n) <= radius).sort((a, b) => Math.abs(a.n - n) - Math.abs(b.n - n))
    const cmd = this.commandAt(n)
    for (const l of [...lines, ...(cmd ? [cmd] : [])]) {
      const h = hostOf(/\b(?:https?|ssh|git):\/\/[^\s'"]+/.exec(l.text)?.[0])
      if (h) return h
    }
    return undefined
  }

  lineAt(n: number): TraceLine | undefined {
    return lineAt(this.ev.trace, n)
  }

  /**
   * A line quoting a test's data: an assertion's message, or a line of a diff the job printed
   * (expected vs actual output) near a diff's header or an assertion: Python's ndiff lines ("- a",
   * "+ b", "? ^") up to 60 lines after one (or 10 before: unittest prints the assertion first), a
   * unified diff's "-a"/"+b" lines after its "+++"/"@@" header. The words on it are what the test
   * compared, not an error of the job's own.
   */
  inDiff(line: TraceLine): boolean {
    if (/AssertionError|\bassert(?:ion)? failed\b/.test(line.text)) return true
    // pytest prints its failure report behind an "E" gutter ("E         - expected").
    const text = line.text.replace(/^E {2,}/, '')
    const ndiff = /^(?:[+-]{1,2}|\?)[ \t]/.test(text)
    if (!ndiff && !/^[+-](?![+-]{2} )/.test(text)) return false
    this.diffMarks ??= this.output.filter((l) => /^\+\+\+ \S|^@@ -\d|AssertionError|^\+?\? +\^/.test(l.text)).map((l) => ({ n: l.n, unified: /^\+\+\+ |^@@ -/.test(l.text) }))
    return this.diffMarks.some((m) => line.n - m.n <= 60 && (m.unified ? line.n > m.n : ndiff && line.n - m.n >= -10))
  }

  private diffMarks: { n: number; unified: boolean }[] | undefined

  /**
   * A line of the runner's own clone: printed in get_sources, or, in an excerpt without any
   * phase, naming the job-token clone URL or the builds directory the runner clones into.
   */
  inClone(line: TraceLine): boolean {
    const p = phaseName(line.section)
    if (p === 'get_sources') return true
    if (p !== '') return false
    const clone = /gitlab-ci-token(?::[^@\s]*)?@|^Cloning into '[^']*\/builds\/|^(?:Fetching changes|Cloning repository)/
    // git's error for a repository URL with no script command before it: the runner's clone.
    // (A public forge's URL is never the runner's clone: the project lives on GitLab.)
    const orphan = /unable to access '[^']+\.git\/?'|^fatal: repository '/.test(line.text) && this.commandAt(line.n) === undefined &&
      !/:\/\/(?:[^/@']*@)?(?:www\.)?(?:github\.com|bitbucket\.org|codeberg\.org)\//.test(line.text)
    return orphan || clone.test(line.text) || this.near(line.n, clone, 3) !== undefined
  }

  /**
   * A later `$ ` command of the same stage: the script went past this line (`|| true`, a fallback), so it
   * is not why the job failed. after_script's commands are another stage and do not count.
   */
  wentPast(line: TraceLine): boolean {
    const phase = phaseName(line.section)
    return this.ev.trace.lines.some((l) => l.n > line.n && l.text.startsWith('$ ') && phaseName(l.section) === phase)
  }

  /** True when the line came before the failing phase (an earlier, successful stage). */
  beforeFailure(line: TraceLine): boolean {
    const at = stageIndex(line.section)
    const failed = stageIndex(this.phase)
    return at >= 0 && failed >= 0 && at < failed
  }

  /**
   * Something else failed after line n: a line with a failure word that is not the runner's own
   * trailer or clean-up (nor one `ignore` matches). A notice followed by such a line is background,
   * not the answer.
   */
  failsAfter(n: number, ignore?: RegExp): boolean {
    return this.ev.trace.lines.some((l) => l.n > n && FAILURE_WORD.test(l.text) && !RUNNER_TRAILER.test(l.text) && !(ignore?.test(l.text) ?? false))
  }

  /** The GitLab host: from config.toml `url`/`clone_url`, the payload, or the clone URL in the log. */
  gitlabHost(): string | undefined {
    const runner = firstRunner(this.ev.config)
    for (const key of ['clone_url', 'url']) {
      const h = hostOf(configString(runner, key))
      if (h) return h
    }
    const repo = (this.ev.payload as { git_info?: { repo_url?: unknown } } | undefined)?.git_info?.repo_url
    if (typeof repo === 'string' && hostOf(repo)) return hostOf(repo)
    const clone = this.first(/unable to access '([^']+)'|Cloning into .* from (\S+)/, ['get_sources'])
    return hostOf(clone?.m[1] ?? clone?.m[2])
  }

  probes(match: Partial<Pick<ProbeResult, 'kind' | 'from' | 'ok'>> & { target?: string } = {}): ProbeResult[] {
    return (this.ev.probes ?? []).filter((p) =>
      (match.kind === undefined || p.kind === match.kind) &&
      (match.from === undefined || p.from === match.from) &&
      (match.ok === undefined || p.ok === match.ok) &&
      (match.target === undefined || p.target === match.target || p.target.includes(match.target)))
  }

  /** The address the runner host resolves `host` to (a DNS probe run on the runner host). */
  runnerIp(host: string): string | undefined {
    for (const p of this.probes({ kind: 'dns', from: 'runner', ok: true, target: host })) {
      const a = p.detail?.['addresses']
      if (Array.isArray(a) && typeof a[0] === 'string') return a[0]
    }
    return undefined
  }

  /** `[runners.docker]` / `[runners.kubernetes]` table of the first runner in config.toml. */
  runnerTable(name: string): Record<string, unknown> | undefined {
    const t = firstRunner(this.ev.config)?.[name]
    return isRecord(t) ? t : undefined
  }

  runner(): Record<string, unknown> | undefined {
    return firstRunner(this.ev.config)
  }

  /** The runner's banner (`Running with gitlab-runner 17.5.0 (c6eae8ea)`): groups 1-3 are major, minor, patch. */
  runnerBanner(): Hit | undefined {
    return this.first(/^Running with gitlab-(?:ci-multi-)?runner (\d+)\.(\d+)\.(\d+)\S* \(([0-9a-f]+)\)/)
  }

  /** The runner's version from its banner, e.g. `17.5.0`. */
  runnerVersion(): string | undefined {
    const m = this.runnerBanner()?.m
    return m ? `${m[1]}.${m[2]}.${m[3]}` : undefined
  }

  /**
   * A Windows runner: a docker-windows executor, cmd or Windows PowerShell as the shell, or the clone on a drive
   * letter (pwsh also runs on Linux shell runners, so it alone does not say Windows).
   */
  onWindows(): boolean {
    return /windows/.test(this.executor ?? '') || this.has(/^Using Shell \((?:cmd|powershell)\) executor|^(?:Reinitialized existing|Initialized empty) Git repository in [A-Za-z]:[\\/]/)
  }

  /**
   * The instance executor (the autoscaler's): the job runs on a VM it boots, as the connector's user in a plain
   * bash; the VM's software, users and devices come from its image, and no gitlab-runner service runs there.
   */
  onInstance(): boolean {
    return this.executor === 'instance'
  }

  /** The last hit of `re` that `keep` accepts, tested from the end (a repeated line costs one test, not one each). */
  lastWhere(re: RegExp, keep: (h: Hit) => boolean): Hit | undefined {
    // From the end, without collecting every hit first: a line repeated through a long log would
    // otherwise cost an array of all its matches for the one that is used.
    for (let i = this.output.length - 1; i >= 0; i--) {
      const line = this.output[i] as TraceLine
      const m = re.exec(line.text)
      if (m && keep({ line, m })) return { line, m }
    }
    return undefined
  }

  /** The line is in after_script, which runs after the job's result is decided and cannot fail it. */
  inAfterScript(line: TraceLine): boolean {
    return phaseName(line.section) === 'after_script'
  }

  /** A Docker-in-Docker service among the job's services. */
  hasDind(): boolean {
    return this.services().some((x) => /dind/.test(x))
  }

  /** Services the job started (`Starting service docker:24-dind ...`) or the CI YAML lists. */
  services(): string[] {
    const started = this.all(/^Starting service (\S+?)(?:\.\.\.|\s|$)/).map((h) => h.m[1] ?? '')
    // The YAML's dind services, read by the YAML reader (a script line naming a dind helper is no service).
    const yaml = (ciFacts(this.ev.ciYaml)?.services ?? []).map((x) => x.name).filter((x) => /dind/.test(x))
    return [...new Set([...started, ...yaml].filter((s) => s !== ''))]
  }

  /** The YAML's jobs this log can be (--ci): see jobsOfLog. */
  ciJobs(): CiJob[] {
    const banner = this.first(/Using (?:Docker|Kubernetes|docker-machine|Docker Machine) executor with image (\S+)|^Using docker image \S+ for (\S+?) (?:with digest|\.\.\.)/i)
    const image = firstGroup(banner)?.replace(/\s*\.\.\.$/, '')
    return jobsOfLog(ciFacts(this.ev.ciYaml), this.ev.trace.lines.filter((l) => l.text.startsWith('$ ')).map((l) => l.text.slice(2)), image)
  }

  /**
   * The image of this job (--ci) whose YAML overrides its entrypoint with a command (not `[""]`), when the
   * script never started (no `$ ` echo): the override then decided how the runner's script was run.
   */
  overriddenEntrypoint(): CiImage | undefined {
    if (this.ev.trace.lines.some((l) => l.text.startsWith('$ '))) return undefined
    const jobs = this.ciJobs()
    const overridden = (i: CiImage | undefined) => i?.entrypoint !== undefined && i.entrypoint.join('') !== ''
    return jobs.length > 0 && jobs.every((j) => overridden(j.image)) ? jobs[0]!.image : undefined
  }

  /** A service of this job matching `re`: started in its log, or in every YAML job the log can be. */
  jobService(re: RegExp): string | undefined {
    const started = this.startedServices().find((x) => re.test(x))
    if (started) return started
    const jobs = this.ciJobs()
    const found = jobs.map((j) => j.services.find((x) => re.test(x.name))?.name)
    return jobs.length > 0 && found.every((x) => x !== undefined) ? found[0] : undefined
  }

  /** The services the runner started for this job, as its log says (`Starting service docker:24-dind ...`). */
  startedServices(): string[] {
    return this.all(/^Starting service (\S+?)(?:\.\.\.|\s|$)/).map((h) => h.m[1] ?? '').filter((x) => x !== '')
  }

  /** The job image, from the executor's banner, else the one the CI YAML names (when it names one). */
  image(): string | undefined {
    const h = this.first(/Using (?:Docker|Kubernetes|docker-machine|Docker Machine) executor with image (\S+)/i)
    const images = h ? [] : ciFacts(this.ev.ciYaml)?.images ?? []
    return h?.m[1]?.replace(/\s*\.\.\.$/, '') ?? (new Set(images.map((i) => i.name)).size === 1 ? images[0]?.name : undefined)
  }
}

/** The first capture group that matched (patterns joined from several wordings capture in different groups). */
export function firstGroup(hit: Hit | undefined): string | undefined {
  return hit?.m.slice(1).find((g) => g !== undefined)
}

/** A loopback address named in a line (localhost, 127.0.0.1, ::1): a server the job started itself, not a remote one. */
export const LOOPBACK_NAMED = /\blocalhost\b|\b127\.0\.0\.1\b|\[::1\]|(?<![\w:])::1(?![\w:])/

export function phaseName(section: string | undefined): string {
  if (section === undefined) return ''
  return /^step_/.test(section) ? 'step_script' : section
}

/** Evidence from several hits, in log order, without duplicates. */
export function evidence(...lines: (TraceLine | Hit | undefined)[]): EvidenceLine[] {
  const seen = new Map<number, EvidenceLine>()
  for (const x of lines) {
    const l = x && 'm' in x ? x.line : x
    if (l) seen.set(l.n, { line: l.n, text: l.text })
  }
  return [...seen.values()].sort((a, b) => a.line - b.line)
}

export function diagnosis(category: string, title: string, cause: string, ev: EvidenceLine[], fixes: Fix[], confidence: number): Diagnosis {
  return { category, title, cause, evidence: ev, fixes, confidence }
}

/**
 * A curl or wget call of GitLab's REST API (also inside `$(…)` or after `;`/`&&`/`|`): its exit-22 line is the
 * API's refusal, not git's (job-token.ts and host.ts both ask, so they agree).
 */
export function restApiCall(command: string | undefined): boolean {
  const c = command ?? ''
  return /\/api\/v4\/|CI_API_V4_URL/.test(c) && /(?:^\$ |[;&|(]\s*|\$\()(?:\S+=\S+ )*(?:curl|wget)\b/.test(c)
}

export function hostOf(url: string | undefined): string | undefined {
  if (!url) return undefined
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^:/?#]+)/i.exec(url.trim())
  return m?.[1]?.toLowerCase()
}

export function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

function firstRunner(config: unknown): Record<string, unknown> | undefined {
  if (!isRecord(config)) return undefined
  const runners = config['runners']
  if (Array.isArray(runners) && isRecord(runners[0])) return runners[0]
  return undefined
}

function configString(t: Record<string, unknown> | undefined, key: string): string | undefined {
  const v = t?.[key]
  return typeof v === 'string' && v !== '' ? v : undefined
}

function executorFromTrace(lines: readonly TraceLine[]): string | undefined {
  for (const l of lines.slice(0, 80)) {
    const m = /^Preparing the "([^"]+)" executor/.exec(l.text) ?? /^Using (Kubernetes|Docker|Shell|Custom) (?:\([a-z]+\) )?executor/i.exec(l.text)
    if (m?.[1]) return m[1].toLowerCase()
  }
  return undefined
}

function familyOf(executor: string | undefined): Family | undefined {
  if (!executor) return undefined
  if (/^docker|docker$/.test(executor)) return 'docker'
  if (/kubernetes/.test(executor)) return 'kubernetes'
  if (/^shell$|^ssh$|parallels|virtualbox/.test(executor)) return 'shell'
  return 'other'
}
