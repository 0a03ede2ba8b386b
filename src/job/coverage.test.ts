import { describe, expect, it } from 'vitest'
import { extractCoverage } from './coverage.js'

const log = (...lines: string[]): string => `${lines.join('\n')}\n`

describe('extractCoverage (GitLab Trace::Stream#extract_coverage)', () => {
  it('takes the last matching line of the log', () => {
    expect(extractCoverage(log('Coverage: 50%', 'tests ok', 'Coverage: 80%', 'done'), '/Coverage: (\\d+)%/')).toBe('80')
  })
  it('on one line, the last match; of it, the last group', () => {
    expect(extractCoverage(log('lines 10% branches 20%'), '/(\\d+)%/')).toBe('20')
    expect(extractCoverage(log('Lines: 91% Branches: 77%'), '/(Lines|Branches): (\\d+)%/')).toBe('77')
  })
  it('without a group, the first number in the whole match, as written', () => {
    expect(extractCoverage(log('Code coverage: 85.50 (of 120 lines)'), '/Code coverage: \\d+\\.\\d+/')).toBe('85.50')
    expect(extractCoverage(log('TOTAL    1200    96    92.0%'), '/TOTAL.*? (\\d+(?:\\.\\d+)?%)$/')).toBe('92.0')
  })
  it('skips a match that holds no number and looks further up', () => {
    expect(extractCoverage(log('Total: 75%', 'Total: n/a'), '/Total: (\\S+)/')).toBe('75')
  })
  it('uses RE2 syntax, so (?i) works', () => {
    expect(extractCoverage(log('TOTAL 64%'), '/(?i)total (\\d+)%/')).toBe('64')
  })
  it('no match, an empty or invalid pattern: no coverage', () => {
    expect(extractCoverage(log('nothing here'), '/Coverage: (\\d+)%/')).toBeUndefined()
    expect(extractCoverage(log('Coverage: 5%'), '//')).toBeUndefined()
    expect(extractCoverage(log('Coverage: 5%'), '/(?<=Coverage: )\\d+/')).toBeUndefined()
  })
  it('stores the pattern without its first and last character, so trailing flags do not work', () => {
    expect(extractCoverage(log('Total: 85%'), '/Total: (\\d+)%/i')).toBeUndefined()
  })
  it('strips line endings (CRLF too) and the runner timestamp header when the log has one', () => {
    expect(extractCoverage('Coverage: 85%\r\nbye\r\n', '/^Coverage: (\\d+)%$/')).toBe('85')
    const stamped = log('2026-01-02T03:04:05.123456Z 00O Running with gitlab-runner', '2026-01-02T03:04:05.223456Z 01O Coverage: 72%')
    expect(extractCoverage(stamped, '/^Coverage: (\\d+)%$/')).toBe('72')
    expect(extractCoverage(log('x 2026-01-02T03:04:05.123456Z 00O +', 'Coverage: 72%'), '/^Coverage: (\\d+)%$/')).toBeUndefined()
  })
  it('matches the log as stored: ANSI colour codes are not removed', () => {
    expect(extractCoverage(log('\u001b[32mTotal: 85%\u001b[0m'), '/Total: (\\d+)%/')).toBe('85')
    expect(extractCoverage(log('Total: \u001b[1m85%\u001b[0m'), '/Total: (\\d+)%/')).toBeUndefined()
  })
  it('when the last group took no part in the last match, GitLab gives no coverage at all', () => {
    expect(extractCoverage(log('Coverage: 70%', 'Total: 85%'), '/Total: (\\d+)%|Coverage: (\\d+)%/')).toBeUndefined()
    expect(extractCoverage(log('Total: 85%', 'Coverage: 70%'), '/Total: (\\d+)%|Coverage: (\\d+)%/')).toBe('70')
  })
})
