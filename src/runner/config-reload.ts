import { statSync } from 'node:fs'
import { GlrunError, GlrunErrors } from '../diagnostics/errors.js'
import { type LoadedConfig, loadRunnerConfig } from '../runner-config/load.js'
import type { OperatorLog } from './job-loop.js'

/** gitlab-runner's ReloadConfigInterval: the file's modification time is looked at this often. */
export const RELOAD_CHECK_MS = 3000

/**
 * config.toml reloaded while `glrun runner` runs, as gitlab-runner's `run` does it: the file's
 * mtime checked every 3 s, and SIGHUP to reload at once. A file that does not load (TOML syntax,
 * a wrong type) is logged as `Failed to load config` and the running config stays; that same
 * broken file is not tried again until it changes.
 */
export class ConfigReloader {
  private seen: string
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly path: string, private readonly log: OperatorLog, private readonly apply: (loaded: LoadedConfig) => void, private readonly intervalMs = RELOAD_CHECK_MS) {
    this.seen = this.stamp() ?? ''
  }

  start(): this {
    this.timer = setInterval(() => this.check(), this.intervalMs)
    this.timer.unref()
    return this
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
  }

  /** The periodic check: reload only when the file changed since it was last read. */
  check(): void {
    const now = this.stamp()
    if (now === undefined || now === this.seen) return
    this.reload(now)
  }

  /** SIGHUP: read the file now, changed or not. */
  reload(stamp = this.stamp()): void {
    if (stamp !== undefined) this.seen = stamp
    let loaded: LoadedConfig
    try {
      loaded = loadRunnerConfig(this.path)
    } catch (e) {
      const errors = e instanceof GlrunErrors ? e.errors : e instanceof GlrunError ? [e] : [new GlrunError('GLRUN_CONFIG_READ', (e as Error).message)]
      this.log({
        level: 'error', msg: 'Failed to load config', config: this.path, kept: 'the configuration loaded before',
        errors: errors.map((x) => ({ code: x.code, message: x.message, ...(x.where ? { line: x.where.line, col: x.where.col } : {}), ...(x.hint ? { hint: x.hint } : {}) })),
      })
      return
    }
    for (const w of loaded.warnings) this.log({ level: 'warn', msg: w.message, code: w.code, config: this.path })
    this.apply(loaded)
  }

  /** mtime and size: a rewrite within the same clock tick still changes one of them in practice. */
  private stamp(): string | undefined {
    try {
      const s = statSync(this.path)
      return `${s.mtimeMs}:${s.size}:${s.ino}`
    } catch {
      return undefined
    }
  }
}
