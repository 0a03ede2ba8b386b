/**
 * The runner's expansion of variable values (gitlab-runner `Variables.Expand`, Go's os.Expand):
 * `$NAME` and `${NAME}`, `$$` → `$`, unknown → empty, special shell names (`$1`, `$@`, …) →
 * empty, a single pass (a value that references a variable gets its raw value, not expanded
 * again). The last definition of a key wins; raw variables are never expanded.
 */
export interface RunnerVariable {
  key: string
  value: string
  raw?: boolean
  file?: boolean
  masked?: boolean
  public?: boolean
}

export function expandValue(value: string, lookup: (name: string) => string | undefined): string {
  let out = ''
  for (let i = 0; i < value.length; i++) {
    const c = value[i]
    if (c !== '$' || i + 1 >= value.length) {
      out += c
      continue
    }
    const next = value[i + 1]!
    if (next === '$') {
      out += '$'
      i++
    } else if (next === '{') {
      const close = value.indexOf('}', i + 2)
      if (close < 0) return out // Go drops an unterminated ${ and the rest
      out += lookup(value.slice(i + 2, close)) ?? ''
      i = close
    } else if (/[*#@!?\-0-9]/.test(next)) {
      i++
    } else {
      const m = /^[A-Za-z0-9_]+/.exec(value.slice(i + 1))
      if (!m) {
        out += '$'
        continue
      }
      out += lookup(m[0]) ?? ''
      i += m[0].length
    }
  }
  return out
}

/** Expands every non-raw value once against the whole list. File variables expand to their path. */
export function expandAll(vars: readonly RunnerVariable[], filePath: (key: string) => string): RunnerVariable[] {
  const last = new Map<string, RunnerVariable>()
  for (const v of vars) last.set(v.key, v)
  const lookup = (name: string): string | undefined => {
    const v = last.get(name)
    if (!v) return undefined
    return v.file ? filePath(v.key) : v.value
  }
  return [...last.values()].map((v) => (v.raw ? v : { ...v, value: expandValue(v.value, lookup) }))
}
