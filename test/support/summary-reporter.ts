import type { Reporter, TestModule } from 'vitest/node'
import type { UserConsoleLog } from 'vitest'
import { SKIP_MARK } from './docker-env.js'

/**
 * Prints one plain closing line, `tests: N passed, N failed, N skipped`, after vitest's own summary,
 * preceded by the reason of every suite skipped for a missing backend (lines test files print
 * starting with SKIP_MARK, see docker-env.ts). Why: CI tooling reads that line to know how many
 * tests ran, and a skip must not pass unnoticed among hundreds of lines of output.
 */
export default class SummaryReporter implements Reporter {
  /** Skip reason -> the test files skipped for it. */
  private readonly skips = new Map<string, string[]>()

  onUserConsoleLog(log: UserConsoleLog): void {
    for (const line of log.content.split('\n')) {
      const m = line.startsWith(SKIP_MARK) ? /^Docker tests of (\S+): (.*)$/.exec(line.slice(SKIP_MARK.length).trim()) : null
      if (!m) continue
      const files = this.skips.get(m[2]!) ?? []
      if (!files.includes(m[1]!)) files.push(m[1]!)
      this.skips.set(m[2]!, files)
    }
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0
    let failed = 0
    let skipped = 0
    for (const mod of testModules) {
      let failedHere = 0
      for (const test of mod.children.allTests()) {
        const state = test.result().state
        if (state === 'passed') passed++
        else if (state === 'failed') failedHere++
        else skipped++
      }
      // A file that failed with no failed test (a collection error, or a beforeAll that threw,
      // e.g. no Docker engine with CI=true) counts as one failure: its tests did not run.
      failed += failedHere || (mod.state() === 'failed' ? 1 : 0)
    }
    const reasons = [...this.skips].map(([reason, files]) => `\n${SKIP_MARK} Docker tests of ${files.length} file(s) (${files.sort().join(', ')}): ${reason}`).join('')
    process.stdout.write(`${reasons}\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`)
  }
}
