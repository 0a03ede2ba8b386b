import { phaseName } from './scan.js'
import type { Diagnosis, EvidenceLine, Fix, ParsedTrace } from './types.js'

/**
 * The answer for a failed job no known pattern explains: which kind of failure it is (the job's
 * own script, the runner's system, or the infrastructure around it), the lines that matter, and
 * what to check next. It is a low-confidence diagnosis on purpose (0.3): it ranks below every real
 * pattern but the weakest (a notice from a stage before the failure) and says so, and a failed job
 * never gets nothing.
 */

const ERRORISH = /\b(?:error|fatal|failed|failure|denied|not found|cannot|can't|couldn't|unable|exception|panic|killed|timed? ?out|refused|unreachable|invalid|no such|not accepted|could not)\b/i
const BOILERPLATE = /shell-profile-loading|for more information$|^Cleaning up|^Uploading artifacts for failed job|^Saving cache for failed job|^Will be retried in/
const SYSTEM = /Job failed \(system failure\)|^(?:ERROR|WARNING): Preparation failed|^ERROR: .*(?:executor|helper|runner)|executor_\w+\.go|prepare environment:/
const INFRA = /Could not resolve(?! all (?:dependencies|files|artifacts))|Name or service not known|no such host|Connection refused|Connection timed out|Connection reset|Network is unreachable|No route to host|i\/o timeout|TLS handshake|x509|certificate|\b5\d\d\b (?:Internal|Bad|Service|Gateway)|Bad Gateway|Service Unavailable|Gateway Time-?out/i
// A test runner's or build tool's own verdict: the script did its job and reported a failure.
const VERDICT = /AssertionError|assert(?:ion)? failed|^FAIL\b|\bFAILED\b|Tests?:[^\n]{0,80}\bfailed\b|\b\d+ failed|npm ERR!|^Traceback|BUILD FAILURE|Build failed with an exception|error TS\d+|^make(?:\[\d+\])?: \*\*\*|Could not locate Gemfile/
const RUNNER_PHASES = new Set(['resolve_secrets', 'prepare_executor', 'prepare_script'])

export type FailureKind = 'script' | 'runner system' | 'infrastructure'

/**
 * Any log that does not end in "Job succeeded": people run explain on failed jobs, and a pasted
 * excerpt often keeps neither the trailer nor a line with an error word (a job stuck in
 * "Preparing", the last lines before a timeout), yet it still deserves the kind of failure and a
 * next step.
 */
export function looksFailed(t: ParsedTrace): boolean {
  return !t.succeeded && t.lines.some((l) => l.text.trim() !== '')
}

export function failureKind(t: ParsedTrace, relevant: readonly EvidenceLine[]): FailureKind {
  const texts = relevant.map((e) => e.text).filter((x) => !x.startsWith('$ '))
  if (texts.some((x) => SYSTEM.test(x)) || RUNNER_PHASES.has(phaseName(t.failedPhase))) return 'runner system'
  if (texts.some((x) => VERDICT.test(x))) return 'script'
  if (texts.some((x) => INFRA.test(x))) return 'infrastructure'
  return 'script'
}

const NEXT: Record<FailureKind, { category: string; title: string; cause: string; fixes: Fix[] }> = {
  'script': {
    category: 'user_script_failure',
    title: 'A command of the job script failed',
    cause: 'The runner ran the script and one of its commands exited non-zero; nothing in the log points at the runner or the network, so the project, its tools or the image are the first suspects.',
    fixes: [
      { text: 'Read the last command and the first error line before the failure (below); run the same command locally in the same image.', snippet: 'docker run --rm -it -v "$PWD:/src" -w /src <job image> sh' },
      { text: 'Compare with the last green pipeline: what changed in the project, the image tag or the tools\' versions?' },
      { text: 'Get more output: the tool\'s verbose flag, or trace the shell.', snippet: 'variables:\n  CI_DEBUG_TRACE: "true"   # prints every command (and secrets: use with care)' },
    ],
  },
  'runner system': {
    category: 'runner_system_failure',
    title: 'The runner failed before or around the script',
    cause: 'The failure comes from the runner or its executor (preparing the environment, containers, the helper), not from the job\'s commands.',
    fixes: [
      { text: 'Read the runner\'s own log at that time on the runner host.', snippet: 'sudo journalctl -u gitlab-runner --since "1 hour ago"\ngitlab-runner --version' },
      { text: 'Check the executor\'s backend on that host (docker info / kubectl get events / docker-machine ls), then retry the job.' },
      { text: 'If it started after an upgrade of the runner or its images, search the gitlab-runner issues for the error line and pin the last version that worked.' },
    ],
  },
  'infrastructure': {
    category: 'infrastructure_failure',
    title: 'A network or server the job depends on failed',
    cause: 'The error lines are about reaching a server (name resolution, connection, TLS, or a server error), not about the job\'s own logic.',
    fixes: [
      { text: 'Run the same request from the runner host and from a job container to see which side fails (glrun explain --check does it).', snippet: 'glrun explain --check job.log' },
      { text: 'Check the server\'s status, then DNS, proxy and firewall settings for the job containers.' },
      { text: 'If it happens only sometimes, retry, and look at the network path (MTU, load balancers).', snippet: 'retry:\n  max: 2\n  when: [runner_system_failure, script_failure]' },
    ],
  },
}

/** The categories of the fallback answer (a kind of failure, not a known pattern). */
export const FALLBACK_CATEGORIES: ReadonlySet<string> = new Set(Object.values(NEXT).map((n) => n.category))

export function fallbackDiagnosis(t: ParsedTrace, relevant: EvidenceLine[]): Diagnosis {
  const kind = failureKind(t, relevant)
  const n = NEXT[kind]
  // The bare trailer ("Job failed: exit code 1") says nothing the phase and exit code do not.
  const errors = relevant.filter((e) => (ERRORISH.test(e.text) || VERDICT.test(e.text)) && !BOILERPLATE.test(e.text) && !e.text.startsWith('$ ') && !/^(?:ERROR: )?(?:Job|Build) failed(?: with)?:? exit (?:code|status) -?\d+\.?$/.test(e.text))
  return {
    category: n.category,
    title: `${n.title} (no known pattern matched)`,
    cause: `${n.cause}${t.failedPhase ? ` It failed in ${t.failedPhase}.` : ''}`,
    evidence: (errors.length ? errors : relevant).slice(-4),
    fixes: n.fixes,
    confidence: 0.3,
  }
}

/** Error-ish lines of the failed phase, the last command, and the trailer (at most 12). */
export function relevantLines(t: ParsedTrace): EvidenceLine[] {
  const trailer = [...t.lines].reverse().find((l) => /^(?:ERROR: )?(?:Job|Build) failed\b/.test(l.text))
  const end = trailer?.n ?? (t.lineCount ?? t.lines.length) + 1
  const before = t.lines.filter((l) => l.n < end && l.text.trim() !== '')
  const inPhase = before.filter((l) => t.failedPhase === undefined || l.section === t.failedPhase)
  const command = [...inPhase].reverse().find((l) => l.text.startsWith('$ '))
  const errors = inPhase.filter((l) => (ERRORISH.test(l.text) || VERDICT.test(l.text)) && !BOILERPLATE.test(l.text) && !l.text.startsWith('$ ')).slice(-8)
  const tail = errors.length ? [] : inPhase.slice(-3)
  const picked = new Map<number, EvidenceLine>()
  for (const l of [command, ...errors, ...tail, trailer]) if (l) picked.set(l.n, { line: l.n, text: l.text })
  return [...picked.values()].sort((a, b) => a.line - b.line).slice(-12)
}
