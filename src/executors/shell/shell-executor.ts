import { spawn, spawnSync } from 'node:child_process'
import { closeSync, constants, mkdirSync, openSync, unlinkSync, writeFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { JobPayload } from '../../payload/types.js'
import type { Executor, ExecutorSession, ExitStatus, JobFiles, OpenContext, StageScript, TraceOutput } from '../types.js'
import { HostDirFiles } from '../../job/files/host-files.js'
import { forgetGroup, rememberGroup } from './orphans.js'

/** How long a stage gets between SIGTERM and SIGKILL when it is canceled or times out. */
const GRACE_MS = 2000

/** The host environment a job inherits: enough for tools to work, nothing of the user's secrets. */
const PASS_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TERM', 'TZ', 'USER', 'LOGNAME', 'SHELL', 'TMPDIR', 'DOCKER_HOST', 'SSH_AUTH_SOCK']

let shellPath: string | undefined

/**
 * Process groups of stages still running. If glrun itself exits (a second Ctrl-C, a crash), they
 * are killed on the way out, so a job never outlives the runner that started it.
 */
const liveGroups = new Set<number>()
let exitHookInstalled = false

function track(pid: number | undefined): void {
  if (pid === undefined) return
  liveGroups.add(pid)
  if (!exitHookInstalled) {
    exitHookInstalled = true
    process.on('exit', () => {
      for (const g of liveGroups) killGroup(g, 'SIGKILL')
    })
  }
}

/** bash when the machine has it (like gitlab-runner), else sh. */
export function detectShell(): string {
  if (shellPath) return shellPath
  const bash = spawnSync('bash', ['-c', 'exit 0'])
  shellPath = bash.status === 0 ? 'bash' : 'sh'
  return shellPath
}

/**
 * The shell executor: runs each stage's script with bash (or sh) on this machine, in a process
 * group of its own so a timeout or cancel ends every process the job started.
 */
export class ShellExecutor implements Executor {
  readonly name = 'shell'

  async probe(): Promise<{ ok: true } | { ok: false; reason: string; hint: string }> {
    const shell = detectShell()
    return spawnSync(shell, ['-c', 'exit 0']).status === 0
      ? { ok: true }
      : { ok: false, reason: 'neither bash nor sh can be started', hint: 'Install bash (apt-get install bash).' }
  }

  async open(job: JobPayload, ctx: OpenContext): Promise<ExecutorSession> {
    const dir = join(ctx.buildsDir, String(job.id), job.job_info.project_full_path ?? job.job_info.project_name)
    mkdirSync(dir, { recursive: true })
    return new ShellSession(dir, detectShell(), ctx.stateDir)
  }
}

class ShellSession implements ExecutorSession {
  readonly description: string
  readonly files: JobFiles

  constructor(readonly projectDir: string, private readonly shell: string, private readonly stateDir: string | undefined) {
    this.description = `Using Shell (${shell}) executor...`
    this.files = new HostDirFiles(projectDir)
  }

  run(script: StageScript, out: TraceOutput, signal: AbortSignal): Promise<ExitStatus> {
    const tmp = `${this.projectDir}.tmp`
    mkdirSync(tmp, { recursive: true })
    // The script holds the job's variables: it is read through an open descriptor and its name is
    // gone before the shell starts, so no copy of it outlives the job (not even after kill -9).
    const file = join(tmp, `script-${script.stage}-${process.pid}-${Date.now()}.sh`)
    writeFileSync(file, `exec 3<&-\n${script.script}`, { mode: 0o600, flag: 'wx' })
    const fd = openSync(file, constants.O_RDONLY)
    unlinkSync(file)
    const env: NodeJS.ProcessEnv = {}
    for (const k of PASS_ENV) if (process.env[k] !== undefined) env[k] = process.env[k]
    return new Promise((resolve) => {
      let child: ReturnType<typeof spawn>
      try {
        child = spawn(this.shell, ['/dev/fd/3'], { cwd: tmp, env, detached: true, stdio: ['ignore', 'pipe', 'pipe', fd] })
      } finally {
        closeSync(fd)
      }
      track(child.pid)
      if (this.stateDir && child.pid !== undefined) rememberGroup(this.stateDir, child.pid)
      let ending: ExitStatus | undefined
      const stop = (why: ExitStatus): void => {
        if (ending) return
        ending = why
        killGroup(child.pid, 'SIGTERM')
        setTimeout(() => killGroup(child.pid, 'SIGKILL'), GRACE_MS).unref()
      }
      const onAbort = (): void => stop({ kind: 'canceled' })
      if (signal.aborted) onAbort()
      signal.addEventListener('abort', onAbort, { once: true })
      const timer = script.timeoutMs ? setTimeout(() => stop({ kind: 'timed-out' }), script.timeoutMs) : undefined
      child.stdout!.on('data', (d: Buffer) => out.write(d))
      child.stderr!.on('data', (d: Buffer) => out.write(d))
      child.on('error', (e) => {
        out.write(`${e.message}\n`)
        ending ??= { kind: 'exited', code: 127 }
      })
      child.on('close', (code, sig) => {
        if (timer) clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        // Whatever the script left running in the background goes with it.
        killGroup(child.pid, 'SIGKILL')
        if (child.pid !== undefined) {
          liveGroups.delete(child.pid)
          if (this.stateDir) forgetGroup(this.stateDir, child.pid)
        }
        resolve(ending ?? (code !== null ? { kind: 'exited', code } : { kind: 'killed', signal: sig ?? 'SIGKILL' }))
      })
    })
  }

  async close(): Promise<void> {
    await rm(`${this.projectDir}.tmp`, { recursive: true, force: true })
  }
}

function killGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return
  try {
    process.kill(-pid, sig)
  } catch {
    // The group is already gone.
  }
}
