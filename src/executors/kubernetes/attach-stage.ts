import { randomBytes } from 'node:crypto'
import { PassThrough, Writable } from 'node:stream'
import { featureFlag } from '../../job/feature-flag.js'
import type { JobPayload } from '../../payload/types.js'
import { DETECT_SHELL } from '../detect-shell.js'
import type { TraceOutput } from '../types.js'

/**
 * gitlab-runner's attach strategy (its default: FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY
 * false): the build and helper containers run a shell that reads commands from their stdin, and
 * each stage is one command written to it over `pods/attach`. glrun writes the stage script in a
 * here-document of that command (gitlab-runner saves it first through an exec) and reads the
 * output on the same attach session (gitlab-runner tails a log file through another exec); the
 * exit status comes back as a line with a nonce, as gitlab-runner's `{"command_exit_code": N}`.
 * Needs `create` on pods/attach (and pods/exec, for files and for ending a stage).
 */
export type ExecutionStrategy = 'attach' | 'exec'

const FLAG = 'FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY'

/** [runners.feature_flags] wins when it sets the flag, else the job variable, as in gitlab-runner (populateFeatureFlags). */
export function executionStrategy(job: JobPayload, featureFlags: Record<string, boolean>): ExecutionStrategy {
  return featureFlag(FLAG, job, featureFlags) ? 'exec' : 'attach'
}

/**
 * The main process of build and helper in attach mode: a shell reading stdin. It runs as a child
 * of PID 1 (with the container's stdin made explicit: a background job would get /dev/null) so
 * that PID 1 can answer SIGTERM at once when the pod is deleted, as the exec strategy's
 * keep-alive does. Its own stderr (the "Killed" notice for a canceled stage) is dropped: the
 * stage's output is the stage's.
 */
export const ATTACH_MAIN = 'trap "exit 0" TERM INT; exec 3<&0; sh <&3 3<&- 2>/dev/null & wait $!'

/**
 * Ends the stage's processes and nothing else: not PID 1, not the shell reading stdin (PID 1's
 * first child: the lowest PID whose parent is 1; its stdin cannot tell it, ash swaps it for the
 * here-document while a stage runs), not this script. Builtins only: no process of its own.
 */
export const KILL_ATTACHED_STAGE = 'm=; for d in /proc/[0-9]*; do p=${d#/proc/}; read -r l < "$d/stat" 2>/dev/null || continue; set -- ${l##*") "}; [ "$2" = 1 ] && { [ -z "$m" ] || [ "$p" -lt "$m" ]; } && m=$p; done; ' +
  'for d in /proc/[0-9]*; do p=${d#/proc/}; [ "$p" = 1 ] || [ "$p" = $$ ] || [ "$p" = "$m" ] || kill -9 "$p" 2>/dev/null; done; exit 0'

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`

/**
 * The command line for one stage. DETECT_SHELL saves the script (the here-document) at `path`
 * and runs it with the image's best shell; its output goes to the session and, through tee, to
 * the log file, after a begin line of the stage's own (the file only); then the status line, to
 * both. A killed stage leaves no status file: 137. The here-document's end word, the begin line
 * and the status line carry a nonce the script cannot guess.
 */
export function stageCommand(path: string, script: string, nonce: string, log: string): string {
  const body = script.endsWith('\n') ? script : `${script}\n`
  const st = quote(`${path}.status`)
  // A stage canceled before the shell got to it does not start (see killStageCommand).
  const canceled = quote(cancelMark(path, nonce))
  return `printf '%s\\n' ${nonce}-begin >> ${quote(log)}; ([ -e ${canceled} ] && exit 137; sh -c ${quote(DETECT_SHELL)} ${quote(path)} <<'GLRUN_${nonce}'; echo $? > ${st}) 2>&1 | tee -a ${quote(log)}; ` +
    `printf '\\n%s %s\\n' ${nonce} "$(cat ${st} 2>/dev/null || echo 137)" | tee -a ${quote(log)}; rm -f ${st} ${canceled}\n${body}GLRUN_${nonce}\n`
}

const cancelMark = (path: string, nonce: string): string => `${path}.${nonce}.canceled`

/**
 * Ends stage `nonce`: marks it canceled first, so that a stage the reading shell has not started
 * yet never starts, then kills the processes of one that runs.
 */
export function killStageCommand(path: string, nonce: string): string {
  return `touch ${quote(cancelMark(path, nonce))} 2>/dev/null; ${KILL_ATTACHED_STAGE}`
}

/** Reads the log file from its start, as the session would have shown the stage (see StageOutput `after`). */
export function readLogCommand(log: string): string[] {
  return ['sh', '-c', `exec tail -c +1 -f ${quote(log)}`]
}

export function newNonce(): string {
  return `glrun_exit_${randomBytes(12).toString('hex')}`
}

/**
 * The attach session's stdout: passed to the trace until the status line `\n<nonce> <code>\n`,
 * which is taken out (with the newline put before it). Bytes that could start it are held back
 * until it is clear they do not.
 */
export class StageOutput extends Writable {
  private held: Buffer = Buffer.alloc(0)
  private readonly marker: Buffer
  code: number | undefined
  /** Bytes of the stage's output handed to the trace so far, and the last of them. */
  passed = 0
  lastByte: number | undefined
  private readonly out: TraceOutput
  private begin: Buffer | undefined
  private skip: number

  /**
   * `resume`: reading the log file instead of the session: everything up to the stage's begin
   * line is another stage's, and the first `skip` bytes after it were shown already.
   */
  constructor(nonce: string, out: TraceOutput, private readonly onStatus: (code: number) => void, resume?: { skip: number }) {
    super()
    this.marker = Buffer.from(`\n${nonce} `)
    this.begin = resume ? Buffer.from(`${nonce}-begin\n`) : undefined
    this.skip = resume?.skip ?? 0
    this.out = { write: (b: Buffer | string) => {
      const buf = typeof b === 'string' ? Buffer.from(b) : b
      if (buf.length === 0) return
      this.passed += buf.length
      this.lastByte = buf[buf.length - 1]
      out.write(buf)
    } }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    if (this.code !== undefined) return cb()
    let data: Buffer = this.held.length ? Buffer.concat([this.held, chunk]) : chunk
    if (this.begin) {
      const at = data.indexOf(this.begin)
      if (at < 0) {
        // Keep what could be the start of the begin line.
        this.held = Buffer.from(data.subarray(Math.max(0, data.length - this.begin.length + 1)))
        return cb()
      }
      data = data.subarray(at + this.begin.length)
      this.begin = undefined
    }
    if (this.skip > 0) {
      const n = Math.min(this.skip, data.length)
      this.skip -= n
      data = data.subarray(n)
    }
    // The status line is the marker, one to three digits and a newline: anything else is output.
    for (let from = 0; ;) {
      const at = data.indexOf(this.marker, from)
      if (at < 0) break
      const digits = data.subarray(at + this.marker.length, at + this.marker.length + 4)
      const nl = digits.indexOf(0x0a)
      const code = (nl < 0 ? digits : digits.subarray(0, nl)).toString('latin1')
      if (!/^\d{0,3}$/.test(code) || (nl === 0)) {
        from = at + 1
        continue
      }
      if (nl < 0) {
        if (digits.length === 4) {
          from = at + 1
          continue
        }
        // Not all here yet: hold it back.
        if (at > 0) this.out.write(data.subarray(0, at))
        this.held = Buffer.from(data.subarray(at))
        return cb()
      }
      if (at > 0) this.out.write(data.subarray(0, at))
      this.code = Number(code)
      this.held = Buffer.alloc(0)
      this.onStatus(this.code)
      return cb()
    }
    // Keep the longest tail that is a prefix of the marker.
    let keep = Math.min(this.marker.length - 1, data.length)
    while (keep > 0 && !this.marker.subarray(0, keep).equals(data.subarray(data.length - keep))) keep--
    if (data.length > keep) this.out.write(data.subarray(0, data.length - keep))
    this.held = Buffer.from(data.subarray(data.length - keep))
    cb()
  }

  /**
   * The session ended without a status line: what is held back (at most a newline and the start
   * of the nonce) stays held. A resumed read of the log skips the bytes shown (`passed`) and must
   * find the status line whole, so none of it may have been shown.
   */
  override _final(cb: () => void): void {
    cb()
  }
}

/** stdin for the attach session: the command, and kept open (closing it could end the shell). */
export function attachInput(command: string): PassThrough {
  const s = new PassThrough()
  s.write(command)
  return s
}
