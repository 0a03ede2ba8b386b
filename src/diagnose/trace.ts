/**
 * Turns a raw GitLab job log into clean, numbered lines with the runner stage each line belongs
 * to. Rules then match plain text and ask "in which phase did this happen?" without caring about
 * colours, carriage-return rewrites, FF_TIMESTAMPS prefixes or whether the log has section
 * markers at all (logs downloaded from the UI as "raw" keep them; copied ones often do not).
 */

export interface TraceLine {
  /** 1-based line number in the original log (what the user sees in their editor). */
  n: number
  text: string
  /** Runner stage (prepare_executor, get_sources, step_script...) the line was printed in. */
  section?: string
}

export interface TraceSection {
  name: string
  startLine: number
  endLine?: number
}

export interface ParsedTrace {
  lines: TraceLine[]
  sections: TraceSection[]
  failedPhase?: string
  exitCode?: number
  failed: boolean
  succeeded: boolean
}

// CSI sequences (colours, erase-line), OSC sequences (titles, hyperlinks) and lone ESC pairs.
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g
// FF_TIMESTAMPS: `2024-01-01T00:00:00.000000Z 00O ` (stream id, O/E, ' ' new line or '+' continuation).
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z [0-9a-f]{2}[OE][ +]?/
// A continuation entry can also land mid-line when the runner split a long line at its buffer.
const TIMESTAMP_MID = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z [0-9a-f]{2}[OE]\+/g
const MARKER = /^section_(start|end):(\d+):([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*$/

/** Stages that run after a failure (they are never the cause of it), in runner order. */
const AFTERMATH = new Set(['after_script', 'archive_cache_on_failure', 'upload_artifacts_on_failure', 'cleanup_file_variables'])

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

export function parseTrace(raw: string): ParsedTrace {
  const physical = raw.replace(/\r\n/g, '\n').split('\n')
  if (physical.length > 1 && physical[physical.length - 1] === '') physical.pop()
  const lines: TraceLine[] = []
  const sections: TraceSection[] = []
  const open: TraceSection[] = []
  let sawStageMarker = false

  physical.forEach((row, i) => {
    const n = i + 1
    let text = ''
    let section = currentStage(open)
    // `\r` rewinds the cursor: progress bars print many versions of one line, and the runner
    // writes `section_start:...\r` in front of the line it belongs to. Walk the pieces in order.
    for (const piece of row.replace(TIMESTAMP_MID, '').split('\r')) {
      const clean = stripAnsi(piece.replace(TIMESTAMP, '')).replace(TIMESTAMP, '')
      const marker = MARKER.exec(clean)
      if (marker) {
        const [, kind, , name = ''] = marker
        if (isStage(name)) sawStageMarker = true
        if (kind === 'start') {
          const s: TraceSection = { name, startLine: n }
          sections.push(s)
          open.push(s)
        } else {
          const at = open.map((s) => s.name).lastIndexOf(name)
          if (at >= 0) for (const s of open.splice(at)) s.endLine = n
        }
        section = currentStage(open)
        continue
      }
      // The last non-blank rewrite is what a terminal shows.
      if (clean.trim() !== '') {
        text = clean
        section = currentStage(open)
      }
    }
    lines.push({ n, text: text.replace(/\s+$/, ''), ...(section ? { section } : {}) })
  })
  for (const s of open) s.endLine = lines.length

  if (!sawStageMarker) inferSections(lines, sections)
  return { lines, sections, ...summarise(lines) }
}

/** The innermost open runner stage; user sections (script steps, collapsibles) nest inside one. */
function currentStage(open: TraceSection[]): string | undefined {
  for (let i = open.length - 1; i >= 0; i--) {
    const name = open[i]?.name
    if (name !== undefined && isStage(name)) return name
  }
  return open[open.length - 1]?.name
}

/** Logs without markers: stage titles first, then weaker hints, never moving backwards. */
function inferSections(lines: TraceLine[], sections: TraceSection[]): void {
  sections.length = 0
  let current: TraceSection | undefined
  const enter = (name: string, n: number): void => {
    if (current?.name === name) return
    if (current) current.endLine = n - 1
    current = { name, startLine: n }
    sections.push(current)
  }
  for (const line of lines) {
    const header = HEADERS.find(([re]) => re.test(line.text))
    if (header) {
      const m = header[0].exec(line.text) as RegExpExecArray
      enter(typeof header[1] === 'string' ? header[1] : header[1](m), line.n)
    } else {
      const hint = HINTS.find(([re]) => re.test(line.text))
      // A hint only moves forward: `$ ` echoed inside after_script must not reopen step_script.
      if (hint && stageIndex(hint[1]) > stageIndex(current?.name)) enter(hint[1], line.n)
    }
    if (current && !isTrailer(line.text)) line.section = current.name
  }
  if (current) current.endLine = lines.length
}

function isTrailer(text: string): boolean {
  return /^(?:ERROR: )?(?:Job|Build) (?:failed|succeeded)\b/.test(text)
}

// Runners before 10.0 said "Build failed" where newer ones say "Job failed".
const FAILED = /^(?:ERROR: )?(?:Job|Build) failed\b/
const EXIT = /(?:exit code|exit status) (-?\d+)/

function summarise(lines: TraceLine[]): Pick<ParsedTrace, 'failedPhase' | 'exitCode' | 'failed' | 'succeeded'> {
  let failedAt: TraceLine | undefined
  let succeeded = false
  for (const line of lines) {
    if (FAILED.test(line.text)) failedAt = line
    else if (/^Job succeeded\b/.test(line.text)) succeeded = true
  }
  const failed = failedAt !== undefined
  const code = failedAt ? EXIT.exec(failedAt.text)?.[1] : undefined
  const failedPhase = failed || !succeeded ? phaseOfFailure(lines, failedAt) : undefined
  return {
    failed,
    succeeded: succeeded && !failed,
    ...(code !== undefined ? { exitCode: Number(code) } : {}),
    ...(failedPhase ? { failedPhase } : {}),
  }
}

/**
 * The stage that broke: the last stage reached before the trailer, skipping the stages the
 * runner runs *because* something failed (after_script, on-failure cache/artifacts, cleanup).
 */
function phaseOfFailure(lines: TraceLine[], trailer: TraceLine | undefined): string | undefined {
  const upto = trailer ? trailer.n : lines.length + 1
  let main: string | undefined
  let any: string | undefined
  for (const line of lines) {
    if (line.n >= upto || !line.section) continue
    any = line.section
    if (!AFTERMATH.has(line.section)) main = line.section
  }
  if (main ?? any) return main ?? any
  // Nothing but a trailer: the runner names the step that failed in its error text.
  const t = trailer?.text ?? ''
  if (/prepare environment|Preparation failed|waiting for pod|adding cache volume/.test(t)) return 'prepare_executor'
  if (/get sources/.test(t)) return 'get_sources'
  return undefined
}
