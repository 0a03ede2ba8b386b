import { Scan, diagnosis, evidence } from '../scan.js'
import type { Diagnosis, Fix, Rule } from '../types.js'

/**
 * A shell runner on an HPC cluster or a site's build host loads its toolchain with Environment Modules or
 * Lmod, and a module the job names is not there (hpc_module_unavailable, proposed by the corpus's
 * twenty-third pass): the site retired or renamed it in a software-stack update, or the runner's
 * shell has another MODULEPATH than the user's login shell — or no module system at all, when the
 * runner's non-login shell never sourced its init. Lmod's "exist but cannot be loaded" is the other
 * case: the module is in a hierarchy whose prerequisites (a compiler, an MPI) the job did not load.
 */

const UNKNOWN = new RegExp([
  // Environment Modules 4/5 ("ERROR: Unable to locate a modulefile for 'x'") and 3.x ("ModuleCmd_Load.c(213):ERROR:105: …").
  String.raw`ERROR(?::105)?: Unable to locate a modulefile for '([^']{1,200})'`,
  // Lmod.
  String.raw`The following module\(s\) are unknown: "([^"]{1,200})"`,
  // Spack's environment loading a spec the site no longer has installed.
  String.raw`==> Error: Spec '([^']{1,200})' matches no installed packages`,
].join('|'))
// Lmod 7 and 8 ("or extension(s)"): the module exists behind prerequisites.
const HIDDEN = /These module\(s\) (?:or extension\(s\) )?exist but cannot be loaded as requested: "([^"]{1,200})"/
// The runner's shell has no module system: `module`/`ml` are shell functions its non-login shell never defined.
const NO_SYSTEM = /^(?:(?:\/[\w/]+\/)?(?:ba)?sh: (?:line \d+: )?)?(module|ml|spack): (?:command )?not found$/

function setupFix(): Fix {
  return { text: 'Give the runner\'s shell the site\'s module setup: its non-login shell does not read the profile that defines `module` and MODULEPATH for you.', snippet: '[[runners]]\n  pre_build_script = "source /etc/profile.d/modules.sh"' }
}

function envModules(s: Scan): Diagnosis[] {
  const hidden = s.all(HIDDEN).filter((h) => !s.inDiff(h.line) && !s.wentPast(h.line)).pop()
  if (hidden) {
    const name = hidden.m[1] ?? ''
    return [diagnosis('hpc_module_unavailable', `Module ${name} needs its prerequisites loaded first`,
      `Lmod found ${name}, but in a module hierarchy: it becomes loadable only after the modules it depends on (a compiler, an MPI, a site bundle) are loaded, and the job did not load them first.`,
      evidence(s.commandAt(hidden.line.n), hidden, s.near(hidden.line.n, /module spider/, 3)), [
        { text: 'Ask Lmod which modules open it, and load those first in the job.', snippet: `script:\n  - module spider ${name}\n  - module load <compiler> <mpi> ${name}` },
      ], 0.8)]
  }
  const none = s.all(NO_SYSTEM).filter((h) => !s.wentPast(h.line)).pop()
  if (none) {
    return [diagnosis('hpc_module_unavailable', `The runner's shell has no ${none.m[1] === 'spack' ? 'Spack' : 'module system'}`,
      `"${none.line.text.trim()}": \`${none.m[1]}\` is set up by the site's shell initialisation (a shell function from the profile), which the runner's non-login shell never sourced.`,
      evidence(s.commandAt(none.line.n), none), [
        setupFix(),
        { text: 'Or source it in the job before the first module command.', snippet: none.m[1] === 'spack' ? 'before_script:\n  - . /opt/spack/share/spack/setup-env.sh' : 'before_script:\n  - source /etc/profile.d/modules.sh   # or lmod.sh' },
      ], 0.75)]
  }
  const hits = s.all(UNKNOWN).filter((h) => !s.inDiff(h.line) && !s.wentPast(h.line))
  const hit = hits[hits.length - 1]
  if (!hit) return []
  // The failing command's own lines only: a load the script went past earlier is not this failure.
  const cmd = s.commandAt(hit.line.n)
  const mine = hits.filter((h) => s.commandAt(h.line.n)?.n === cmd?.n)
  const names = [...new Set(mine.map((h) => h.m.slice(1).find((x) => x !== undefined) ?? '').filter((x) => x !== ''))]
  const spack = /==> Error: Spec/.test(hit.line.text)
  const lmod = /module\(s\)/.test(hit.line.text)
  // A tree the project itself puts on MODULEPATH: its modulefile is missing or misnamed, not the site's.
  const own = s.ev.trace.lines.some((l) => l.n < hit.line.n && /^\$ module use\b.{0,200}(?:CI_PROJECT_DIR|CI_BUILDS_DIR|\/builds\/)/.test(l.text))
  const system = spack ? 'Spack' : lmod ? 'Lmod' : 'Environment Modules'
  const which = names.length > 1 ? 'these modules are' : 'this module is'
  return [diagnosis('hpc_module_unavailable', `${own ? 'The project\'s module tree has' : 'The runner\'s host has'} no module ${names.slice(0, 3).join(', ')}`,
    own
      ? `The job loads its toolchain with ${system} from a module tree in the repository (module use), and ${which} not in it: a modulefile missing, misnamed or not checked in.`
      : `The job loads its toolchain with ${system}, and ${which} not available on the runner's host: a site's software-stack update retired or renamed ${names.length > 1 ? 'them' : 'it'}, or the runner's shell sees another MODULEPATH than your login shell. Nothing in the job's own files names a newer one.`,
    evidence(cmd, ...mine.slice(-3)), own
      ? [{ text: 'Check the modulefile\'s path and name under the tree the job adds (module use), and that it is committed.', snippet: 'script:\n  - module avail 2>&1 | head -50' }]
      : [
          { text: 'List what the runner\'s host provides now, from a job on that runner, and load those names (or the stack that replaced the retired one).', snippet: spack ? 'script:\n  - spack find' : 'script:\n  - module avail 2>&1 | head -50\n  - module spider <name>   # Lmod' },
          setupFix(),
          { text: 'Pin an archived software stack if the site keeps one, or ask the site\'s administrators which modules replaced these.' },
        ], 0.8)]
}

export const envModulesRule: Rule = {
  id: 'env-modules',
  categories: ['hpc_module_unavailable'],
  match: (ev) => envModules(Scan.of(ev)),
}
