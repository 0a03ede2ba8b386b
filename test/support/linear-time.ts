import { expect } from 'vitest'

/**
 * Guards against quadratic work (a regex that backtracks from every position of a long line, a rule
 * that rereads the log for each repeated hit) without a wall-clock bound.
 *
 * A bound in milliseconds measures the machine as much as the code: CI runs the suite on two cores shared
 * with a Docker engine and other test files, and stop 24's run failed a guard at 1647 ms against 1500,
 * on a quadratic cost of the trace reader that only showed once V8 had optimised it. What a
 * quadratic pattern changes is how the cost grows with the input, and that does not depend on how busy
 * the machine is. So the same work is timed at a quarter of its size and at its full size: a linear scan
 * grows about 4×, a quadratic one about 16×. Each size keeps the fastest of seven runs, taken in turns
 * so that both sizes see the same spells of load, and one pause of the machine (a GC, another process)
 * inflates neither side. All seven always run: stopping early on a low ratio would keep exactly the
 * noise that slowed the quarter-size runs (review rv16).
 *
 * `work(scale)` builds the input for a size factor (0.25 or 1) and returns the call to time; the input
 * is built before the clock starts. The call must redo its work each time: where the code under test
 * keeps results (ci-facts.ts the last YAML, Scan.of per Evidence), give it a new input per call.
 *
 * Time the narrowest work that holds the pattern, sized so that a quadratic version of it would outweigh
 * the call's fixed and linear parts even at a quarter of the size. Keep big inputs of many small objects
 * (a log of many lines) within the CPU's caches: from about 8,000 lines a Scan's arrays outgrow them, and
 * even a plain filter grows 5-7× from a quarter to all (review rv16, F23). A long single line does not
 * have that problem.
 */
export function growth(work: (scale: number) => () => void, runs = 7): { ratio: number; small: number; full: number; bound: number } {
  const quarter = work(0.25)
  const whole = work(1)
  quarter() // compiled and warmed before either is timed
  let small = Infinity
  let full = Infinity
  for (let i = 0; i < runs; i++) {
    small = Math.min(small, time(quarter))
    full = Math.min(full, time(whole))
  }
  return { ratio: full / Math.max(small, MIN_MS), small, full, bound: small >= STEADY_MS ? TIGHT_BOUND : LINEAR_BOUND }
}

/** Between linear growth (4) and quadratic growth (16), with room for a noisy quarter-size run. */
export const LINEAR_BOUND = 10
/**
 * The bound when a quarter-size call takes STEADY_MS or more. A quadratic part riding on linear work only
 * shows in the totals when the bound is tight: with 10 it had to be about four times the linear work at
 * full size (a 1.2 s regression of the trace reader, timed inside the whole engine, passed at 9.7×:
 * review rv16); with 7, half of it. Calls that long are timed with less noise, but not none: a guard
 * that parses YAML (a 74 ms quarter, mostly allocation) grew 6.8× with both cores loaded. So the tight
 * bound starts at 100 ms, and the guards time the narrowest work that holds the pattern (one rule's
 * match on a trace read before the clock starts, the reader on its own) rather than the whole engine:
 * none of them is that slow today.
 */
export const TIGHT_BOUND = 7
const STEADY_MS = 100
/** Below timer noise a ratio means nothing: a quarter-size call under this many milliseconds counts as this. */
const MIN_MS = 0.05

export function expectLinear(work: (scale: number) => () => void, what = ''): void {
  const g = growth(work)
  expect(g.ratio, `${what} grew ${g.ratio.toFixed(1)}× from a quarter of the input (${g.small.toFixed(1)} ms) to all of it (${g.full.toFixed(1)} ms)`).toBeLessThan(g.bound)
}

/** `n` scaled, at least 1: the repeat count of a line, the length of a run of blanks. */
export const sized = (n: number, scale: number): number => Math.max(1, Math.round(n * scale))

/**
 * Milliseconds per call, over calls repeated for at least SPAN_MS: a call of a few milliseconds is
 * otherwise at the mercy of the scheduler's time slices on a busy machine, a span of calls shares
 * the machine as the other size's span does.
 */
function time(f: () => void): number {
  const t0 = performance.now()
  let calls = 0
  let now = t0
  do {
    f()
    calls++
    now = performance.now()
  } while (now - t0 < SPAN_MS)
  return (now - t0) / calls
}

const SPAN_MS = 30
