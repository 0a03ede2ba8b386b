/**
 * GitLab's job log page shows a line number before each line, and copying a range of it (as people
 * do for a mail or an issue) pastes the number glued to the line: "2608configure: error: …",
 * "2610" for an empty line. Such a paste is read without them. The numbers are told from a line's
 * own digits by counting: they go up by one from line to line, so "number − line index" is the same
 * on every numbered line. Only when that holds for most of the paste (at least 60 % of its
 * non-blank lines, and at least two): a tool's own numbered snippets (rustc's "12 |", gcc's
 * "   12 | ") are indented or a minority, and a line that merely starts with digits (a timestamp,
 * a count) does not follow the sequence.
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
  let best: [number, number] | undefined
  for (const v of votes) if (!best || v[1] > best[1]) best = v
  if (!best || best[1] < 2 || best[1] < MIN_SHARE * nonBlank) return undefined
  const base = best[0]
  return lines.map((l, i) => {
    const n = String(base + i)
    return l.startsWith(n) ? l.slice(n.length) : l
  })
}
