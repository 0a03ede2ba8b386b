import { describe, expect, it } from 'vitest'
import { cats, step, top } from '../../test/support/diagnose-log.js'

// config.ts keyboardInterrupt(): a keyboard interrupt in a CI job came from the runner stopping it.

const traceback = ['Traceback (most recent call last):', '  File "ci/run.py", line 432, in <module>', '    proc.wait()', 'KeyboardInterrupt']

describe('a keyboard interrupt in a CI job', () => {
  it('Python\'s KeyboardInterrupt at the end: the job\'s timeout first, a cancel second', () => {
    const log = step('$ python ci/run.py', 'Start  84: test_midbus', ...traceback)
    expect(cats(log).slice(0, 2)).toEqual(['job_timeout', 'job_canceled'])
    expect(top(log)?.confidence).toBeLessThan(0.6)
  })
  it('a shell\'s ^C echo', () => {
    expect(top(step('$ ./run-tests.sh', 'running suite 12/40', '^C'))?.category).toBe('job_timeout')
  })
  it('not when the runner says it was the timeout (that answer is surer)', () => {
    const d = top(step('$ python ci/run.py', ...traceback, 'ERROR: Job failed: execution took longer than 1h0m0s seconds'))
    expect(d?.category).toBe('job_timeout')
    expect(d?.confidence).toBeGreaterThan(0.8)
  })
  it('not when the job says it was canceled', () => {
    expect(cats(['$ python ci/run.py', ...traceback, 'WARNING: script canceled externally (UI, API)'].join('\n'))[0]).toBe('job_canceled')
  })
  it('not for an interrupt long before the end (a tool that caught it and went on)', () => {
    const later = Array.from({ length: 30 }, (_, i) => `test ${i} ... ok`)
    expect(cats(step('$ python ci/run.py', ...traceback, ...later, 'FAILED test_orders.py::test_total'))).not.toContain('job_timeout')
  })
  it('not for ^C inside a line', () => {
    expect(cats(step('$ grep -c "^C" data.txt', 'grep: pattern ^C matched 0 lines'))).not.toContain('job_timeout')
  })
})
