import { spawn } from 'node:child_process'

const bin = new URL('../../bin/glrun.js', import.meta.url).pathname

export interface GlrunResult {
  code: number | null
  out: string
  err: string
  /** The child's pid: glrun labels the Docker resources it makes with it. */
  pid: number
}

/**
 * bin/glrun.js in a child process, without blocking this one: the GitLab double answers from the
 * test's own event loop, so spawnSync would deadlock against it.
 */
export function glrunAsync(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<GlrunResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: '1', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, out, err, pid: child.pid ?? 0 })
    })
  })
}
