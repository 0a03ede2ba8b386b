import { type Hit, Scan, diagnosis, evidence, phaseName, firstGroup } from '../scan.js'
import { ciFacts, floatingTag } from '../ci-facts.js'
import type { Diagnosis, Fix, Rule } from '../types.js'

/**
 * What the job image contains: a shell, the tools the script calls, an ENTRYPOINT that does not
 * swallow the runner's script, executable scripts. Shell wordings differ per shell: bash
 * `bash: line 3: foo: command not found`, dash `sh: 1: foo: not found`, busybox
 * `/bin/sh: eval: line 5: foo: not found`, PowerShell `The term 'foo' is not recognized`.
 */

// Builtins of bash that sh/dash/ash lack: "not found" for them means the wrong shell, not a missing tool.
const BASHISMS = new Set(['[[', 'source', 'declare', 'shopt', 'pushd', 'popd', 'function', 'typeset', 'mapfile', 'readarray', 'complete'])
// /busybox/sh is the shell of kaniko's debug image.
const SHELL_PREFIX = String.raw`(?:(?:/usr)?/bin/|/busybox/)?(?:ba|z|da|a)?sh: (?:line \d+: |\d+: |eval: line \d+: |eval: )?`
const NOT_FOUND = new RegExp([
  String.raw`^${SHELL_PREFIX}([^\s:]+): (?:command )?not found$`,
  String.raw`^([^\s:]+):? command not found$`,
  // A script file named by the shell: "/tmp/executor123: line 15: npm: command not found".
  String.raw`^\S+: line \d+: ([^\s:]+): (?:command )?not found$`,
  String.raw`^zsh:\d+: command not found: (\S+)`,
  String.raw`^/usr/bin/env: ['‘]?([^'’:]+)['’]?: No such file or directory`,
  String.raw`env: can't execute '([^']+)': No such file or directory`,
  String.raw`The term '([^']+)' is not recognized as (?:the|a) name of a cmdlet`,
  String.raw`'([^']+)' is not recognized as an internal or external command`,
  // GNU make executing a recipe line itself: "make: gcc: Command not found" (≤ 4.2), "…: No such file or directory" (4.3+).
  String.raw`^g?make(?:\[\d+\])?: ([^\s:/]+): (?:Command not found|No such file or directory)$`,
  // Node's child_process ("spawn git ENOENT") and Java's ProcessBuilder ("Cannot run program \"git\": error=2, …").
  String.raw`\bspawn(?:Sync)? ([\w.+-]+) ENOENT\b`,
  String.raw`Cannot run program "([^"/]+)"(?: \(in directory "[^"]*"\))?: error=2, No such file or directory`,
  // Go's wording when the runner or a tool execs a program the image lacks (sh/bash: image_missing_shell).
  String.raw`exec: \\?"(?!(?:/bin/)?(?:ba)?sh\\?"|pwsh|powershell|docker-credential-)([\w.-]+)\\?": executable file not found in \$PATH`,
  // git running a helper the image lacks: git-lfs's hooks and filter (under dash), and ssh for an ssh remote.
  String.raw`but '([\w.-]+)' was not found on your path`,
  String.raw`BuildKit is enabled but the (buildx) component is missing or broken`,
  // Tools that look a helper program up themselves: "no 'file' command is found in the PATH", "'x' not found in PATH".
  String.raw`no '([\w.+-]+)' command is found in the PATH`,
  String.raw`'([\w.+-]+)' (?:command )?(?:was )?not found in (?:the )?\$?PATH\b`,
  String.raw`filter-process: \d+: ([\w.-]+): not found$`,
  String.raw`^error: cannot run ([\w.-]+): No such file or directory$`,
  // distutils/setuptools building a C extension without a compiler; apt without its https transport (apt < 1.5).
  String.raw`unable to execute '([\w.+-]+)': No such file or directory`,
  // gettext's autopoint ("autopoint: *** git program not found") and perl's system()/exec.
  String.raw`(?:^|\*\*\* )([\w.+-]+) program not found$`,
  String.raw`^Can't exec "([\w.+-]+)": No such file or directory`,
  // Meson's find_program() for a required program ("ERROR: Program 'flex' not found or not executable").
  String.raw`ERROR: Program '([\w.+-]+)' not found`,
  // Python's subprocess and Ruby's spawn/backticks name the bare program (a path or a file name is a missing file).
  String.raw`^FileNotFoundError: \[Errno 2\] No such file or directory: '([\w+-]+)'$`,
  String.raw`Errno::ENOENT: No such file or directory - ([\w+-]+)(?: \(Errno::ENOENT\))?$`,
  String.raw`^xargs: ([\w.+-]+): No such file or directory$`,
  String.raw`The method driver /usr/lib/apt/methods/(\w+) could not be found`,
].join('|'))
const MISMATCH = new RegExp([
  // csh/tcsh running a POSIX script: a variable assignment read as a command name ("timestamp=2018-02-24: Command not found.").
  String.raw`^\s*[A-Za-z_]\w*=\S*: Command not found\.$`,
  String.raw`^${SHELL_PREFIX}(\[\[|source|declare|shopt|pushd|popd|function|typeset|mapfile|readarray|complete): (?:command )?not found`,
  String.raw`Syntax error: "\(" unexpected|Syntax error: redirection unexpected|Syntax error: "&" unexpected|syntax error: unexpected "\("|syntax error: unexpected redirection`,
  String.raw`[Bb]ad substitution`,
  // The instance executor's preparation under dash (gitlab-runner docs/executors/instance.md: switch to bash).
  String.raw`^sh: \d+: eval: Running on .+: not found$`,
  String.raw`set: (?:line \d+: )?[Ii]llegal option -o pipefail`,
  String.raw`exec: "?(pwsh|powershell)(?:\.exe)?"?: executable file not found`,
].join('|'))
const NO_SHELL = /exec: \\?"?(\/(?:usr\/)?bin\/(?:ba|a|da)?sh|\/busybox\/sh|sh|bash|ash)\\?"?: (?:executable file not found in \$PATH|stat [^:]+: no such file or directory)|OCI runtime exec failed: exec failed:.*(?:no such file or directory|executable file not found)|exec (\/bin\/sh|\/bin\/bash): no such file or directory/
const USAGE = /^(?:[Ee]rror: unknown command "(?:\/bin\/)?(?:ba)?sh" for "([\w-]+)"|Error: unknown shorthand flag: 'c' in -c|unknown shorthand flag: 'c' in -c|flag provided but not defined: -c|[Uu]sage:\s+([\w-]+)\b.*|error: unknown command '(?:ba)?sh'|(\w+) has no command named "sh"|error: unrecognized subcommand '(?:ba)?sh'|Error: No such command '(?:ba)?sh'|(?:[\w-]+: )?(?:unrecognized|[Ii]nvalid) option [`'‘]-c['’]|(?:[\w-]+: )?invalid option -- '?c'?$|Error: Unrecognized option: -c$|(?:[\w-]+: )?error: unexpected (?:ba)?sh, try --help|[^\n]{0,80}Failed to load `(?:\/bin\/)?(?:ba)?sh`: File not found|(\/\S*entrypoint[\w.-]*): (?:eval: )?line \d+: syntax error|[^\n]{0,120}invalid choice: '(?:ba)?sh'|[^\n]{0,160}"(?:\/bin\/)?(?:ba)?sh" is not a |[^\n]{0,200}['"]if \[ -x \/usr\/local\/bin\/bash \]; then\\n|(?!(?:ba|da|z|k)?sh:|env:)([\w-]+): (?:\/bin\/)?(?:ba)?sh: openBinaryFile: does not exist|Error: Could not find or load main class (?:\/bin\/)?(?:ba)?sh$)/
// The shell's words, zsh's, and runc's for a container whose entrypoint or command is a file without the execute bit.
const DENIED = new RegExp([
  // One character class for the path: two overlapping ones ([\w./-]*[\w-]+) backtrack quadratically on a long token.
  String.raw`^(?:${SHELL_PREFIX})?([\w./-]*[\w-]): Permission denied$`,
  String.raw`^zsh:\d+: permission denied: (\S+)$`,
  String.raw`error during container init: exec: "([^"]+)": permission denied`,
].join('|'))

// An ENTRYPOINT that swallows the script prints at once; a usage text after the job's own tools
// printed for a while (a program calling another with an option it lacks) is that program's.
const RUNNER_LINE = /^(?:Running with gitlab|\s*on \S|Preparing |Using |Pulling |Running on |Getting source|Fetching changes|Initialized empty|Reinitialized|Created fresh|Checking out|Skipping Git|Updating\/initializing|Executing "|Resolving secrets|Restoring cache|Checking cache|Downloading artifacts|Starting service|Waiting for services|\$ )/
function toolRanFirst(s: Scan, before: number): boolean {
  const own = s.output.filter((l) => l.n < before && !RUNNER_LINE.test(l.text) && phaseName(l.section) !== 'prepare_executor')
  return own.length > 2 && /unrecognized option|invalid option|unknown option/i.test(s.near(before, /unrecognized option|invalid option|unknown option/i, 4)?.line.text ?? '')
}

function scriptStarted(s: Scan, before: number): boolean {
  // Old runners print no section markers, so the script's echo can sit in what looks like get_sources.
  return s.ev.trace.lines.some((l) => l.n < before && l.text.startsWith('$ ') && ['step_script', 'get_sources'].includes(phaseName(l.section)))
}

// Wordings a tool also prints when it probes for an optional program and goes on (perl's system(),
// configure scripts): the cause only when the job ends right after them.
const SOFT = /program not found$|^Can't exec "/
const AFTERMATH_LINE = /^(?:ERROR: )?(?:Job|Build) failed\b|^Cleaning up|^Uploading artifacts for failed job/

function endsSoonAfter(s: Scan, h: Hit): boolean {
  return s.output.filter((l) => l.n > h.line.n && !AFTERMATH_LINE.test(l.text)).length <= 4
}

// subprocess names its cwd when chdir failed (CPython's "noexec:chdir"): a missing directory, not a program.
function chdirFailed(s: Scan, h: Hit): boolean {
  const name = cmdOf(h)
  return s.ev.trace.lines.some((l) => l.n < h.line.n && h.line.n - l.n <= 12 && l.text.includes('cwd=') && (l.text.includes(`'${name}'`) || l.text.includes(`"${name}"`)))
}

function notFound(s: Scan): Diagnosis[] {
  const hit = s.all(NOT_FOUND).filter((h) => !BASHISMS.has(cmdOf(h)) && !envShell(h) && !crName(h))
    .filter((h) => !/^FileNotFoundError/.test(h.line.text) || (s.has(/in _execute_child$|subprocess\.py/) && !chdirFailed(s, h)))
    .filter((h) => !SOFT.test(h.line.text) || (!/WARNING/i.test(h.line.text) && endsSoonAfter(s, h))).pop()
  if (!hit) return exit127(s)
  const cmd = cmdOf(hit)
  if (cmd === '-') return yamlDash(s, hit)
  if (/The method driver \/usr\/lib\/apt\/methods\//.test(hit.line.text)) {
    return [diagnosis('command_not_found', `apt has no ${cmd} transport in this image`,
      `A source in the image's apt lists uses ${cmd}://, and apt in this image (older than 1.5) needs the apt-transport-${cmd} package for it, which is not installed.`,
      evidence(s.commandAt(hit.line.n), hit), [
        { text: `Install the transport before adding ${cmd} sources (it can still come from the plain-http Debian mirrors).`, snippet: `before_script:\n  - apt-get update && apt-get install -y apt-transport-${cmd} ca-certificates` },
        { text: 'Or use a newer base image: apt 1.5 and later speak https by themselves.' },
      ], 0.8)]
  }
  if (scriptPath(cmd, hit)) return missingInterpreter(s, hit, cmd)
  const shell = s.family === 'shell'
  const image = s.image()
  const pkg: Fix = /alpine|busybox/.test(image ?? '')
    ? { text: `Install it in before_script (Alpine image).`, snippet: `before_script:\n  - apk add --no-cache <package providing ${cmd}>` }
    : { text: 'Install it in before_script, or better, use an image that already contains it.', snippet: `before_script:\n  - apt-get update && apt-get install -y <package providing ${cmd}>` }
  const login: Fix = {
    text: 'Shell executor: jobs run as the runner user in a login shell, which reads ~/.profile / ~/.bash_profile but not ~/.bashrc. Install the tool for that user and initialise version managers (nvm, pyenv, sdkman) from ~/.profile.',
    snippet: `sudo -iu gitlab-runner bash -lc 'command -v ${cmd}; echo $PATH'`,
  }
  const vm: Fix = { text: `Instance executor: the job runs on the VM itself, so ${cmd} must be in the VM image the autoscaler boots (or installed by the job, with sudo if the image allows it).`, snippet: `# in the VM image's build (Packer, cloud-init): install ${cmd}` }
  const fixes: Fix[] = s.onInstance() ? [vm, { text: `Or call ${cmd} by its absolute path.` }] : shell ? [login, { text: `Or call ${cmd} by its absolute path.` }] : [
    { text: `Use an image that ships ${cmd}${image ? ` instead of ${image}` : ''}.`, snippet: 'image: <image that contains the tool>' },
    pkg,
    { text: `Or call it by absolute path; check with: docker run --rm ${image ?? '<image>'} sh -lc 'command -v ${cmd}; echo $PATH'` },
  ]
  // `npm run build` → "sh: react-scripts: not found": a package binary, so the dependencies are missing.
  const viaPackage = /^\$ (?:npm|yarn|pnpm|npx|bun)\b/.test(s.commandAt(hit.line.n)?.text ?? '') || /node_modules/.test(cmd)
  if (viaPackage) fixes.unshift({ text: 'Install the project dependencies first (the binary comes from node_modules/.bin), or restore the node_modules cache.', snippet: 'before_script:\n  - npm ci' })
  return [diagnosis('command_not_found', `Command not found: ${cmd}`,
    viaPackage
      ? `A package script calls ${cmd}, a binary from node_modules/.bin, and it is not there: the dependencies were not installed in this job (exit code 127 = command not found).`
      : `The script calls ${cmd}, which is not installed in ${s.onInstance() ? 'the VM image the job runs on' : shell ? "the runner user's login-shell PATH" : `the job image${image ? ` ${image}` : ''}`} (exit code 127 = command not found).`,
    evidence(s.commandAt(hit.line.n), hit), fixes, s.ev.trace.exitCode === 127 || s.ev.trace.exitCode === undefined ? 0.85 : 0.7)]
}

/**
 * sh (dash, busybox) says "<path>: not found" both for a missing file and for a file whose #!
 * interpreter is missing; bash would say "No such file or directory" or "bad interpreter". A script
 * of the repository is checked out, so a missing interpreter (bash in an Alpine image) comes first.
 */
function scriptPath(cmd: string, hit: Hit): boolean {
  return /\/|\.(?:sh|bash)$/.test(cmd) && !/node_modules/.test(cmd) && !/^(?:(?:\/usr)?\/bin\/)?bash:/.test(hit.line.text)
}

function missingInterpreter(s: Scan, hit: Hit, cmd: string): Diagnosis[] {
  const image = s.image()
  return [
    diagnosis('shell_mismatch', `The interpreter on the #! line of ${cmd} is missing`,
      `sh reports "${cmd}: not found" when the file's #! interpreter (usually /bin/bash) does not exist in ${image ? `the image ${image}` : 'the job image'}, e.g. a slim or Alpine image with only sh.`,
      evidence(s.commandAt(hit.line.n), hit), [
        { text: `Check the first line of ${cmd}; install that shell in the image, or run the script with sh if it is POSIX.`, snippet: `before_script:\n  - head -1 ${cmd}\n  - apk add --no-cache bash   # Alpine images` },
        { text: 'Or use an image that has bash.' },
      ], 0.7),
    diagnosis('command_not_found', `Or: ${cmd} is not there`,
      `The path ${cmd} may not exist in the checkout (a different working directory, a file not committed, a wrong name).`,
      evidence(s.commandAt(hit.line.n), hit), [{ text: 'List what is there.', snippet: `ls -la "$(dirname ${cmd})"` }], 0.5),
  ]
}

/**
 * The shell ran a command called "-": a `- command` list item ended up inside the block scalar
 * (`- |`) above it, indented one level too deep, so YAML made it a line of that script.
 */
function yamlDash(s: Scan, hit: Hit): Diagnosis[] {
  return [diagnosis('yaml_config_error', 'A script list item became part of the multi-line command above it',
    `The shell tried to run a command named "-" ("${hit.line.text.trim()}"): in .gitlab-ci.yml a "- command" line is indented under a block scalar (| or >) of the previous item, so YAML read it as text of that script instead of a new list item.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: 'Indent every list item of script: at the same level; only the block\'s own lines go deeper.', snippet: 'script:\n  - |\n    echo "multi-line"\n    echo "block"\n  - echo "next item"' },
      { text: 'Check the result in the pipeline editor (View merged YAML) or with the CI Lint tool.' },
    ], 0.75)]
}

// A tool's own "no such subcommand": a plugin that is not installed or a version that predates it.
const SUBCOMMAND = /^(?:(\w[\w-]*): '([\w-]+)' is not a [\w-]+ command|Error: unknown command "([\w-]+)" for "([\w-]+)"|npm ERR! Unknown command: "([\w-]+)"|(\w[\w-]*): unknown command:? "?([\w-]+)"?)/

function unknownSubcommand(s: Scan): Diagnosis[] {
  const hit = s.all(SUBCOMMAND).filter((h) => !/^(?:ba)?sh$/.test(h.m[2] ?? h.m[3] ?? h.m[7] ?? '')).pop()
  if (!hit) return []
  const tool = hit.m[1] ?? hit.m[4] ?? (hit.m[5] ? 'npm' : hit.m[6]) ?? '<tool>'
  const sub = hit.m[2] ?? hit.m[3] ?? hit.m[5] ?? hit.m[7] ?? '<command>'
  return [diagnosis('command_not_found', `${tool} has no command "${sub}"`,
    `${tool} in the job image does not know "${sub}": the plugin that provides it is not installed (docker compose, git lfs, helm plugins), or the image ships a version older than the command.`,
    evidence(s.commandAt(hit.line.n), hit), [
      { text: `Use an image whose ${tool} has "${sub}", or install the plugin in before_script.`, snippet: tool === 'docker' && sub === 'compose' ? 'image: docker:24   # the compose plugin ships with docker:23+ images; or: apk add docker-cli-compose' : `before_script:\n  - ${tool} --version` },
      { text: 'Check for a renamed command (docker-compose → docker compose, old CLI flags) in the tool\'s changelog.' },
    ], 0.7)]
}

/** Exit code 127 is the shell's "command not found", even when the message itself was not pasted. */
function exit127(s: Scan): Diagnosis[] {
  // Only when no other wording of this family explains the 127 (wrong shell, entrypoint, no shell).
  if (s.ev.trace.exitCode !== 127 || s.has(MISMATCH) || s.has(USAGE) || s.has(NO_SHELL)) return []
  const trailer = s.last(/exit (?:code|status) 127/)
  return [diagnosis('command_not_found', 'A command was not found (exit code 127)',
    'The job ended with exit code 127, which shells use for "command not found": a tool the script calls (or the entrypoint of the image) is not installed or not on PATH.',
    evidence(s.commandAt(trailer?.line.n ?? Infinity), trailer), [
      { text: 'Find the "not found" line above the failure; use an image that contains the tool, or install it in before_script.', snippet: 'before_script:\n  - command -v <tool> || (apt-get update && apt-get install -y <package>)' },
      { text: 'If no script line ran at all, the image\'s ENTRYPOINT may be swallowing the script.', snippet: 'image:\n  name: <image>\n  entrypoint: [""]' },
    ], 0.45)]
}

function cmdOf(hit: Hit): string {
  return firstGroup(hit) ?? '<command>'
}

function mismatch(s: Scan): Diagnosis[] {
  const hit = s.last(MISMATCH)
  if (!hit) return []
  // Before any script line, under an entrypoint the YAML overrides (--ci): the runner's own script met the
  // override's shell; ci-hypotheses.ts answers that, this stays an alternative.
  const overridden = s.overriddenEntrypoint() !== undefined
  const pwsh = hit.m[2]
  const fixes: Fix[] = pwsh && /pwsh|powershell/.test(pwsh)
    ? [{ text: `The runner's shell "${pwsh}" is not installed: install it or point the runner at one that is.`, snippet: '[[runners]]\n  shell = "powershell"   # or "pwsh" once PowerShell 7 is installed' }]
    : [
        { text: 'Write the script in POSIX sh ([ ] instead of [[ ]], . instead of source, no arrays, no set -o pipefail).' },
        { text: 'Or use an image with bash and run bash explicitly.', snippet: 'script:\n  - apk add --no-cache bash   # Alpine images\n  - bash ./ci/build.sh' },
        { text: 'Shell executor: set the interpreter the runner uses.', snippet: '[[runners]]\n  shell = "bash"' },
      ]
  return [diagnosis('shell_mismatch', 'The script needs a different shell than the one running it',
    pwsh ? `The runner is configured to use ${pwsh}, which is not installed where the job runs.` : `"${hit.line.text}" is a bash feature failing under sh (dash/busybox ash): the image's /bin/sh is not bash.`,
    evidence(s.commandAt(hit.line.n), hit), fixes, overridden ? 0.5 : 0.85)]
}

function missingShell(s: Scan): Diagnosis[] {
  let hit = s.last(NO_SHELL)
  if (hit && /pwsh|powershell/.test(hit.line.text)) return []
  const k8sEarly = !hit && s.family === 'kubernetes' && s.phase === 'step_script' && [126, 127].includes(s.ev.trace.exitCode ?? 0) && !scriptStarted(s, Infinity)
  if (k8sEarly) hit = s.last(/command terminated with exit code 12[67]/)
  if (!hit) return []
  const image = s.image() ?? '<image>'
  const kaniko = /kaniko/.test(image)
  // The job's own entrypoint override (--ci) names the shell the image lacks: the YAML, not the runner, asked for it.
  const shell = firstGroup(hit)
  const override = shell ? ciFacts(s.ev.ciYaml)?.images.find((i) => i.entrypoint?.[0] === shell) : undefined
  if (override) {
    return [diagnosis('image_missing_shell', `${override.name} has no ${shell}, which the job's entrypoint names`,
      `The .gitlab-ci.yml sets \`entrypoint: ${JSON.stringify(override.entrypoint)}\` for ${override.name}, and that image has no ${shell}: the container cannot even start.${floatingTag(override.name) ? ' A rebuilt floating tag can drop a shell the old one had.' : ''}`,
      evidence(hit), [
        { text: 'Point the entrypoint at a shell the image has (or clear it), and pin the image tag.', snippet: `image:\n  name: ${override.name}\n  entrypoint: ["/bin/sh", "-c"]` },
      ], 0.85)]
  }
  return [diagnosis('image_missing_shell', `The job image ${image} has no shell`,
    `The runner runs the script with sh/bash inside the job container, and ${image} has none (distroless or scratch image${kaniko ? ': the kaniko executor image' : ''}).`,
    evidence(hit), [
      { text: 'Use the image\'s debug/busybox variant and clear its entrypoint.', snippet: `image:\n  name: ${kaniko ? 'gcr.io/kaniko-project/executor:debug' : `${image.replace(/:[^:/]*$/, '')}:<debug tag>`}\n  entrypoint: [""]` },
      { text: 'Or build a thin image that adds busybox to it.', snippet: `FROM busybox:stable AS sh\nFROM ${image}\nCOPY --from=sh /bin/busybox /busybox/busybox\nENV PATH="/busybox:$PATH"` },
      { text: 'Or run the tool from a different job image that has a shell.' },
    ], k8sEarly ? 0.6 : 0.85)]
}

// The docker-windows executor runs the script with PowerShell (pwsh or powershell) inside the job
// container; the plain Nano Server images ship neither (only the mcr.microsoft.com/powershell ones do).
function windowsNoPowershell(s: Scan): Diagnosis[] {
  const image = s.image()
  const windows = /docker-windows/.test(s.executor ?? '') || s.has(/^Preparing the "docker-windows" executor/)
  if (!windows || !image || !/(?:^|\/)windows\/nanoserver(?::|$)/i.test(image) || s.has(NO_SHELL)) return []
  if (!['step_script', 'build_script', ''].includes(phaseName(s.phase)) || scriptStarted(s, Infinity)) return []
  const banner = s.first(/Using Docker executor with image/)
  return [diagnosis('image_missing_shell', `The job image ${image} has no PowerShell`,
    `The docker-windows executor runs every script stage with PowerShell inside the job container, and the plain Nano Server image ${image} ships no PowerShell, so the build stage cannot start (no command of the script ran).`,
    evidence(banner, s.last(/Executing "step_script" stage|Using docker image/)), [
      { text: 'Use a Windows image that has PowerShell (the PowerShell Nano Server images, or a Server Core based one).', snippet: 'image: mcr.microsoft.com/powershell:lts-nanoserver-1809' },
      { text: 'Or build your own image FROM nanoserver with PowerShell copied in.' },
    ], 0.7)]
}

function entrypoint(s: Scan): Diagnosis[] {
  // Without markers, the tool's output lands after the executor banner: any stage up to the script counts.
  // Runners before 11.x printed no section markers: the ENTRYPOINT's output follows "Skipping Git
  // submodules setup" and so reads as get_sources; git's own usage text there is git_client_too_old.
  const early = ['step_script', '', 'prepare_executor', 'prepare_script', 'get_sources']
  const hit = s.all(USAGE).find((h) => early.includes(phaseName(h.line.section)) && !scriptStarted(s, h.line.n) && !(phaseName(h.line.section) === 'get_sources' && /usage:\s+git\b/i.test(h.line.text)) && !toolRanFirst(s, h.line.n))
  if (!hit) return silentScript(s)
  const image = s.image() ?? '<image>'
  const tool = firstGroup(hit) ?? image.split('/').pop()?.split(':')[0] ?? 'the tool'
  return [diagnosis('image_entrypoint_override', `${image}'s ENTRYPOINT (${tool}) swallowed the job script`,
    `The image's ENTRYPOINT is ${tool}, so the runner's shell script was passed to ${tool} as arguments: ${tool} printed its own error/usage instead of running the script (no "$ command" line was echoed).`,
    evidence(hit), [
      { text: 'Clear the entrypoint for the job image.', snippet: `image:\n  name: ${image}\n  entrypoint: [""]` },
      { text: 'Or use the image\'s -debug / shell variant, or a wrapper image with a shell entrypoint.' },
      { text: 'Check the runner does not set disable_entrypoint_overwrite = true.' },
    ], 0.85)]
}

/**
 * The script stage printed something, failed, and never echoed a "$ command": the runner's shell did not
 * run the script. Without a usage text to name the tool this is weaker evidence (a wrapper can print first).
 */
function silentScript(s: Scan): Diagnosis[] {
  // A shell runner has no image, so no ENTRYPOINT (a failed cd or profile there is the shell's own).
  if (s.family === 'shell' || phaseName(s.phase) !== 'step_script' || scriptStarted(s, Infinity)) return []
  const stage = s.first(/^Executing "step_script" stage of the job script/)
  if (!stage) return []
  const own = s.output.filter((l) => l.n > stage.line.n && phaseName(l.section) === 'step_script' && !RUNNER_LINE.test(l.text) && !/^\d\d:\d\d$|^Using (?:docker|effective) (?:image|pull policy)|^(?:ERROR|WARNING): |^Cleaning up|^Uploading artifacts/.test(l.text))
  // A shell that is not there is image_missing_shell's (its own wording).
  if (!own.length || own.some((l) => /executable file not found|exec: "?(?:\/bin\/)?(?:ba)?sh"?|no such file or directory: unknown/.test(l.text))) return []
  const image = s.image() ?? '<image>'
  // The Kubernetes executor overrides image entrypoints unless FF_KUBERNETES_HONOR_ENTRYPOINT is on: weaker there.
  return [diagnosis('image_entrypoint_override', `${image}'s ENTRYPOINT probably ran instead of the job script`,
    `The script stage printed output and failed without echoing any "$ command": the runner's shell never ran the script. That is what an image's ENTRYPOINT does when it is a tool (it gets the runner's shell invocation as its arguments and complains, as in "${(own[own.length - 1]?.text ?? '').trim().slice(0, 100)}").`,
    evidence(stage, ...own.slice(-2)), [
      { text: 'Clear the entrypoint for the job image.', snippet: `image:\n  name: ${image}\n  entrypoint: [""]` },
      { text: 'Confirm: the image\'s entrypoint.', snippet: `docker image inspect --format '{{json .Config.Entrypoint}}' ${image}` },
    ], s.family === 'kubernetes' ? 0.45 : 0.6)]
}

function notExecutable(s: Scan): Diagnosis[] {
  const hit = s.all(DENIED).filter((h) => !/cannot|mkdir|open |lock|docker\.sock|\(13:/.test(h.line.text)).pop()
  if (!hit) return []
  const script = hit.m[1] ?? hit.m[2] ?? hit.m[3] ?? '<script>'
  const cmd = s.commandAt(hit.line.n)
  const code126 = s.ev.trace.exitCode === 126 || s.has(/errno 126|exit code 126|exit status 126/)
  // "bash: line 3: ./gradlew: Permission denied" is the shell refusing to run a ./path; a data file
  // there would be a redirection (a denied write), not an execution.
  const ranPath = /: line \d+: \.\.?\/|^zsh:\d+: permission denied: \.\.?\/|container init: exec:/.test(hit.line.text) && !/\.(?:txt|log|json|xml|ya?ml|csv|html?|out|lock)$/.test(script)
  if (!code126 && !ranPath && !(cmd?.text.includes(script.replace(/^\.\//, '')))) return []
  return [diagnosis('script_not_executable', `${script} is not executable`,
    `${script} was run directly but has no execute bit (exit code 126): git stored it as mode 100644.`,
    evidence(cmd, hit), [
      { text: 'Record the execute bit in git and commit.', snippet: `git update-index --chmod=+x ${script.replace(/^\.\//, '')}\ngit commit -m "Make ${script.replace(/^\.\//, '')} executable"` },
      { text: 'Or call it through the interpreter.', snippet: `script:\n  - sh ${script}` },
    ], code126 ? 0.85 : 0.65)]
}

// bash: "<script>: <interpreter>: bad interpreter: No such file or directory"; env(1) (coreutils, busybox)
// naming a shell: the #! line of the script asks for a shell the image lacks (or ends in a CR).
const BAD_INTERPRETER = /^(?:\S+: )?(?:line \d+: )?(\S+): (\S+?): bad interpreter: No such file or directory/
const SHELLS = new Set(['bash', 'zsh', 'ksh', 'mksh', 'fish'])

function envShell(hit: Hit): boolean {
  return /env: /.test(hit.line.text) && SHELLS.has(cmdOf(hit))
}

// bash prints a name holding a CR ANSI-C quoted (general.c printable_filename): "$'\r': command not found".
function crName(hit: Hit): boolean {
  return /^\$'.*\\r'$/.test(cmdOf(hit))
}

function interpreter(s: Scan): Diagnosis[] {
  const bad = s.last(BAD_INTERPRETER)
  const hit = bad ?? s.all(NOT_FOUND).filter((h) => envShell(h) || crName(h)).pop()
  if (!hit) return []
  const interp = bad ? bad.m[2] ?? '' : cmdOf(hit)
  const named = /^(?!(?:\/usr)?(?:\/bin\/)?(?:ba|z|da|a)?sh:)(\S+): line \d+:/.exec(hit.line.text)?.[1]
  const script = bad?.m[1] ?? named ?? s.commandAt(hit.line.n)?.text.replace(/^\$ /, '').split(/\s+/)[0] ?? '<script>'
  // "/bin/bash^M": the file was committed with CRLF line endings, so the #! line names "bash\r".
  const crlf = /\r|\^M$/.test(interp) || crName(hit)
  const image = s.image()
  return [diagnosis('shell_mismatch', crlf ? `${script} has Windows line endings` : `The interpreter ${interp} of ${script} is missing`,
    crName(hit)
      ? `bash reads the carriage return at the end of each line of ${script} as part of the command (${interp}): the file was committed with CRLF line endings.`
      : crlf
      ? `The #! line of ${script} ends in a carriage return, so the kernel looks for "${interp}", which does not exist: the file was committed with CRLF line endings.`
      : `${script} starts with #!…${interp}, and ${image ? `the image ${image}` : 'the job image'} has no ${interp.replace(/^.*\//, '')} (slim and Alpine images ship only sh).`,
    evidence(s.commandAt(hit.line.n), hit), crlf
      ? [
          { text: 'Convert the script to LF and keep it so with .gitattributes.', snippet: `# .gitattributes\n*.sh text eol=lf\n\n# once:\nsed -i 's/\\r$//' ${script}` },
          { text: 'Or convert it in the job before running it.', snippet: `script:\n  - sed -i 's/\\r$//' ${script}` },
        ]
      : [
          { text: `Install ${interp.replace(/^.*\//, '')} in the image, or use an image that has it.`, snippet: 'before_script:\n  - apk add --no-cache bash   # Alpine images' },
          { text: 'Or make the script POSIX and run it with sh.', snippet: `script:\n  - sh ${script}` },
        ], 0.85)]
}

export const imageRule: Rule = {
  id: 'image',
  categories: ['image_entrypoint_override', 'image_missing_shell', 'shell_mismatch', 'command_not_found', 'script_not_executable', 'yaml_config_error'],
  match(ev) {
    const s = Scan.of(ev)
    return [...entrypoint(s), ...missingShell(s), ...windowsNoPowershell(s), ...mismatch(s), ...notFound(s), ...interpreter(s), ...unknownSubcommand(s), ...notExecutable(s)]
  },
}
