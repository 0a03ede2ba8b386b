import { type Hit, Scan, diagnosis, evidence } from '../scan.js'
import type { Diagnosis, Rule } from '../types.js'

/**
 * A tool that quotes a CI variable by its name ("merge: $CI_BUILD_REF - not something we can merge") was
 * handed the name, not the value: bash and sh expand $VAR (to nothing at worst), but Windows' cmd writes
 * variables %VAR% and leaves "$VAR" as it is — a script written for sh running under a cmd shell runner.
 */

const LITERAL = /(?<![\w$%'])\$\{?((?:CI|GITLAB)_[A-Z0-9_]+)\}?/
const ERRORISH = /not something we can merge|\b(?:error|fatal|invalid|unknown|not found|no such|cannot|could not|did not match)\b/i
// Renamed in GitLab 9.0 (the CI_BUILD_* and *_NAME variables): a script this old may run on an old Windows runner.
const RENAMED: Record<string, string> = { CI_BUILD_REF: 'CI_COMMIT_SHA', CI_BUILD_REF_NAME: 'CI_COMMIT_REF_NAME', CI_BUILD_ID: 'CI_JOB_ID', CI_BUILD_NAME: 'CI_JOB_NAME', CI_BUILD_STAGE: 'CI_JOB_STAGE', CI_BUILD_TAG: 'CI_COMMIT_TAG' }

function literal(s: Scan): Diagnosis[] {
  // Linux containers always run bash or sh; only a shell runner (or an unknown one) can be cmd, and the banner
  // names any other shell ("Using Shell (bash) executor").
  // (The instance executor runs bash on its VM and refuses cmd.)
  if (s.family === 'docker' || s.family === 'kubernetes' || s.onInstance() || s.has(/^Using Shell \((?!cmd\))\w+\) executor/)) return []
  // One pass, keeping the running command (a commandAt per line would be quadratic on a long log).
  let cmd = ''
  let hit: Hit | undefined
  for (const line of s.ev.trace.lines) {
    if (line.text.startsWith('$ ')) { cmd = line.text; continue }
    // BuildKit's own lines (#7 …) quote a Dockerfile, whose variables a container's sh expands, not the runner's shell.
    if (!line.text.includes('$') || /^#\d+ /.test(line.text) || !ERRORISH.test(line.text)) continue
    const m = LITERAL.exec(line.text)
    if (!m?.[1]) continue
    // The command must hand the variable over unquoted ('$VAR' in single quotes is the quoting, not the shell).
    if ((cmd.includes(`$${m[1]}`) || cmd.includes(`\${${m[1]}}`)) && !new RegExp(`'[^']*\\$\\{?${m[1]}`).test(cmd)) hit = { line, m }
  }
  if (!hit) return []
  const name = hit.m[1] ?? 'CI_VARIABLE'
  const renamed = RENAMED[name]
  return [diagnosis('shell_mismatch', `The shell did not expand $${name}`,
    `"${hit.line.text.trim().slice(0, 160)}": the command received the text "$${name}" instead of its value. sh and bash would have expanded it; this runner's shell is Windows' cmd, which writes variables %${name}% and leaves $${name} as it is.${renamed ? ` ($${name} is also a pre-9.0 name: today's is $${renamed}.)` : ''}`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: `Write the variable in the runner shell's syntax: %${name}% in cmd, $env:${name} in PowerShell.`, snippet: `script:\n  - git merge %${renamed ?? name}% --no-commit --no-ff   # cmd\n  # PowerShell: git merge $env:${renamed ?? name} --no-commit --no-ff` },
      { text: 'Or give the runner a shell that reads the script as written (config.toml).', snippet: '[[runners]]\n  shell = "pwsh"   # or "bash" with Git Bash on the host' },
    ], 0.7)]
}

export const unexpandedVariablesRule: Rule = {
  id: 'unexpanded-variables',
  categories: ['shell_mismatch'],
  match(ev) {
    return literal(Scan.of(ev))
  },
}
