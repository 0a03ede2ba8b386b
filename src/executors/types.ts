import type { ProbeResult } from '../diagnose/types.js'
import type { JobPayload } from '../payload/types.js'

/** Where an executor writes the job's output: the trace (masked downstream). */
export interface TraceOutput {
  write(chunk: Buffer | string): void
}

/** One generated script, run once for one GitLab build stage (get_sources, step_script, …). */
export interface StageScript {
  readonly stage: string
  readonly script: string
  /** Kill the stage after this long (the job's timeout, or after_script's own). */
  readonly timeoutMs?: number
}

export type ExitStatus =
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'killed'; readonly signal: string }
  | { readonly kind: 'canceled' }
  | { readonly kind: 'timed-out' }

export interface OpenContext {
  /** The directory under which this executor keeps job directories. */
  readonly buildsDir: string
  /**
   * Where the executor notes what must not outlive glrun (the shell executor's process groups),
   * so that the next run ends what a killed one left running. Optional: tests run without.
   */
  readonly stateDir?: string
  readonly out: TraceOutput
  readonly signal: AbortSignal
}

/**
 * An Executor runs the generated scripts of one job in an isolated environment.
 *
 * Lifecycle: probe() any time; open() once per job; run() once per build stage, in order, never
 * two at once within a session; close() exactly once, always — also after a failed open() was
 * partially done, a canceled run(), or a failed stage.
 * Isolation: sessions of different jobs may run at the same time and share nothing.
 * Failure: a non-zero exit is an ExitStatus, not a throw. Throw (a GlrunError) only when the
 * executor itself failed: no shell, an image that cannot be pulled, an engine that is down.
 * Cancellation: run() returns `canceled` when the signal aborts and `timed-out` when the stage's
 * timeout passes; either way no process of the stage is left behind.
 * Executors never write section markers: the job runner owns the trace's structure.
 */
export interface Executor {
  readonly name: string
  probe(signal: AbortSignal): Promise<{ ok: true } | { ok: false; reason: string; hint: string }>
  open(job: JobPayload, ctx: OpenContext): Promise<ExecutorSession>
  /**
   * Resolves `host` the way the job's environment does (its network, hosts entries and DNS), for
   * the troubleshooter. Absent when jobs share the runner host's resolver (shell): a runner-side
   * lookup already says it all. Never throws; an impossible check is a result that says why.
   */
  resolveFromJob?(host: string, job: JobPayload): Promise<ProbeResult>
}

/**
 * The only way files cross between glrun and a job's environment: tar streams made and unpacked
 * where the job runs, so a path is resolved there and never on this machine. Why: whatever a job
 * wrote (a symlink to /etc/shadow, a `.git/config` with core.fsmonitor) is untrusted data, and
 * glrun must not follow it on the host (artifacts, caches, dotenv reports, sources).
 *
 * Contract: names in every stream are relative to the project directory, `/`-separated, never
 * absolute and never with `..`. get() never follows a symbolic link: a link is an entry of type
 * symlink. put() refuses entries that are not files, directories or symlinks, and never writes
 * through a symlink it finds on its way. Streams are streamed: nothing is held whole in memory.
 */
export interface JobFiles {
  /**
   * A tar stream of `path` (relative to the project directory; "." for all of it), its entries
   * named relative to the project directory. Undefined when the path does not exist.
   */
  get(path: string): Promise<NodeJS.ReadableStream | undefined>
  /**
   * Entries the archives of get() left out since the last call, and why (a name that is not
   * UTF-8): for executors that re-pack what the job's environment made, so nothing is lost
   * without a word.
   */
  takeRefusals?(): string[]
  /**
   * Unpacks a tar stream into the project directory (made by glrun: checked entry by entry).
   * Resolves with the entries it refused and why (e.g. a write through a link), for the trace.
   */
  put(tar: NodeJS.ReadableStream): Promise<string[]>
  /**
   * Fills the empty project directory with a copy of a directory glrun prepared itself (the
   * working-tree snapshot, never a job's files), the fastest safe way the executor has.
   */
  putSnapshot(dir: string): Promise<void>
}

export interface ExecutorSession {
  /** The job's project directory as the scripts see it (CI_PROJECT_DIR). */
  readonly projectDir: string
  /** The job's files, moved as archives made inside the job's environment. */
  readonly files: JobFiles
  /** Words for the trace: "Using Shell (bash) executor...". */
  readonly description: string
  run(script: StageScript, out: TraceOutput, signal: AbortSignal): Promise<ExitStatus>
  close(): Promise<void>
}
