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
  // Each line's candidate ranges: a base whose number for this line (base + index) prefixes it.
  const candidates = lines.map((l, i) => {
    const digits = /^\d{1,9}/.exec(l)?.[0] ?? ''
    const bases = new Set<number>()
    for (let k = 1; k <= digits.length; k++) if (Number(digits.slice(0, k)) >= 1) bases.add(Number(digits.slice(0, k)) - i)
    return bases
  })
  let nonBlank = 0
  let numbered = 0
  let gutter = 0
  const out = lines.map((l, i) => {
    if (l.trim() !== '') nonBlank++
    // A copied range numbers consecutive lines: a base counts for a line only with a neighbour on it too
    // (lines that all start with one date agree on bases only far apart).
    let n = ''
    for (const base of candidates[i] ?? []) {
      if (!candidates[i - 1]?.has(base) && !candidates[i + 1]?.has(base)) continue
      // The longest number a range gives this line: "2608…" is 2608 of one range, not the 2 of another.
      const number = String(base + i)
      if (number.length > n.length) n = number
    }
    if (n === '') return l
    numbered++
    if (/^\s*[|:]/.test(l.slice(n.length))) gutter++
    return l.slice(n.length)
  })
  if (numbered < 2 || numbered < MIN_SHARE * nonBlank || gutter * 2 >= numbered) return undefined
  return out
}
