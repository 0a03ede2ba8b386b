import type { ProbeResult } from '../diagnose/types.js'

export type FindingStatus = 'ok' | 'warn' | 'fail'

/** One thing `glrun doctor` looked at, what it found, and (when not ok) what to do about it. */
export interface Finding {
  /** What it belongs to, the heading it is printed under: `runner "name"`, or `this machine`. */
  scope: string
  /** Short name of the check: dns, tcp, tls, http, url, executor, docker, kubernetes, image, builds_dir, cache_dir, .glrun, git, sh, bash. */
  check: string
  status: FindingStatus
  /** One line: what was found. */
  what: string
  /** What to do about it, in words. */
  fix?: string
  /** Ready-to-paste config.toml lines, daemon.json or commands for the fix. */
  snippet?: string
  /** The active check behind the finding: its details are evidence (JSON output). */
  probe?: ProbeResult
}

/** What the checks need to know besides the runner: how long a network check may take. */
export interface CheckContext {
  timeoutMs: number
  /** The environment the runner would see (DOCKER_HOST, KUBECONFIG, KUBERNETES_SERVICE_HOST). */
  env?: NodeJS.ProcessEnv
}
