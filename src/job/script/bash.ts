import type { RunnerVariable } from '../variables/runner-expand.js'

import { BOLD_GREEN as GREEN, RESET } from '../../trace/ansi.js'

/** bash ANSI-C quoting (`$'...'`): any byte string, safe from further expansion. */
export function ansiQuote(s: string): string {
  let out = "$'"
  for (const ch of s) {
    const c = ch.codePointAt(0)!
    if (ch === '\\') out += '\\\\'
    else if (ch === "'") out += "\\'"
    else if (c === 0x0a) out += '\\n'
    else if (c === 0x0d) out += '\\r'
    else if (c === 0x09) out += '\\t'
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`
    else out += ch
  }
  return `${out}'`
}

export interface ScriptInput {
  /** CI_PROJECT_DIR as the script sees it. */
  projectDir: string
  /** Final variables (already runner-expanded). */
  variables: readonly RunnerVariable[]
  /** The commands, run in order, stopping at the first failure. */
  commands: readonly string[]
  /** Echo each command as GitLab does (`$ cmd` in green). */
  echo: boolean
  /** Lines to print in green before the commands (e.g. "Running after script..."). */
  notices?: readonly string[]
  /** Shell prologue lines run before the commands without echo (hooks). */
  prologue?: readonly string[]
  /** Lines run after the commands, without echo (config post_build_script). */
  epilogue?: readonly string[]
  /** false for get_sources, whose project directory may not exist yet. */
  cdProject?: boolean
}

/**
 * A stage script in the shape gitlab-runner's bash shell writes it: errexit and pipefail,
 * variables exported with `$'...'` quoting (so the shell does not expand them again), file
 * variables written to `<project>.tmp/<KEY>` and exported as that path, `cd` into the project,
 * then each command echoed as `$ command` and run as written — multi-line commands included.
 */
export function bashScript(i: ScriptInput): string {
  const tmp = `${i.projectDir}.tmp`
  const lines: string[] = ['set -eo pipefail', 'set +o noclobber', `mkdir -p ${ansiQuote(tmp)}`]
  for (const v of i.variables) {
    if (v.file) {
      const path = `${tmp}/${v.key}`
      lines.push(`printf '%s' ${ansiQuote(v.value)} > ${ansiQuote(path)}`)
      lines.push(`export ${v.key}=${ansiQuote(path)}`)
    } else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(v.key)) {
      lines.push(`export ${v.key}=${ansiQuote(v.value)}`)
    }
  }
  // Lines appended to $GITLAB_ENV by an earlier stage become variables of this one.
  lines.push(`export GITLAB_ENV=${ansiQuote(`${tmp}/gitlab_runner_env`)}`, 'touch "$GITLAB_ENV"', 'set -a; . "$GITLAB_ENV"; set +a')
  if (i.cdProject !== false) lines.push(`cd ${ansiQuote(i.projectDir)}`)
  for (const n of i.notices ?? []) lines.push(`echo ${ansiQuote(`${GREEN}${n}${RESET}`)}`)
  lines.push(...(i.prologue ?? []))
  for (const cmd of i.commands) {
    if (i.echo) {
      const shown = cmd.includes('\n') ? `${cmd.split('\n')[0]} # collapsed multi-line command` : cmd
      lines.push(`echo ${ansiQuote(`${GREEN}$ ${shown}${RESET}`)}`)
    }
    lines.push(cmd)
  }
  lines.push(...(i.epilogue ?? []))
  return `${lines.join('\n')}\n`
}
