/**
 * Human durations as GitLab reads them (ChronicDuration): "1h 30m", "3 hours 30 minutes",
 * "2 days", "90", "1:30:00". Returns seconds, or undefined when the text is not a duration.
 */
const UNITS: [RegExp, number][] = [
  [/^(s|secs?|seconds?)$/, 1],
  [/^(m|mins?|minutes?)$/, 60],
  [/^(h|hrs?|hours?)$/, 3600],
  [/^(d|days?)$/, 86400],
  [/^(w|wks?|weeks?)$/, 604800],
  [/^(mo|mos|months?)$/, 2_592_000],
  [/^(y|yrs?|years?)$/, 31_557_600],
]

export function parseDuration(text: string): number | undefined {
  const s = text.trim().toLowerCase()
  if (s === '') return undefined
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s))
  const clock = /^(?:(\d+):)?(\d+):(\d{2})$/.exec(s)
  if (clock) return Number(clock[1] ?? 0) * 3600 + Number(clock[2]) * 60 + Number(clock[3])
  const parts = s.replace(/,|\band\b/g, ' ').match(/(\d+(?:\.\d+)?)\s*([a-z]+)/g)
  if (!parts) return undefined
  const rest = s.replace(/(\d+(?:\.\d+)?)\s*([a-z]+)/g, '').replace(/,|\band\b/g, '').trim()
  if (rest !== '') return undefined
  let total = 0
  for (const p of parts) {
    const m = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/.exec(p)
    if (!m) return undefined
    const unit = UNITS.find(([re]) => re.test(m[2]!))
    if (!unit) return undefined
    total += Number(m[1]) * unit[1]
  }
  return Math.round(total)
}

/** Renders seconds the way GitLab's job log does ("1h 30m 0s" → "1h30m0s"). */
export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = seconds % 60
  return `${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${s}s`
}
