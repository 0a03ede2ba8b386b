/**
 * What one line of a raw GitLab job log says once the terminal is taken out of it: the text a
 * user sees (colours, FF_TIMESTAMPS prefixes and overwritten `\r` rewrites gone), the section
 * markers it carries, and which runner stage a marker-less line announces. Shared by the
 * whole-string and the streaming trace readers, so both see the same lines.
 */

// CSI sequences (colours, erase-line), OSC sequences (titles, hyperlinks) and lone ESC pairs.
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g
// FF_TIMESTAMPS: `2024-01-01T00:00:00.000000Z 00O ` (stream id, O/E, ' ' new line or '+' continuation).
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z [0-9a-f]{2}[OE][ +]?/
// A continuation entry can also land mid-line when the runner split a long line at its buffer.
const TIMESTAMP_MID = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z [0-9a-f]{2}[OE]\+/g
// The escapes nearly every coloured line is made of (SGR colours, erase-line): a cheaper pattern.
const ANSI_COMMON = /\x1b\[[0-9;]*[A-Za-z]/g
const MARKER = /^section_(start|end):(\d+):([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*$/

/** Stages that run after a failure (they are never the cause of it), in runner order. */
export const AFTERMATH = new Set(['after_script', 'archive_cache_on_failure', 'upload_artifacts_on_failure', 'cleanup_file_variables'])

/** Human stage titles (what a log without section markers still shows) → stage names. */
const HEADERS: [RegExp, string | ((m: RegExpExecArray) => string)][] = [
  [/^Preparing the "[^"]+" executor/, 'prepare_executor'],
  [/^Preparing environment$/, 'prepare_script'],
  [/^Getting source from Git repository$/, 'get_sources'],
  [/^Restoring cache$/, 'restore_cache'],
  [/^Downloading artifacts$/, 'download_artifacts'],
  [/^Executing "(step_[a-z0-9_]+)" stage of the job script/, (m) => m[1] ?? 'step_script'],
  [/^Running after_script$/, 'after_script'],
  [/^Saving cache for successful job$/, 'archive_cache'],
  [/^Saving cache for failed job$/, 'archive_cache_on_failure'],
  [/^Uploading artifacts for successful job$/, 'upload_artifacts_on_success'],
  [/^Uploading artifacts for failed job$/, 'upload_artifacts_on_failure'],
  [/^Cleaning up (?:project directory and )?file based variables$/, 'cleanup_file_variables'],
]

/** Weaker hints for logs that lost even the stage titles (a few lines pasted from a UI). */
const HINTS: [RegExp, string][] = [
  [/^Using (?:Docker|Kubernetes|Shell|Custom|docker-machine|Docker Machine)\b.*executor|^Pulling docker image |^Using helper image|^Using Kubernetes namespace/, 'prepare_executor'],
  // The runner's own wording of the prepare stage: its retries and the services it waits for.
  [/^(?:ERROR|WARNING): Preparation failed\b|^Starting service \S|^Waiting for services to be up|^Waiting for pod \S/, 'prepare_executor'],
  [/^Running on .+\.\.\.$/, 'prepare_script'],
  [/^(?:Fetching changes|Cloning repository|Reinitialized existing Git repository|Initialized empty Git repository|Skipping Git submodules setup|Cloning into '[^']*\/builds\/|Updating\/initializing submodules)/, 'get_sources'],
  [/^(?:Checking cache for|Restoring cache)/, 'restore_cache'],
  [/^Downloading artifacts for /, 'download_artifacts'],
  [/^\$ /, 'step_script'],
  [/^Running after script/, 'after_script'],
  [/^Creating cache /, 'archive_cache'],
  [/^Uploading artifacts\.\.\.$|^Uploading artifacts as "|^Uploading artifacts to coordinator/, 'upload_artifacts_on_success'],
]
// The first characters every header and hint starts with: most build output skips the tables.
const STAGE_TITLE_START = new Set(['P', 'G', 'R', 'D', 'E', 'S', 'U', 'C', 'F', 'I', 'W', '$'])

const STAGE_ORDER = [
  'resolve_secrets', 'prepare_executor', 'prepare_script', 'get_sources', 'clear_worktree', 'restore_cache',
  'download_artifacts', 'step_script', 'after_script', 'archive_cache', 'archive_cache_on_failure',
  'upload_artifacts_on_success', 'upload_artifacts_on_failure', 'cleanup_file_variables',
]

export function isStage(name: string): boolean {
  return STAGE_ORDER.includes(name) || /^step_[a-z0-9_]+$/.test(name)
}

/** Position of a stage in the runner's fixed order (user steps share step_script's slot). */
export function stageIndex(name: string | undefined): number {
  if (name === undefined) return -1
  const i = STAGE_ORDER.indexOf(/^step_/.test(name) ? 'step_script' : name)
  return i
}

export function stripAnsi(s: string): string {
  return s.replace(ANSI, '')
}

/**
 * Removes the escapes nearly every coloured line is made of (SGR colours, erase-line), which is
 * what `cleanPiece` does first. None spans a newline, so a text of many lines loses the same
 * escapes as each of its lines would.
 */
export function stripCommonEscapes(s: string): string {
  return s.replace(ANSI_COMMON, '')
}

export interface Marker {
  kind: 'start' | 'end'
  name: string
}

/**
 * One `\r`-separated piece of a physical line, cleaned: FF_TIMESTAMPS prefixes and colours
 * removed. The cheap `includes` checks skip the regexes for the plain lines most of a log is.
 */
export function cleanPiece(piece: string): string {
  let s = piece
  if (s.includes('Z ')) s = s.replace(TIMESTAMP_MID, '').replace(TIMESTAMP, '')
  if (s.includes('\x1b')) {
    // When the common escapes were all there was, the result is the full pattern's: both match
    // the same span at each ESC, and nothing else. Anything left over takes the full pattern.
    const common = s.replace(ANSI_COMMON, '')
    s = common.includes('\x1b') ? stripAnsi(s) : common
  }
  if (s.includes('Z ')) s = s.replace(TIMESTAMP, '')
  return s
}

/** A `section_start:<time>:<name>[options]` / `section_end:...` marker, when the piece is one. */
export function markerOf(clean: string): Marker | undefined {
  if (!clean.startsWith('section_')) return undefined
  const m = MARKER.exec(clean)
  if (!m) return undefined
  return { kind: m[1] === 'start' ? 'start' : 'end', name: ownString(m[3] ?? '') }
}

/**
 * A copy of `s` that shares no memory with the string it was cut from. V8 represents a slice of
 * a long string as a view into it, so a section name or a line kept from a megabyte chunk of a
 * streamed log would otherwise keep the whole chunk alive.
 */
export function ownString(s: string): string {
  return ` ${s}`.slice(1)
}

/** The stage a stage title announces (`Getting source from Git repository` → get_sources). */
export function headerStage(text: string): string | undefined {
  if (!STAGE_TITLE_START.has(text.charAt(0))) return undefined
  for (const [re, stage] of HEADERS) {
    const m = re.exec(text)
    if (m) return typeof stage === 'string' ? stage : ownString(stage(m))
  }
  return undefined
}

/** The stage a weaker hint suggests (`$ make` → step_script); only ever moves a log forward. */
export function hintStage(text: string): string | undefined {
  if (!STAGE_TITLE_START.has(text.charAt(0))) return undefined
  return HINTS.find(([re]) => re.test(text))?.[1]
}

/** The runner's closing line, which belongs to no stage. */
/** Blank (only whitespace) without allocating a trimmed copy of every line. */
export function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (!(c === 32 || (c >= 9 && c <= 13) || c === 160 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff)) return false
  }
  return true
}

const TRAILER = /^(?:ERROR: )?(?:Job|Build) (?:failed|succeeded)\b/

export function isTrailer(text: string): boolean {
  // Asked of every line: the first letter rules out nearly all of them without the regex.
  const c = text.charCodeAt(0)
  return (c === 0x45 || c === 0x4a || c === 0x42) && TRAILER.test(text)
}

// Runners before 10.0 said "Build failed" where newer ones say "Job failed".
const FAILED = /^(?:ERROR: )?(?:Job|Build) failed\b/
export const EXIT = /(?:exit code|exit status) (-?\d+)/

export function isFailedTrailer(text: string): boolean {
  return (text.startsWith('J') || text.startsWith('E') || text.startsWith('B')) && FAILED.test(text)
}

export function isSucceededTrailer(text: string): boolean {
  return text.startsWith('Job succeeded') && /^Job succeeded\b/.test(text)
}

/** Nothing but a trailer: the runner names the step that failed in its error text. */
export function phaseFromTrailer(trailer: string | undefined): string | undefined {
  const t = trailer ?? ''
  if (/prepare environment|Preparation failed|waiting for pod|adding cache volume/.test(t)) return 'prepare_executor'
  if (/get sources/.test(t)) return 'get_sources'
  return undefined
}

/** Without trailing whitespace (what a row shows). */
export function trimEnd(s: string): string {
  const c = s.charCodeAt(s.length - 1)
  // Only a trailing whitespace character needs the regex (most lines end in a visible one).
  return c === 32 || c === 9 || c === 10 || c === 11 || c === 12 || c === 13 || c === 160 || c === 0x1680 || c > 0x1fff ? s.replace(/\s+$/, '') : s
}

/** The innermost open runner stage; user sections (script steps, collapsibles) nest inside one. */
export function currentStage(open: readonly { name: string }[]): string | undefined {
  for (let i = open.length - 1; i >= 0; i--) {
    const name = open[i]?.name
    if (name !== undefined && isStage(name)) return name
  }
  return open[open.length - 1]?.name
}
