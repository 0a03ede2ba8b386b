import { spawnSync } from 'node:child_process'

const bin = new URL('../../bin/glrun.js', import.meta.url).pathname

export interface GlrunResult {
  code: number | null
  out: string
  err: string
  ms: number
}

/**
 * Runs the real binary on a hostile repository. Under `ulimit -v` and a timeout: a regression
 * (reading /dev/zero, a FIFO, an exponential expansion) fails the test instead of taking the
 * shared machine's memory or hanging the suite.
 */
export function glrun(args: readonly string[], opts: { timeoutMs?: number; env?: Record<string, string> } = {}): GlrunResult {
  const t = Date.now()
  const r = spawnSync('sh', ['-c', 'ulimit -v 4000000; exec "$0" "$@"', process.execPath, bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', GLRUN_NO_PARSE_CACHE: '1', ...opts.env },
    timeout: opts.timeoutMs ?? 20_000,
    maxBuffer: 64 * 1024 * 1024,
  })
  return { code: r.status, out: r.stdout ?? '', err: r.stderr ?? '', ms: Date.now() - t }
}
