import { afterEach, describe, expect, it, vi } from 'vitest'
import { expectLinear, growth, LINEAR_BOUND } from './linear-time.js'

// Review of 4422953 (rv16): the soundness of `growth`, on a virtual clock so that the numbers are exact.
// `performance.now()` is replaced by a clock that only the work under test advances: a call of the model
// costs `cost(scale, callIndex)` virtual milliseconds, whatever the machine is doing. The models use the
// costs measured on the real guards. F1 and F2 failed on 4422953 and hold since the mend: a tighter bound
// (TIGHT_BOUND) for quarter-size calls of 20 ms and more, and no early exit.

let clock = 0
afterEach(() => { vi.restoreAllMocks() })
function virtualClock(): void {
  clock = 0
  vi.spyOn(performance, 'now').mockImplementation(() => clock)
}
/** work(scale) for growth: each call advances the virtual clock by cost(scale, n), n counting that size's calls. */
function model(cost: (scale: number, n: number) => number): (scale: number) => () => void {
  return (scale) => { let n = 0; return () => { clock += cost(scale, n++) } }
}

describe('review rv16: growth on a virtual clock', () => {
  it('guard: a purely quadratic cost (16×) is flagged', () => {
    virtualClock()
    expect(() => expectLinear(model((k) => 160 * k * k))).toThrow()
    expect(growth(model((k) => 160 * k * k)).ratio).toBeGreaterThan(LINEAR_BOUND)
  })
  it('guard: linear work with a fixed cost, its full size always 1.5× slower (a busy machine), passes', () => {
    virtualClock()
    expect(() => expectLinear(model((k) => 2 + 100 * k * (k === 1 ? 1.5 : 1)))).not.toThrow()
  })
  it('guard: a quarter-size call slower on its first round only (one pause) does not make linear work fail', () => {
    virtualClock()
    expect(() => expectLinear(model((k, n) => 2 + 100 * k * (k < 1 && n < 2 ? 4 : 1)))).not.toThrow()
  })

  // F23's Ryuk log with the trace reader of 4422953^ (the regression F23 failed on in CI): 125 ms at a
  // quarter, 1215-1274 ms at full, i.e. a linear part of ~400 ms and a quadratic part of ~800 ms at full.
  // The converted F23 passed it locally at 9.75× and 9.69×. A quadratic part must be about 4× the linear
  // work at full size before the ratio of the totals crosses 10.
  it('F1: a quadratic cost twice the linear work it rides on (F23 with the pre-4422953 reader) is flagged', () => {
    virtualClock()
    expect(() => expectLinear(model((k) => 2 + 400 * k + 800 * k * k))).toThrow()
  })

  // The early exit stops once full/small < LINEAR_BOUND / 2, but a later round can only lower `small`
  // (raising the ratio) or `full`: stopping on a low ratio keeps exactly the noise that inflated the
  // quarter-size side. A quadratic pattern (10 ms → 160 ms) whose first two quarter-size spans land in a
  // busy spell (3.5× slower) stops after two rounds at 4.6× and passes.
  it('F2: a quadratic cost whose first two quarter-size spans were slowed by load is still flagged', () => {
    virtualClock()
    // Calls 0 (the warm-up), 1 and 2 of the quarter size: one call per 30 ms span at 35 ms each.
    expect(() => expectLinear(model((k, n) => 160 * k * k * (k < 1 && n <= 2 ? 3.5 : 1)))).toThrow()
  })
})
