import { execFileSync } from 'node:child_process'
import { posix } from 'node:path'
import type { GlrunError } from '../../diagnostics/errors.js'
import type { PlannedJob } from '../plan/types.js'
import { Findings } from './findings.js'
import { type ScriptLine, scriptLines } from './job-facts.js'
import { programs } from './shell-commands.js'

/**
 * `GLRUN_SCRIPT_NOT_EXECUTABLE` (taxonomy `script_not_executable`): a job runs a repository
 * file directly (`./deploy.sh`, `scripts/test.sh`) that git stores without the executable bit
 * (mode 100644). GitLab checks out git's mode, not the one on the developer's disk, so the job
 * fails with "Permission denied" and exit 126 — typically after a commit from Windows or with
 * core.fileMode=false.
 *
 * Decided from the git index (`git ls-files -s`): files git does not track, symlinks and paths
 * with variables or globs are not judged. A job that runs `chmod` or `git update-index`, or changes
 * directory (`cd`, `pushd`), is left alone from there on: the path or the mode may then differ.
 */
export function scriptModePitfalls(jobs: readonly PlannedJob[], projectDir: string): GlrunError[] {
  const calls: { job: PlannedJob; line: ScriptLine; path: string; written: string }[] = []
  for (const job of jobs) {
    if (!job.source) continue
    // after_script runs in a shell of its own, starting again in the project directory.
    for (const sections of [['before_script', 'script'], ['after_script']] as const) {
      calls.push(...directCalls(scriptLines(job.source, sections)).map((c) => ({ job, ...c })))
    }
  }
  if (calls.length === 0) return []
  const modes = indexModes(projectDir, [...new Set(calls.map((c) => c.path))])
  const findings = new Findings()
  for (const c of calls) {
    if (modes.get(c.path) !== '100644') continue
    findings.add('GLRUN_SCRIPT_NOT_EXECUTABLE', c.job.name, c.line.where ?? c.job.span,
      (j) => `${j}: runs ${c.written}, which git stores without the executable bit (mode 100644); the job's checkout has that mode, so the call fails with "Permission denied" (exit 126)`,
      `Commit the executable bit: \`git update-index --chmod=+x ${c.path}\` and commit; or run it through a shell: \`sh ${c.written}\`.`)
  }
  return findings.warnings()
}

/** Repository files the lines run as programs, up to the first chmod/cd/pushd/git update-index. */
export function directCalls(lines: readonly ScriptLine[]): { line: ScriptLine; path: string; written: string }[] {
  const out: { line: ScriptLine; path: string; written: string }[] = []
  for (const line of lines) {
    for (const { program, args } of programs(line.text)) {
      if (program === 'chmod' || program === 'cd' || program === 'pushd' || (program === 'git' && args.includes('update-index'))) return out
      if (!program.includes('/') || program.startsWith('/') || program.startsWith('~') || /[$*?[\]{}]/.test(program)) continue
      const path = posix.normalize(program)
      if (path.startsWith('../')) continue
      out.push({ line, path, written: program })
    }
  }
  return out
}

/** git's index mode of each path (100644, 100755, 120000); paths git does not track are absent. */
function indexModes(projectDir: string, paths: readonly string[]): Map<string, string> {
  const modes = new Map<string, string>()
  let out: string
  try {
    out = execFileSync('git', ['ls-files', '-s', '-z', '--', ...paths.map((p) => `:(literal)${p}`)], {
      cwd: projectDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000,
    })
  } catch {
    // Not a git work tree (or no git): nothing can be said about modes.
    return modes
  }
  for (const entry of out.split('\0')) {
    const m = /^(\d{6}) [0-9a-f]+ \d+\t(.*)$/s.exec(entry)
    if (m) modes.set(m[2]!, m[1]!)
  }
  return modes
}
