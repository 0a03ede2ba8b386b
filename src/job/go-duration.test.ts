import { describe, expect, it } from 'vitest'
import { formatGoDuration, parseGoDuration } from './go-duration.js'

describe('Go durations', () => {
  it.each([['10s', 10_000], ['1h30m', 5_400_000], ['1.5h', 5_400_000], ['500ms', 500], ['2m3s', 123_000], ['0', 0]])('parses %s', (t, ms) => expect(parseGoDuration(t)).toBe(ms))
  it.each(['', '10', '1 h', 'abc', '5d', '-1s'])('refuses %j', (t) => expect(parseGoDuration(t)).toBeUndefined())
  it('formats as time.Duration.String()', () => {
    expect(formatGoDuration(3600)).toBe('1h0m0s')
    expect(formatGoDuration(6)).toBe('6s')
    expect(formatGoDuration(125)).toBe('2m5s')
  })
})
