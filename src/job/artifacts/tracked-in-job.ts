import type { ExecutorSession } from '../../executors/types.js'
import { bashScript } from '../script/bash.js'

/** More than any real index lists; a job printing without end is cut off, not kept. */
const MAX_LIST_BYTES = 64 * 1024 * 1024

/**
 * The files git tracks in the job's own clone, listed where the job runs (the helper container,
 * or the shell executor's directory), for `untracked:` in runner mode, where this machine has no
 * repository. It reads the index as the job left it, so a file the job `git add`ed counts as
 * tracked: the same answer as gitlab-runner's `git ls-files -o`. The listing never reaches the
 * trace. fsmonitor and hooks are switched off: the repository's config is the job's.
 * Throws, with git's words, when there is no repository (GIT_STRATEGY none) or no git.
 */
export async function trackedInJob(s: ExecutorSession, stage: string, signal: AbortSignal): Promise<Set<string>> {
  const parts: Buffer[] = []
  let size = 0
  const out = {
    write(chunk: Buffer | string): void {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
      if (size + b.length <= MAX_LIST_BYTES) parts.push(b)
      size += b.length
    },
  }
  const script = bashScript({ projectDir: s.projectDir, variables: [], commands: ['git -c core.fsmonitor=false -c core.hooksPath=/dev/null ls-files -z'], echo: false })
  const st = await s.run({ stage, script, timeoutMs: 5 * 60 * 1000 }, out, signal)
  const text = Buffer.concat(parts).toString('utf8')
  if (!(st.kind === 'exited' && st.code === 0)) {
    const said = text.replace(/\0/g, '\n').trim().split('\n').slice(-1)[0] || (st.kind === 'exited' ? `exit code ${st.code}` : st.kind)
    throw new Error(`git could not list the tracked files where the job runs: ${said}`)
  }
  if (size > MAX_LIST_BYTES) throw new Error(`the list of tracked files is over ${MAX_LIST_BYTES / 1048576} MiB`)
  return new Set(text.split('\0').filter(Boolean))
}
