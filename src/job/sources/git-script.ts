import { BOLD_GREEN as GREEN, RESET } from '../../trace/ansi.js'
import { ansiQuote as sq } from '../script/bash.js'
import type { SourceSettings } from './settings.js'


function notice(text: string): string {
  return `echo ${sq(`${GREEN}${text}${RESET}`)}`
}

export interface GitScriptInput {
  projectDir: string
  repoUrl: string
  sha: string
  ref: string
  refType: 'branch' | 'tag'
  settings: SourceSettings
  /** Set when CI_SERVER_TLS_CA_FILE exists: git trusts that CA for the remote's origin. */
  caFile?: boolean
  /** config pre_get_sources_script and the job's hooks:pre_get_sources_script, in that order. */
  pre?: readonly string[]
  /** The job's hooks:post_get_sources_script, then config post_get_sources_script. */
  post?: readonly string[]
}

/** `https://user:pw@host:1/x.git` → `https://host:1` (git's http.<url>.* key for that server). */
function originOf(url: string): string | undefined {
  const m = /^(https?:\/\/)(?:[^@/]*@)?([^/]+)/.exec(url)
  return m ? `${m[1]}${m[2]}` : undefined
}

/**
 * The get_sources script for GIT_STRATEGY clone/fetch, run by the executor where the job runs
 * (so a container clones with its own DNS, hosts and CA, as in GitLab). It prints the lines a
 * GitLab job log shows and fetches the pipeline commit itself, which works against a local
 * repository as well as a GitLab remote.
 */
export function gitSourcesScript(i: GitScriptInput): string {
  const s = i.settings
  const lines = ['set -eo pipefail', 'export GIT_TERMINAL_PROMPT=0 GCM_INTERACTIVE=Never']
  const dir = sq(i.projectDir)
  lines.push(...(i.pre ?? []))
  const origin = originOf(i.repoUrl)
  const ca = i.caFile && origin ? `-c ${sq(`http.${origin}.sslCAInfo`)}="$CI_SERVER_TLS_CA_FILE" ` : ''
  if (s.strategy === 'clone') lines.push(`rm -rf ${dir}`)
  lines.push(notice(s.depth > 0 ? `Fetching changes with git depth set to ${s.depth}...` : 'Fetching changes...'))
  lines.push(`mkdir -p ${dir}`, `cd ${dir}`)
  lines.push(`rm -f .git/index.lock .git/shallow.lock .git/HEAD.lock .git/config.lock`)
  lines.push(`if [ -d .git ]; then echo "Reinitialized existing Git repository in ${i.projectDir.replace(/"/g, '')}/.git/"; git remote set-url origin ${sq(i.repoUrl)};`)
  lines.push(`else git init -q -b glrun-none . && echo "Initialized empty Git repository in ${i.projectDir.replace(/"/g, '')}/.git/" && git remote add origin ${sq(i.repoUrl)} && ${notice('Created fresh repository.')}; fi`)
  const depth = s.depth > 0 ? ` --depth ${s.depth}` : ''
  lines.push(`git ${ca}-c http.userAgent=glrun fetch origin --no-recurse-submodules ${sq(i.sha)}${depth} ${s.fetchFlags.map(sq).join(' ')}`.trimEnd())
  if (s.checkout) {
    const short = i.sha.slice(0, 8)
    lines.push(notice(`Checking out ${short} as detached HEAD (ref is ${i.ref})...`))
    lines.push(`git -c submodule.recurse=false -c advice.detachedHead=false checkout -f -q ${sq(i.sha)}`)
    if (s.cleanFlags.length > 0) lines.push(`git clean ${s.cleanFlags.map(sq).join(' ')}`)
  } else {
    lines.push(notice('Skipping Git checkout'))
  }
  if (s.submodules === 'none') lines.push(notice('Skipping Git submodules setup'))
  else {
    const rec = s.submodules === 'recursive' ? ' --recursive' : ''
    lines.push(notice(`Updating/initializing submodules${rec ? ' recursively' : ''}...`))
    lines.push('git submodule init', `git submodule sync${rec}`, `git ${ca}submodule update --init${rec}`)
  }
  lines.push(...(i.post ?? []))
  return `${lines.join('\n')}\n`
}
