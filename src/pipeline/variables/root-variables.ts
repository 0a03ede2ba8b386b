import type { PipelineContext } from '../context/types.js'
import type { YamlVariable } from '../model/job.js'
import { expandBlank, expandCollection } from './expand.js'

/**
 * GitLab's root variables (`Chain::Seed#root_variables`): the top-level `variables:` with the
 * matching workflow rule's `variables:` merged over them. A workflow variable replaces a global one
 * in place (a Ruby hash merge keeps the key's position); new ones follow. Jobs inherit these
 * (subject to `inherit:variables`), and a job's own `variables:` win over them
 * (`Helpers.inherit_yaml_variables`), as GitLab's precedence documentation lists.
 */
export function rootVariables(globals: readonly YamlVariable[], workflow: Readonly<Record<string, string>>): YamlVariable[] {
  const out = globals.map((v) => (Object.hasOwn(workflow, v.key) ? { key: v.key, value: workflow[v.key]!, raw: false } : v))
  for (const [key, value] of Object.entries(workflow)) {
    if (!globals.some((v) => v.key === key)) out.push({ key, value, raw: false })
  }
  return out
}

/**
 * `workflow:name` as GitLab's `Chain::PopulateMetadata` sets it: expanded with the pipeline's
 * variables (predefined, root variables, then project and pipeline variables, each expanded
 * against the others and unknown references dropped), unknown references in the name itself
 * dropped too, then stripped. A name that ends up blank is no name.
 */
export function pipelineName(name: string | undefined, ctx: PipelineContext, root: readonly YamlVariable[]): string | undefined {
  if (name === undefined || name.trim() === '') return undefined
  const vars = expandCollection([...ctx.predefined, ...root, ...ctx.userVariables], { keepUndefined: false })
  const expanded = expandBlank(name, (n) => vars.get(n)).trim()
  return expanded === '' ? undefined : expanded
}
