/**
 * Ruby's `File.fnmatch?(glob, path, File::FNM_PATHNAME | File::FNM_DOTMATCH | File::FNM_EXTGLOB)`,
 * the call GitLab's `rules:changes` and `rules:exists` clauses make for every glob. Written here
 * rather than borrowed from a shell-glob library because the dialects differ where it matters:
 *
 * - `*` and `?` and `[...]` never match `/`; `**` is special only as a whole path component followed
 *   by `/` (then: zero or more directories), so `dir/**` is `dir/*` (one level), not "everything below";
 * - Ruby's EXTGLOB means `{a,b}` braces only (nested allowed; a `{` with no closing `}` makes the
 *   glob match nothing); `+(x)`, `!(x)`, `(a|b)` are plain characters;
 * - a leading `!` is a plain character (no negation); dotfiles match like any name (DOTMATCH);
 * - `[!a-z]` / `[^a-z]` negate; an unterminated `[` matches nothing; `\` makes the next
 *   character literal and a trailing `\` is dropped;
 * - the empty glob matches only the empty path (no file), and no glob throws.
 */
export function fnmatch(glob: string, path: string): boolean {
  return compiled(glob).some((re) => re.test(path))
}

const cache = new Map<string, RegExp[]>()

function compiled(glob: string): RegExp[] {
  let res = cache.get(glob)
  if (!res) {
    res = expandBraces(glob).map(toRegExp).filter((r): r is RegExp => r !== null)
    if (cache.size > 5000) cache.clear()
    cache.set(glob, res)
  }
  return res
}

/**
 * `{a,b}` → one glob per alternative, as Ruby's brace expansion: the first top-level `{` and its
 * matching `}` are expanded, then each result again. A `{` left open yields no glob at all; a
 * lone `}` is literal; `\{` is not a brace.
 */
export function expandBraces(glob: string, limit = 1024): string[] {
  const out: string[] = []
  const walk = (g: string): void => {
    if (out.length >= limit) return
    const chars = Array.from(g)
    let open = -1
    let close = -1
    let depth = 0
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]
      if (c === '\\') { i++; continue }
      if (c === '{' && depth++ === 0) open = i
      else if (c === '}' && open >= 0 && --depth === 0) { close = i; break }
    }
    if (open < 0) {
      out.push(g)
      return
    }
    if (close < 0) return
    const head = chars.slice(0, open).join('')
    const tail = chars.slice(close + 1).join('')
    let start = open + 1
    let nest = 0
    for (let i = open + 1; i <= close; i++) {
      const c = chars[i]
      if (i === close || (c === ',' && nest === 0)) {
        walk(head + chars.slice(start, i).join('') + tail)
        start = i + 1
        continue
      }
      if (c === '{') nest++
      else if (c === '}') nest--
      else if (c === '\\' && i + 1 < close) i++
    }
  }
  walk(glob)
  return out
}

/** One brace-free glob → an anchored regular expression; null for a glob that matches nothing. */
function toRegExp(glob: string): RegExp | null {
  const p = Array.from(glob)
  let src = ''
  let componentStart = true
  for (let i = 0; i < p.length;) {
    if (componentStart && p[i] === '*' && p[i + 1] === '*' && p[i + 2] === '/') {
      src += '(?:[^/]*/)*'
      i += 3
      continue
    }
    const c = p[i]!
    componentStart = false
    if (c === '*') {
      while (p[i] === '*') i++
      src += '[^/]*'
    } else if (c === '?') {
      src += '[^/]'
      i++
    } else if (c === '[') {
      const bracket = readBracket(p, i + 1)
      if (!bracket) return null
      src += `(?!/)${bracket.source}`
      i = bracket.end
    } else if (c === '\\') {
      if (i + 1 < p.length) src += literal(p[i + 1]!)
      i += 2
    } else {
      src += literal(c)
      if (c === '/') componentStart = true
      i++
    }
  }
  return new RegExp(`^${src}$`, 'u')
}

/** `[...]` from just after the `[`: its character class and the index after the `]`. */
function readBracket(p: string[], from: number): { source: string; end: number } | null {
  let i = from
  const negated = p[i] === '!' || p[i] === '^'
  if (negated) i++
  const parts: string[] = []
  while (p[i] !== ']') {
    if (p[i] === '\\') i++
    const lo = p[i]
    if (lo === undefined) return null
    i++
    if (p[i] === '-' && p[i + 1] !== ']') {
      i++
      if (p[i] === '\\') i++
      const hi = p[i]
      if (hi === undefined) return null
      i++
      // Ruby compares code points: a reversed range (z-a) holds nothing.
      if (lo.codePointAt(0)! <= hi.codePointAt(0)!) parts.push(`${classChar(lo)}-${classChar(hi)}`)
    } else {
      parts.push(classChar(lo))
    }
  }
  return { source: `[${negated ? '^' : ''}${parts.join('')}]`, end: i + 1 }
}

function literal(c: string): string {
  // Only syntax characters may be escaped in a `u` regular expression (`\-` is an error there).
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c
}

function classChar(c: string): string {
  return `\\u{${c.codePointAt(0)!.toString(16)}}`
}
