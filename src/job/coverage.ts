import { RE2JS } from 're2js'

/**
 * The job's code coverage from its log, as GitLab computes it when the job finishes
 * (`Ci::Build#update_coverage` → `Gitlab::Ci::Trace::Stream#extract_coverage`; the runner takes no
 * part in it):
 *
 * - `pattern` is the job's `coverage:` as written (`/…/`): GitLab stores it without its first and
 *   last character and compiles the rest as RE2; an empty or invalid pattern gives no coverage;
 * - the log is read from its last line backwards, each line without its line ending, and without
 *   the runner's 32-character timestamp header when the log's first line has one;
 * - on a line, every match is taken (as Ruby's `scan`); the value is the last capture group of the
 *   last match, or the whole match when the pattern has no group; the coverage is the first number
 *   (`\d+(\.\d+)?`) in it; a line whose value holds no number is skipped;
 * - the log is matched as stored, ANSI colour codes included: GitLab does not strip them, so a
 *   pattern that does not allow for them does not match a coloured number there either;
 * - when that last group did not take part in the match, GitLab's extraction fails as a whole
 *   (it calls `gsub` on nil and rescues the error): no coverage, not an earlier line's.
 *
 * Returns the number as written in the log (e.g. "85.50"), or undefined.
 */
export function extractCoverage(traceText: string, pattern: string): string | undefined {
  const source = pattern.startsWith('/') && pattern.length >= 2 ? pattern.slice(1, -1) : pattern
  if (source.trim() === '') return undefined
  let re: RE2JS
  try {
    re = RE2JS.compile(source)
  } catch {
    return undefined
  }
  const lines = splitLines(traceText)
  const stamped = lines.length > 0 && TIMESTAMP_HEADER.test(lines[0]!)
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = stamped ? Array.from(lines[i]!).slice(TIMESTAMP_HEADER_LENGTH).join('') : lines[i]!
    const value = lastValue(re, line)
    if (value === undefined) continue
    if (value === null) return undefined
    const number = NUMBER.exec(value)
    if (number) return number[0]
  }
  return undefined
}

/** The first number in the matched text, as GitLab's `match.gsub(/\d+(\.\d+)?/).first`. */
const NUMBER = /\d+(?:\.\d+)?/

/** gitlab-runner's timestamped log line prefix (`Trace::Stream::TIMESTAMP_HEADER_REGEX`). */
const TIMESTAMP_HEADER = /\d{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]\.[0-9]{6}Z [0-9a-f]{2}[EO][+ ]/
const TIMESTAMP_HEADER_LENGTH = 32

/**
 * Lines as Ruby's `each_line` + `chomp!` give them: split after each "\n", then one trailing
 * "\r\n", "\n" or "\r" removed; no empty last line when the text ends with a newline.
 */
function splitLines(text: string): string[] {
  const parts = text.split('\n')
  if (parts[parts.length - 1] === '') parts.pop()
  return parts.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))
}

/**
 * The value of the last match on the line: its last capture group, or the whole match for a
 * pattern without groups. undefined: no match; null: that group did not take part.
 */
function lastValue(re: RE2JS, line: string): string | null | undefined {
  const m = re.matcher(line)
  const groups = m.groupCount()
  let last: string | null | undefined
  while (m.find()) last = groups === 0 ? m.group(0) : m.group(groups)
  return last
}
