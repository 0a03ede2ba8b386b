/**
 * GitLab's job log page shows a line number before each line, and copying a range of it (as people
 * do for a mail or an issue) pastes the number glued to the line: "2608configure: error: …",
 * "2610" for an empty line. Such a paste is read without them. The numbers are told from a line's
 * own digits by counting: they go up by one from line to line, so "number − line index" is the same
 * on every numbered line of one copied range; a paste may hold several ranges (a collapsed section
 * skipped, two copies), each of at least two lines. Only when the numbered lines are most of the
 * paste (at least 60 % of its non-blank lines): a line that merely starts with digits (a timestamp,
 * a count) does not follow a sequence, and a tool's own numbered lines are told by what follows the
 * number — rustc's and gcc's gutter (`10 | code`), grep -n's `12:` — where GitLab's copy glues the
 * line's text on directly.
 */
const MIN_SHARE = 0.6

/** The lines without the glued line numbers; undefined when the paste is not numbered so. */
export function unnumberPaste(lines: readonly string[]): string[] | undefined {
  const votes = new Map<number, number>()
  let nonBlank = 0
  lines.forEach((l, i) => {
    if (l.trim() === '') return
    nonBlank++
    const digits = /^\d{1,9}/.exec(l)?.[0]
    if (!digits) return
    // The glued number is a prefix of the leading digits (the line itself may start with digits too).
    const seen = new Set<number>()
    for (let k = 1; k <= digits.length; k++) {
      const base = Number(digits.slice(0, k)) - i
      if (base + i < 1 || seen.has(base)) continue
      seen.add(base)
      votes.set(base, (votes.get(base) ?? 0) + 1)
    }
  })
  // Every copied range: a base two lines agree on.
  const bases = [...votes].filter(([, v]) => v >= 2).map(([base]) => base)
  let numbered = 0
  let gutter = 0
  const out = lines.map((l, i) => {
    // The longest number a range gives this line: "2608…" is 2608 of one range, not the 2 of another.
    let n = ''
    for (const base of bases) {
      const candidate = String(base + i)
      if (candidate.length > n.length && l.startsWith(candidate)) n = candidate
    }
    if (n === '') return l
    numbered++
    if (/^\s*[|:]/.test(l.slice(n.length))) gutter++
    return l.slice(n.length)
  })
  if (numbered < 2 || numbered < MIN_SHARE * nonBlank || gutter * 2 >= numbered) return undefined
  return out
}
