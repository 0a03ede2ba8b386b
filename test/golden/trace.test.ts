import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { ShellExecutor } from '../../src/executors/shell/shell-executor.js'
import { localStores } from '../../src/job/artifacts/stores.js'
import { runJob } from '../../src/job/run-job.js'
import { Masker } from '../../src/trace/masker.js'
import { MemorySink } from '../../src/trace/sinks/memory-sink.js'
import { TraceWriter } from '../../src/trace/trace-writer.js'
import { payload } from '../conformance/executor-conformance.js'

/**
 * Trace golden: the job log of a known job, byte for byte as GitLab writes it (sections,
 * colours, `$ command` echo, WARNING/ERROR lines), once the machine-specific parts (host name,
 * temp paths) are normalised. Timestamps come from a fixed clock. UPDATE_GOLDEN=1 rewrites it.
 */
const dir = mkdtempSync(join(tmpdir(), 'glrun-trace-golden-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

it('trace of a failing job with after_script matches GitLab\'s format', async () => {
  const sink = new MemorySink()
  let t = 1700000000
  const trace = new TraceWriter({ masker: new Masker(['hunter2-secret']), sinks: [sink], now: () => t++ })
  const job = payload(['echo "hello"', 'echo "the password is hunter2-secret"', 'exit 3'], ['echo "cleanup $CI_JOB_STATUS"'])
  await runJob({ job, executor: new ShellExecutor(), trace, buildsDir: join(dir, 'builds'), ...localStores(join(dir, 'store')), signal: new AbortController().signal, now: () => t })
  await trace.close()
  const actual = sink.text().replaceAll(dir, '<tmp>').replace(/(on |Running on )[^ .\n]+/g, '$1<host>')
  const golden = new URL('./trace/failing-job.log', import.meta.url).pathname
  if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(golden)) writeFileSync(golden, actual)
  expect(actual).toBe(readFileSync(golden, 'utf8'))
})
