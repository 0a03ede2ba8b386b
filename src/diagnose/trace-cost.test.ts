import { describe, it } from 'vitest'
import { expectLinear, sized } from '../../test/support/linear-time.js'
import { parseTrace } from './trace.js'

describe('parseTrace: cost', () => {
  // A log handed over as one string (explain on a job's trace, the runner's own diagnosis) of 80,000
  // lines and no `\r`: V8's optimised reader looked for the absent `\r` again on every line (2.4 s
  // once warm, 60 ms now). In a file of its own: which code V8 makes depends on what the reader saw
  // before (logs with `\r`, in trace.test.ts, hid it).
  it('reads a long log without carriage returns in linear time, also once warm', () => {
    const log = (pairs: number): string => ['Preparing the "docker" executor', 'Executing "step_script" stage of the job script', '$ ./ci.sh',
      ...Array.from({ length: pairs }, (_, i) => [`step ${i} loss=0.5`, 'Failed to initialize NVML: Unknown Error']).flat(), 'ERROR: Job failed: exit code 1'].join('\n')
    for (const n of [5000, 5000, 10000, 10000]) parseTrace(log(n))
    expectLinear((k) => { const text = log(sized(40_000, k)); return () => parseTrace(text) })
  })
})
