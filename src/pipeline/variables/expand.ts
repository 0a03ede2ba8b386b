/**
 * GitLab-side variable expansion (`ExpandVariables` in GitLab): `$VAR`, `${VAR}` and `%VAR%`.
 * This is what GitLab applies while creating a pipeline (include paths, rules:changes paths,
 * environment names, …); the runner-side expansion of job variables is a different, Go
 * `os.Expand`-like rule (see src/pipeline/variables/runner-expand.ts).
 */
const PATTERN = /\$([A-Za-z_][A-Za-z0-9_]*)|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|%([A-Za-z_][A-Za-z0-9_]*)%/g

export type Lookup = (name: string) => string | undefined

/** Expands known variables; unknown ones become empty (GitLab's `expand`). */
export function expandBlank(value: string, vars: Lookup): string {
  if (!value.includes('$') && !value.includes('%')) return value
  return value.replace(PATTERN, (_m, a?: string, b?: string, c?: string) => vars((a ?? b ?? c)!) ?? '')
}

/** Expands known variables and leaves unknown references as written (GitLab's `expand_existing`). */
export function expandExisting(value: string, vars: Lookup): string {
  if (!value.includes('$') && !value.includes('%')) return value
  return value.replace(PATTERN, (m, a?: string, b?: string, c?: string) => vars((a ?? b ?? c)!) ?? m)
}

export interface CollectionVariable {
  key: string
  value: string
  raw?: boolean
}

/**
 * GitLab's `Collection#sort_and_expand_all(keep_undefined: true)`: every non-raw variable is
 * expanded against the others, references to variables that reference others are followed
 * (GitLab sorts the collection topologically), unknown references stay literal, and a
 * reference cycle leaves the values involved unexpanded. The last definition of a key wins.
 * `keepUndefined: false` is GitLab's default form, which drops unknown references instead.
 */
export function expandCollection(vars: readonly CollectionVariable[], opts: { keepUndefined?: boolean } = {}): Map<string, string> {
  const expandOne = opts.keepUndefined === false ? expandBlank : expandExisting
  const defs = new Map<string, CollectionVariable>()
  for (const v of vars) defs.set(v.key, v)
  const done = new Map<string, string>()
  const visiting = new Set<string>()
  const resolve = (key: string): string | undefined => {
    const hit = done.get(key)
    if (hit !== undefined) return hit
    const def = defs.get(key)
    if (!def) return undefined
    if (def.raw || (!def.value.includes('$') && !def.value.includes('%'))) {
      done.set(key, def.value)
      return def.value
    }
    if (visiting.has(key)) return def.value
    visiting.add(key)
    const out = expandOne(def.value, (name) => (name === key ? undefined : resolve(name)))
    visiting.delete(key)
    done.set(key, out)
    return out
  }
  for (const key of defs.keys()) resolve(key)
  return done
}

/** A lookup over a list of variables where the last definition of a key wins. */
export function lastWins(vars: readonly { key: string; value: string }[]): Lookup {
  const map = new Map<string, string>()
  for (const v of vars) map.set(v.key, v.value)
  return (name) => map.get(name)
}
