/**
 * Where each key of a TOML file is (smol-toml parses values but keeps no positions). A line
 * scanner that follows table headers — `[a.b]`, `[[runners]]` (counted per array), nested
 * `[[runners.docker.services]]` — and `key = value` lines, skipping the continuation lines of
 * multi-line strings and arrays. Keys are paths like `runners[0].docker.image`.
 */
export interface KeyPosition {
  readonly line: number
  readonly col: number
}

export class TomlPositions {
  private readonly map = new Map<string, KeyPosition>()

  constructor(text: string) {
    const lines = text.split(/\r?\n/)
    const counters = new Map<string, number>()
    let table = ''
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i]!
      const trimmed = raw.trim()
      const col = raw.length - raw.trimStart().length + 1
      if (trimmed === '' || trimmed.startsWith('#')) continue
      const header = /^(\[\[?)\s*([^\]]+?)\s*\]\]?/.exec(trimmed)
      if (header) {
        const parts = splitKey(header[2]!)
        if (header[1] === '[[') {
          // An array of tables: its index counts within the enclosing element.
          const parent = resolve(parts.slice(0, -1), table)
          const arrayPath = join(parent, parts[parts.length - 1]!)
          const n = counters.get(arrayPath) ?? 0
          counters.set(arrayPath, n + 1)
          table = `${arrayPath}[${n}]`
        } else {
          table = resolve(parts, table)
        }
        this.set(table, { line: i + 1, col })
        continue
      }
      const eq = findEquals(trimmed)
      if (eq < 0) continue
      const key = join(table, splitKey(trimmed.slice(0, eq)).join('.'))
      this.set(key, { line: i + 1, col })
      // Skip the continuation lines of a multi-line value.
      let value = trimmed.slice(eq + 1)
      if (/("""|''')/.test(value) && (value.match(/"""|'''/g) ?? []).length % 2 === 1) {
        while (++i < lines.length && !/"""|'''/.test(lines[i]!));
        continue
      }
      let depth = bracketDepth(value)
      while (depth > 0 && ++i < lines.length) {
        value = lines[i]!
        depth += bracketDepth(value)
      }
    }

    /** Header parts are absolute, but `[[runners.docker.services]]` belongs to the latest runner. */
    function resolve(parts: string[], current: string): string {
      let path = ''
      for (const p of parts) {
        path = join(path, p)
        // Re-use the array index the current table has at this level.
        const m = new RegExp(`^${escape(path)}\\[(\\d+)\\]`).exec(current)
        if (m) path = `${path}[${m[1]}]`
      }
      return path
    }
  }

  private set(key: string, pos: KeyPosition): void {
    if (!this.map.has(key)) this.map.set(key, pos)
  }

  /** The position of `path`, or of its closest enclosing key that has one. */
  of(path: string): KeyPosition | undefined {
    let p = path
    while (p) {
      const hit = this.map.get(p)
      if (hit) return hit
      const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['))
      if (cut <= 0) break
      p = p.slice(0, cut)
    }
    return undefined
  }
}

function join(a: string, b: string): string {
  return a ? `${a}.${b}` : b
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function splitKey(k: string): string[] {
  const out: string[] = []
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*(?:\.|$)/y
  let m: RegExpExecArray | null
  while (re.lastIndex < k.length && (m = re.exec(k))) out.push(m[1] ?? m[2] ?? m[3]!)
  return out.length ? out : [k.trim()]
}

/** The index of the `=` that ends a key (outside quotes), or -1. */
function findEquals(s: string): number {
  let q: string | undefined
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    if (q) {
      if (c === q) q = undefined
    } else if (c === '"' || c === "'") q = c
    else if (c === '=') return i
    else if (c === '#' || c === '[' || c === '{') return -1
  }
  return -1
}

function bracketDepth(s: string): number {
  let d = 0
  let q: string | undefined
  for (const c of s) {
    if (q) {
      if (c === q) q = undefined
    } else if (c === '"' || c === "'") q = c
    else if (c === '#') break
    else if (c === '[' || c === '{') d++
    else if (c === ']' || c === '}') d--
  }
  return d
}
