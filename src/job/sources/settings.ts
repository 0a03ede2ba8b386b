/**
 * The git settings a job's variables choose (gitlab-runner's `validateVariables`), with the
 * runner's warnings for bad values. `workspace` is glrun's local default: the job sees the
 * working tree as it is, uncommitted changes included, instead of a fresh clone of the commit.
 */
export type GitStrategy = 'workspace' | 'clone' | 'fetch' | 'none' | 'empty'

export interface SourceSettings {
  strategy: GitStrategy
  checkout: boolean
  cleanFlags: string[]
  fetchFlags: string[]
  depth: number
  submodules: 'none' | 'normal' | 'recursive'
  warnings: string[]
}

export function readSourceSettings(vars: (k: string) => string | undefined, depth: number, local: boolean): SourceSettings {
  const warnings: string[] = []
  const raw = vars('GIT_STRATEGY')
  let strategy: GitStrategy = local ? 'workspace' : 'fetch'
  if (raw !== undefined && raw !== '') {
    if (raw === 'clone' || raw === 'fetch' || raw === 'none' || raw === 'empty') strategy = raw
    else warnings.push(`GIT_STRATEGY: expected either 'clone', 'fetch', 'none' or 'empty' got "${raw}", using default value '${local ? 'workspace' : 'fetch'}'`)
  }
  const clean = vars('GIT_CLEAN_FLAGS')
  const fetch = vars('GIT_FETCH_EXTRA_FLAGS')
  const sub = vars('GIT_SUBMODULE_STRATEGY')
  let submodules: SourceSettings['submodules'] = 'none'
  if (sub === 'normal' || sub === 'recursive') submodules = sub
  else if (sub !== undefined && sub !== '' && sub !== 'none') warnings.push(`GIT_SUBMODULE_STRATEGY: expected either 'none', 'normal' or 'recursive' got "${sub}", using default value 'none'`)
  const none = strategy === 'none' || strategy === 'empty'
  return {
    strategy,
    checkout: !none && vars('GIT_CHECKOUT') !== 'false',
    cleanFlags: clean === 'none' ? [] : (clean ?? '-ffdx').split(/\s+/).filter(Boolean),
    fetchFlags: fetch === 'none' ? [] : (fetch ?? '--prune --quiet').split(/\s+/).filter(Boolean),
    depth,
    submodules: none ? 'none' : submodules,
    warnings,
  }
}
