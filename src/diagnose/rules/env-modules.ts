import { Scan, diagnosis, evidence } from '../scan.js'
import type { Diagnosis, Rule } from '../types.js'

/**
 * A shell runner on an HPC cluster or a site's build host loads its toolchain with Environment Modules or
 * Lmod, and a module the job names is not there (hpc_module_unavailable, proposed by the corpus's
 * twenty-third pass): the site retired or renamed it in a software-stack update, or the runner's
 * shell has another MODULEPATH than the user's login shell. Nothing in the project changed.
 */

const UNKNOWN = new RegExp([
  // Environment Modules 4/5 ("ERROR: Unable to locate a modulefile for 'x'") and 3.x ("ModuleCmd_Load.c(213):ERROR:105: …").
  String.raw`ERROR(?::105)?: Unable to locate a modulefile for '([^']{1,200})'`,
  // Lmod.
  String.raw`The following module\(s\) are unknown: "([^"]{1,200})"`,
  String.raw`These module\(s\) or extension\(s\) exist but cannot be loaded as requested: "([^"]{1,200})"`,
  // Spack's environment loading a spec the site no longer has installed.
  String.raw`==> Error: Spec '([^']{1,200})' matches no installed packages`,
].join('|'))

function envModules(s: Scan): Diagnosis[] {
  const hits = s.all(UNKNOWN).filter((h) => !s.inDiff(h.line))
  const hit = hits[hits.length - 1]
  if (!hit || s.wentPast(hit.line)) return []
  const names = [...new Set(hits.map((h) => h.m.slice(1).find((x) => x !== undefined) ?? '').filter((x) => x !== ''))]
  const lmod = /module\(s\)/.test(hit.line.text)
  const spack = /==> Error: Spec/.test(hit.line.text)
  return [diagnosis('hpc_module_unavailable', `The runner's host has no module ${names.slice(0, 3).join(', ')}`,
    `The job loads its toolchain with ${spack ? 'Spack' : lmod ? 'Lmod' : 'Environment Modules'}, and ${names.length > 1 ? 'these modules are' : 'this module is'} not available on the runner's host: a site's software-stack update retired or renamed ${names.length > 1 ? 'them' : 'it'}, or the runner's shell sees another MODULEPATH than your login shell. The project did not change; the machine did.`,
    evidence(s.commandAt(hit.line.n), ...hits.slice(-3)), [
      { text: 'List what the runner\'s host provides now, from a job on that runner, and load those names (or the stack that replaced the retired one).', snippet: spack ? 'script:\n  - spack find' : 'script:\n  - module avail 2>&1 | head -50\n  - module spider <name>   # Lmod' },
      { text: 'If the modules exist for your login but not for the job, give the runner the same module setup (source the site\'s modules init and MODULEPATH in the runner\'s environment or pre_build_script).', snippet: '[[runners]]\n  pre_build_script = "source /etc/profile.d/modules.sh"' },
      { text: 'Pin an archived software stack if the site keeps one, or ask the site\'s administrators which modules replaced these.' },
    ], 0.8)]
}

export const envModulesRule: Rule = {
  id: 'env-modules',
  categories: ['hpc_module_unavailable'],
  match: (ev) => envModules(Scan.of(ev)),
}
