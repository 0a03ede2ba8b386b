import { type Hit, Scan, diagnosis, evidence, phaseName, firstGroup } from '../scan.js'
import type { Diagnosis, Fix, Rule } from '../types.js'
import { userVariables } from './registry.js'
import { retryFix } from '../snippets.js'

/**
 * Problems of configuration rather than infrastructure: jobs no runner will take, jobs that
 * hit their timeout, pipelines GitLab rejects, and protected variables that are empty on
 * unprotected refs (the command then fails on an empty argument).
 */

const STUCK = /This job is stuck because|No matching runner available|doesn't have any (?:active )?runners online|no active runners (?:online )?with (?:the required|any of these) tags|don't have any active runners online or available with any of these tags assigned to them: (.+)|This job has not been picked by any runner|waiting to be picked by a runner|jobs? (?:is|are) (?:still )?pending/i
// GitLab's text for the job_execution_timeout reason (app/presenters/commit_status_presenter.rb) and the runner's.
// GitLab's text for stuck_or_timeout_failure: set by GitLab itself when a job stayed pending too long
// (no runner took it) or a running job's runner stopped sending updates (StuckBuilds services);
// a job past its own timeout gets job_execution_timeout ("The script exceeded…") instead.
const DROPPED = /There has been a timeout failure or the job got stuck/
const TIMEOUT = /execution took longer than (\S+) seconds|The script exceeded the maximum execution time set for the job|could not run to completion because the timeout was exceeded|(prepare|get sources|script) timeout: (?:exceeded timeout of (\S+)|context deadline exceeded)/
const YAML = /jobs:([\w .:/-]+?):(?:before_|after_)?script config should be|mapping values are not allowed|did not find expected key|unknown keys in|config contains unknown keys|This GitLab CI configuration is invalid|Invalid configuration format|yaml invalid|could not find expected ':'|config should be a hash|Found errors in your \.gitlab-ci\.yml|Please define at least one job|YAML should be a hash|stage parameter should be|undefined need: |'[^']+' job needs '[^']+' job,? but (?:'[^']+' (?:is not in any previous stage|does not exist in the pipeline)|it was not added to the pipeline|$)|^(?:but )?'[^']+' (?:is not in any previous stage|does not exist in the pipeline)$|chosen stage (?:\S+ )?does not exist; available stages are|Project `[^`]+` file `[^`]+` does not exist|syntax is incorrect|jobs config should contain at least one visible job|jobs:([\w .-]+) config should|jobs:([\w .-]+?):rules:\d+:if invalid expression syntax|invalid expression syntax|(?:Included|Local|Remote) file `[^`]+` (?:does not have valid YAML syntax|does not exist|is empty or does not exist|could not be fetched)|Project `[^`]+` not found or access denied!|Reference not found for `include`|Maximum of \d+ nested includes are allowed|jobs:([\w .-]+?):[\w:]+ [\w ]+ should be (?:a|an) \w+/
const EMPTY_ARG = /invalid reference format|flag needs an argument|requires (?:at least|exactly) \d+ arguments?|destination [^\s]*:$|invalid argument "[^"]*" for "[^"]+" flag|error: you must specify|argument [^\n]{0,120} must not be empty|Error: Cannot perform an interactive login|reading password: inappropriate ioctl for device/i

function stuck(s: Scan): Diagnosis[] {
  const hit = s.last(STUCK)
  if (!hit) return []
  const tags = hit.m[1]?.trim().replace(/\.$/, '')
  return [diagnosis('no_matching_runner', 'No runner picks up this job',
    `The job stays pending: no online runner accepts it${tags ? ` (required tags: ${tags})` : ''}. Either its tags: match no runner, untagged jobs are not allowed, the runner is paused/locked/protected-only, or instance/group runners are disabled for the project.`,
    evidence(hit), [
      { text: 'Make the job\'s tags match an online runner (or add the tags to a runner).', snippet: `job:\n  tags: [${tags ?? '<tag carried by your runner>'}]` },
      { text: 'Or let the runner run untagged jobs / enable instance runners for the project.', snippet: 'gitlab-runner register ... --run-untagged="true"' },
      { text: 'Check the runner is online: gitlab-runner verify; gitlab-runner restart.' },
    ], 0.85)]
}

function dropped(s: Scan): Diagnosis[] {
  const hit = s.last(DROPPED)
  if (!hit || s.has(TIMEOUT)) return []
  // A trace with the runner's lines means a runner had the job: it stopped reporting (died, lost its network).
  const ran = s.has(/^Running with gitlab-(?:ci-multi-)?runner|^Preparing the "|^\$ /)
  return [diagnosis('job_stuck_pending_timeout', ran ? 'GitLab dropped the job: its runner stopped reporting' : 'GitLab dropped the job after it waited too long for a runner',
    ran
      ? 'GitLab marks a running job as stuck when its runner sends no update for an hour (the runner process died or restarted, its host went away, or it lost the connection to GitLab), and drops it with this text. It is not the job\'s own timeout.'
      : 'GitLab drops a job that no runner picked up in time (pending for about a day, or an hour when no runner can take it) with this text. It is not the job\'s own timeout: the job never started, because every runner that may take it was busy, offline, or does not match its tags or protected-branch setting.',
    evidence(hit), ran ? [
      { text: 'Look at the runner that had the job around that time: did the process restart, the host reboot or lose its network?', snippet: 'sudo journalctl -u gitlab-runner --since "2 hours ago"' },
      retryFix(),
    ] : [
      { text: 'Give the project more runner capacity: more concurrent jobs per runner, or more runners with the job\'s tags.', snippet: 'concurrent = 4   # config.toml, global\n[[runners]]\n  limit = 4' },
      { text: 'Check that an online runner matches the job (tags, protected branches, "run untagged jobs") in Settings > CI/CD > Runners.' },
      retryFix(),
    ], 0.75), diagnosis('no_matching_runner', 'Or: no runner can take this job', 'If no runner is online for the job\'s tags, GitLab first shows the job as stuck and then drops it the same way.', evidence(hit), [{ text: 'Match the job\'s tags to an online runner, or let a runner run untagged jobs.', snippet: 'job:\n  tags: [<a tag an online runner has>]' }], 0.4)]
}

function timeout(s: Scan): Diagnosis[] {
  const hit = s.last(TIMEOUT)
  if (!hit) return []
  const limit = hit.m[1] ?? hit.m[3]
  const stage = hit.m[2]
  const silent = lastOutputGap(s, hit.line.n)
  return [diagnosis('job_timeout', `The job hit its ${stage ? `${stage} ` : ''}timeout${limit ? ` (${limit})` : ''}`,
    `The runner stopped the job after ${limit ?? (stage === 'script' ? 'the script timeout (RUNNER_SCRIPT_TIMEOUT)' : 'the configured time')}${stage ? ` in ${stage}` : ''}.${silent ? ' No output came for the last part of the job: something probably hung (waiting for input, a lock, a network call without timeout).' : ''}`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Raise the job timeout (bounded by the runner\'s maximum_timeout and the project timeout).', snippet: 'job:\n  timeout: 2h' },
      { text: 'Make it faster: cache dependencies, split or parallelise the work.', snippet: 'job:\n  parallel: 4' },
      { text: 'Get diagnostics before the hard kill: a script timeout lets after_script run.', snippet: 'variables:\n  RUNNER_SCRIPT_TIMEOUT: 50m' },
      { text: 'If a command hangs, give it its own timeout (e.g. timeout 10m <cmd>) or non-interactive flags.' },
    ], 0.9)]
}

// An interrupt from the keyboard (Python's KeyboardInterrupt, pytest's banner for it, pip's catch of it,
// a shell's ^C echo) in a CI job: there is no keyboard, so the runner sent it while stopping the job —
// its timeout first, a cancel second — unless the script's own timeout wrapper sent SIGINT.
const KEYBOARD = /^KeyboardInterrupt$|^!{3,} KeyboardInterrupt !{3,}$|^ERROR: Operation cancell?ed by user$|^\^C(?:\S|$)/
// The runner's own words for a cancel or a system failure (not a tool's "cancelled").
const CANCEL_WORDS = /^WARNING: script canceled externally|Job failed: canceled\b|^ERROR: Job failed: (?:execution|job) (?:was )?canceled|Job failed \(system failure\)/
const OWN_TIMEOUT = /^\$ (?:.*[\s;&|(])?timeout\s+(?:-\S+\s+)*(?:-s\s*|--signal[= ])(?:SIG)?(?:INT|2)\b/

function keyboardInterrupt(s: Scan): Diagnosis[] {
  const hit = s.last(KEYBOARD)
  if (!hit || s.has(TIMEOUT) || s.has(CANCEL_WORDS) || s.output.filter((l) => l.n > hit.line.n).length > 25) return []
  const ev = evidence(s.commandAt(hit.line.n), hit)
  const own = s.commandAt(hit.line.n)
  if (own && OWN_TIMEOUT.test(own.text)) {
    return [diagnosis('job_timeout', 'The script\'s own timeout interrupted a command', `The command ran under \`timeout\` with SIGINT ("${own.text.slice(2, 80)}"), and its limit ran out: the interrupt came from the script, not the runner. The command ran longer than its limit — slow, or hung.`,
      ev, [
        { text: 'Find where it spent the time (its last output before the interrupt); if it hangs, fix the wait; if it is only slow, raise the limit.' },
      ], 0.55)]
  }
  return [diagnosis('job_timeout', 'The job was interrupted while it ran: most likely its timeout',
    'The script was stopped by an interrupt ("' + hit.line.text.trim().slice(0, 40) + '"), and a CI job has no keyboard: the runner sent it while stopping the job. The usual reason is the job\'s timeout (the step before it ran long or hung); a cancel from the UI or a newer pipeline gives the same lines without the job page\'s "timeout".',
    ev, [
      { text: 'Check the job page: "timeout" or "canceled", and how long the command before the interrupt ran.' },
      { text: 'If a command hangs, give it its own timeout so the job fails with its output rather than being cut.', snippet: 'timeout 20m ctest --output-on-failure' },
      { text: 'If it is only slow, raise the job timeout.', snippet: 'job:\n  timeout: 2h' },
    ], 0.5), diagnosis('job_canceled', 'Or: the job was canceled', 'A person, the API or a newer pipeline (interruptible jobs) canceled the job and the runner interrupted the script.',
    ev, [{ text: 'Check who canceled it in the job and pipeline pages.' }], 0.35)]
}

/** The script printed nothing in the few lines before the timeout (other than runner lines). */
function lastOutputGap(s: Scan, at: number): boolean {
  const before = s.output.filter((l) => l.n < at).slice(-2)
  return before.length > 0 && before.every((l) => phaseName(l.section) === 'step_script' && /sleep|Terminated|^WARNING/.test(l.text))
}

function yaml(s: Scan): Diagnosis[] {
  // Only GitLab's pipeline banner: the same parser words printed by a script (yamllint, helm) are not it.
  const hit = s.all(YAML).filter((h) => !['step_script', 'after_script'].includes(phaseName(h.line.section))).pop()
  if (!hit) return []
  const job = firstGroup(hit)?.trim()
  const offending = (s.ev.ciYaml ?? '').split('\n').map((t, i) => ({ t, i: i + 1 }))
    .find(({ t }) => /^\s*-\s+[^'"|>\s][^#]*:\s/.test(t) || /^\s*-\s+[*&{[]/.test(t))
  return [diagnosis('yaml_config_error', `GitLab rejected the pipeline configuration${job ? ` (job ${job})` : ''}`,
    /mapping values|expected key|expected ':'|config should be|Invalid configuration format/.test(hit.line.text)
      ? `The .gitlab-ci.yml is not valid: ${hit.line.text.trim()}. A script line containing ": " (or starting with *, &, {, [) is read as YAML structure, not as a command${offending ? `: line ${offending.i} \`${offending.t.trim()}\`` : ''}.`
      : `GitLab rejected the pipeline before any job ran: ${hit.line.text.trim()}. The file (or a generated child pipeline, or an include) is structurally valid YAML but breaks GitLab's rules: every job's stage must be listed in stages:, needs: must name existing jobs, and there must be at least one visible job.`,
    evidence(hit), [
      { text: 'Quote the whole command, or use a block scalar.', snippet: `script:\n  - 'curl -H "Content-Type: application/json" https://example.com'\n  - |\n    echo "key: value"` },
      { text: 'Make script/before_script/after_script arrays of strings.', snippet: 'script:\n  - make build' },
      { text: 'Validate before pushing: CI Lint / pipeline editor, or glrun lint.' },
    ], 0.85)]
}

// An image reference whose registry or path part is empty: `"/group/image:tag"`, `"//image"`, `":tag"`.
const EMPTY_PART = /(?:push permission for|reference|destination|tag|image) "(\/[\w.-][^"]*|[\w.-]*\/\/[^"]*|:[\w.-]+)"/i

function emptyReference(s: Scan): Diagnosis[] {
  const hit = s.last(EMPTY_PART)
  if (!hit) return []
  const ref = hit.m[1] ?? ''
  return [diagnosis('protected_variable_unavailable', `The image reference "${ref}" has an empty part`,
    `The tool was given "${ref}": the variable meant to supply the registry host or image path expanded to nothing. Protected variables are only passed to pipelines on protected branches and tags (also environment-scoped variables outside their environment, and fork MRs).`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Find the variable in the command that builds the reference; protect the branch that needs it, or unprotect/re-scope the variable (Settings → CI/CD → Variables).' },
      { text: 'Fail fast with a clear message when it is missing.', snippet: `script:
  - ': "\${REGISTRY:?REGISTRY is not set (protected variable on an unprotected ref?)}"'` },
    ], 0.7)]
}

// The shell's own words for an empty `${VAR:?}` (bash "parameter null or not set", dash/ash "parameter not set
// or null"), and a script that guards a variable itself (`[ -z "$VAR" ] && … exit 1`) and then stops there.
const PARAM_EMPTY = /\b([A-Za-z_]\w*): parameter (?:null or not set|not set or null|not set)\b/
const GUARD = /^\$ (?:if )?(?:\[\[?|test)\s+-z\s+"?\$\{?([A-Za-z_]\w*)\}?"?\s*\]?\]?.*\bexit\b/

function emptyGuard(s: Scan): Diagnosis[] {
  const commands = s.ev.trace.lines.filter((l) => l.text.startsWith('$ '))
  const last = commands[commands.length - 1]
  const guard = last ? GUARD.exec(last.text) : null
  const after = last ? s.output.filter((l) => l.n > last.n && !/^(?:ERROR: Job failed|Cleaning up|Uploading artifacts|section_|\d\d:\d\d$)/.test(l.text)) : []
  const param = s.all(PARAM_EMPTY, ['step_script', 'after_script', '']).pop()
  const name = guard && after.length <= 3 ? guard[1] : param?.m[1]
  if (!name || !userVariables(`$${name}`, s.ev.ciYaml).length) return []
  const cmd = guard && after.length <= 3 ? last : param ? s.commandAt(param.line.n) : undefined
  return [diagnosis('protected_variable_unavailable', `$${name} is empty in this job`,
    `The job stopped because $${name} was empty${guard ? ' (the script checks it and exits)' : ` ("${param?.line.text.trim().slice(0, 120)}")`}: it is not defined for this job. Protected variables are only passed to pipelines on protected branches/tags (also environment-scoped variables outside their environment, and fork MRs).`,
    evidence(cmd, param), [
      { text: `Protect the branch/tag that needs $${name}, or unprotect/re-scope the variable in Settings → CI/CD → Variables.` },
      { text: 'Or run the job only where the variable exists.', snippet: 'rules:\n  - if: $CI_COMMIT_REF_PROTECTED == "true"' },
    ], 0.7)]
}

function loginPrompt(hit: Hit): Diagnosis {
  return diagnosis('protected_variable_unavailable', 'The registry login got no password and tried to prompt for one',
    `"${hit.line.text.trim().slice(0, 140)}": the login command was given an empty password (or none), so it asked for one on a terminal the job does not have. The variable meant to hold it is empty in this job: protected variables are only passed to pipelines on protected branches and tags (also environment-scoped variables outside their environment, and fork MRs).`,
    evidence(hit), [
      { text: 'Check the variable that holds the password in Settings → CI/CD → Variables: protect the branch that needs it, or unprotect or re-scope the variable.' },
      { text: 'Pass the password on stdin, and fail fast when it is empty.', snippet: 'script:\n  - \': "${REGISTRY_PASSWORD:?empty: protected variable on an unprotected ref?}"\'\n  - echo "$REGISTRY_PASSWORD" | docker login -u "$REGISTRY_USER" --password-stdin "$REGISTRY"' },
    ], 0.6)
}

/**
 * The variables of one word of the command that are empty in the value a tool quoted: the word
 * `$REGISTRY_IMAGE:$RELEASE_TAG` read against "registry.example.com/g/p:" says $RELEASE_TAG only.
 * Undefined when no word of the command matches the value (the tool quoted something else).
 */
function emptyIn(command: string, quoted: string, named: readonly string[]): string[] | undefined {
  for (const word of command.split(/\s+/)) {
    const parts = word.replace(/^["']|["']$/g, '').split(/(\$\{?[A-Za-z_]\w*\}?)/)
    const vars = parts.filter((_, i) => i % 2 === 1).map((v) => v.replace(/[${}]/g, ''))
    if (!vars.some((v) => named.includes(v))) continue
    const re = new RegExp(`^${parts.map((p, i) => i % 2 === 1 ? '(.*?)' : p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('')}$`)
    const m = re.exec(quoted)
    if (!m) continue
    const empty = vars.filter((v, i) => m[i + 1] === '' && named.includes(v))
    return empty.length ? empty : undefined
  }
  return undefined
}

function protectedVar(s: Scan): Diagnosis[] {
  // A pasted excerpt (no phase) counts only for a login that prompted: other wordings need the command's variables.
  const hit = s.all(EMPTY_ARG, ['step_script', 'after_script', '']).filter((h) => phaseName(h.line.section) !== '' || /interactive login|reading password/.test(h.line.text)).pop()
  if (!hit) {
    const ref = emptyReference(s)
    return ref.length ? ref : emptyGuard(s)
  }
  const cmd = s.commandAt(hit.line.n)
  const named = userVariables(cmd?.text ?? '', s.ev.ciYaml)
  // When the tool quotes the argument it got, only the variables that expanded to nothing in it are empty.
  const quoted = /"([^"]*)"/.exec(hit.line.text)?.[1]
  const vars = (quoted !== undefined && cmd ? emptyIn(cmd.text, quoted, named) : undefined) ?? named
  // A login that fell back to prompting for a password, with no command line to name the variable.
  if (!vars.length && !cmd && /interactive login|reading password/.test(hit.line.text)) return [loginPrompt(hit)]
  if (!vars.length) return []
  const ref = s.first(/Checking out [0-9a-f]+ as (?:detached HEAD \(ref is ([^)]+)\)|([^.\s]+)\.\.\.)/)
  const refName = ref?.m[1] ?? ref?.m[2]
  const unprotected = refName !== undefined && !/^(main|master|release.*|v?\d+\.\d+.*|production|stable)$/.test(refName)
  const payloadSays = JSON.stringify(s.ev.payload ?? '').includes('"CI_COMMIT_REF_PROTECTED","value":"false"')
  const names = vars.map((v) => `$${v}`).join(', ')
  return [diagnosis('protected_variable_unavailable', `${names} ${vars.length > 1 ? 'are' : 'is'} empty in this job`,
    `The command \`${cmd?.text.slice(2) ?? ''}\` failed on an empty argument: ${names} ${vars.length > 1 ? 'are' : 'is'} not defined for this job. Protected variables are only passed to pipelines on protected branches/tags${refName ? `, and this job ran on ${refName}` : ''} (also environment-scoped variables outside their environment, and fork MRs).`,
    evidence(cmd, hit), [
      { text: `Protect the branch/tag that needs ${names}, or unprotect/re-scope the variable in Settings → CI/CD → Variables.` },
      { text: 'Fail fast with a clear message when it is missing.', snippet: `script:\n${vars.map((v) => `  - ': "\${${v}:?${v} is not set (protected variable on an unprotected ref?)}"'`).join('\n')}` },
      { text: 'Or run the job only where the variable exists.', snippet: 'rules:\n  - if: $CI_COMMIT_REF_PROTECTED == "true"' },
    ] satisfies Fix[], Math.min(0.85, 0.6 + (unprotected ? 0.1 : 0) + (payloadSays ? 0.15 : 0)))]
}

export const configRule: Rule = {
  id: 'config',
  categories: ['no_matching_runner', 'job_timeout', 'yaml_config_error', 'protected_variable_unavailable', 'job_stuck_pending_timeout', 'job_canceled'],
  match(ev) {
    const s = Scan.of(ev)
    return [...stuck(s), ...timeout(s), ...keyboardInterrupt(s), ...dropped(s), ...yaml(s), ...protectedVar(s)]
  },
}
