import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { describe, expect, it } from 'vitest'

/** The real `glrun` binary (built by `npm run build`), as a user runs it. */
const bin = new URL('../../bin/glrun.js', import.meta.url).pathname

const ESC = '\x1b'
const preamble = [
  `${ESC}[0KRunning with gitlab-runner 17.5.0 (c6eae8ea)${ESC}[0;m`,
  `section_start:1732010000:prepare_executor\r${ESC}[0K${ESC}[36;1mPreparing the "docker" executor${ESC}[0;m`,
  `${ESC}[0KUsing Docker executor with image docker:24.0.5 ...${ESC}[0;m`,
  `section_end:1732010001:prepare_executor\r${ESC}[0Ksection_start:1732010002:step_script\r${ESC}[0K${ESC}[36;1mExecuting "step_script" stage of the job script${ESC}[0;m`,
  `${ESC}[32;1m$ make -j8 && docker build -t app .${ESC}[0;m`,
  '',
].join('\n')
const block = Array.from({ length: 400 }, (_, i) => `[${String(i % 100).padStart(3)}%] ${ESC}[32mBuilding CXX object src/m_${i}/CMakeFiles/m.dir/f_${i}.cpp.o${ESC}[0m  ✓ 12 ms`).join('\n') + '\n'
const failure = [
  `${ESC}[32;1m$ docker build -t app .${ESC}[0;m`,
  'error during connect: Post "http://docker:2375/v1.24/build?t=app": dial tcp: lookup docker on 10.0.0.2:53: no such host',
  `section_end:1732010003:step_script\r${ESC}[0K${ESC}[31;1mERROR: Job failed: exit code 1${ESC}[0;m`,
  '',
].join('\n')

describe('glrun explain -', () => {
  it('streams a log from stdin: 96 MB through a 40 MB JavaScript heap, the failure at its end diagnosed', async () => {
    // The whole-file reader held the log as one string (and its lines): it cannot fit this heap.
    const child = spawn(process.execPath, ['--max-old-space-size=40', bin, 'explain', '--json', '-'], { stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => err.push(d))
    child.stdin.on('error', () => undefined) // a crashed reader closes the pipe; the exit code says so
    const closed = once(child, 'close')
    const chunk = Buffer.from(block)
    let lines = preamble.split('\n').length - 1
    child.stdin.write(preamble)
    for (let sent = 0; sent < 96 * 1024 * 1024 && child.exitCode === null; sent += chunk.length) {
      lines += 400
      if (!child.stdin.write(chunk)) await Promise.race([once(child.stdin, 'drain'), closed])
    }
    child.stdin.end(failure)
    const [code] = await closed as [number | null]
    expect(Buffer.concat(err).toString()).toBe('')
    expect(code).toBe(0)
    const report = JSON.parse(Buffer.concat(out).toString()) as { phase: string; exit_code: number; diagnoses: { category: string; evidence: { line: number; text: string }[] }[] }
    expect(report).toMatchObject({ phase: 'step_script', exit_code: 1 })
    expect(report.diagnoses[0]?.category).toBe('dind_service_missing')
    // Line numbers count every line read, kept or not.
    expect(report.diagnoses[0]?.evidence.map((e) => e.line)).toContain(lines + 2)
  }, 120_000)
})
