import { describe, expect, it } from 'vitest'
import { growth, LINEAR_BOUND, sized } from './linear-time.js'

// The helper the quadratic-pattern guards rest on must be able to fail: a pattern that rescans from every
// position is flagged, a single pass is not.
describe('linear-time: growth from a quarter of the input to all of it', () => {
  it('flags a regex that backtracks from every position of a line of blanks', () => {
    const g = growth((k) => { const line = ' '.repeat(sized(20_000, k)); return () => / +y/.test(line) })
    expect(g.ratio, `${g.small.toFixed(1)} ms → ${g.full.toFixed(1)} ms`).toBeGreaterThan(LINEAR_BOUND)
  })
  it('passes a single scan of the same line', () => {
    const g = growth((k) => { const line = ' '.repeat(sized(4_000_000, k)); return () => /y/.test(line) })
    expect(g.ratio, `${g.small.toFixed(1)} ms → ${g.full.toFixed(1)} ms`).toBeLessThan(LINEAR_BOUND)
  })
})
