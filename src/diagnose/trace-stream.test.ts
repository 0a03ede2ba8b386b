import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'smol-toml'
import { describe, expect, it } from 'vitest'
import { BOLD_GREEN, CLEAR, RESET, YELLOW, sectionEnd, sectionStart } from '../trace/ansi.js'
import { diagnose, reportJson } from './engine.js'
import { type ParsedTrace, parseTrace, parseTraceStream } from './trace.js'
import { type ReaderLimits, STREAM_LIMITS } from './reader-limits.js'
import { TraceReader } from './trace-reader.js'
import type { Evidence, ProbeResult } from './types.js'

/**
 * The streaming reader keeps a subset of a long log; diagnosing that subset must say what
 * diagnosing the whole log says. Each golden trace is buried in about a megabyte of build output
 * (before it, past the always-kept head, and between its halves, longer than the tail window),
 * streamed in odd-sized byte chunks that split UTF-8 characters and CRLF pairs, and diagnosed
 * both ways.
 */

const goldens = new URL('../../test/golden/diagnose/', import.meta.url).pathname
const cases = readdirSync(goldens).filter((d) => statSync(join(goldens, d)).isDirectory()).sort()

/** Build output as CI jobs print it: colours, `\r` progress bars, collapsible sections, URLs, warnings, non-ASCII. */
function buildOutput(lines: number, seed: number): string {
  const out: string[] = []
  for (let i = 0; out.length < lines; i++) {
    const n = seed * 100_000 + i
    if (i % 500 === 0) out.push(`${sectionStart(1_700_000_000 + n, `part_${n}`, 'collapsed=true')}${BOLD_GREEN}Building part ${n}${RESET}`)
    out.push(`[${String(i % 100).padStart(3)}%] ${CLEAR}\x1b[32mBuilding CXX object src/mod_${n % 97}/CMakeFiles/mod.dir/f_${n}.cpp.o${RESET}`)
    out.push(`  \x1b[32m✓\x1b[0m suite ${n % 53} › renders item ${i} with props {"id": ${n}} (${i % 9} ms)`)
    if (i % 20 === 0) out.push(`npm http fetch GET 200 https://registry.npmjs.org/pkg-${n % 331}/-/pkg-${n % 331}-1.0.${i}.tgz ${n % 400}ms (cache miss)`)
    if (i % 25 === 0) out.push(`Downloading layer ${n.toString(16)}: [====      ] 40%\rDownloading layer ${n.toString(16)}: [==========] 100%`)
    if (i % 37 === 0) out.push(`src/mod_${n % 97}/f_${n}.cpp:${i}:7: ${YELLOW}warning:${RESET} unused variable 'tmp' [-Wunused-variable]\r`)
    if (i % 500 === 499) out.push(sectionEnd(1_700_000_000 + n, `part_${n - 499}`))
  }
  return out.join('\n')
}

const before = buildOutput(STREAM_LIMITS.headLines + 300, 1)
const between = buildOutput(STREAM_LIMITS.tailLines * 3, 2)

/** The golden log with build output before it and between its halves (CRLF kept where the golden uses it). */
function bury(log: string): string {
  const lines = log.split('\n')
  const half = Math.floor(lines.length / 2)
  return [before, ...lines.slice(0, half), between, ...lines.slice(half)].join('\n')
}

async function* chunks(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size)
}

interface Meta { executor?: string; config?: string; ci?: string; probes?: ProbeResult[] }

function evidence(dir: string, trace: ParsedTrace): Evidence {
  const metaPath = join(dir, 'meta.json')
  const meta = (statSync(metaPath, { throwIfNoEntry: false }) ? JSON.parse(readFileSync(metaPath, 'utf8')) : {}) as Meta
  return {
    trace,
    ...(meta.executor ? { executor: meta.executor } : {}),
    ...(meta.config ? { config: parse(readFileSync(join(dir, meta.config), 'utf8')) } : {}),
    ...(meta.ci ? { ciYaml: readFileSync(join(dir, meta.ci), 'utf8') } : {}),
    ...(meta.probes ? { probes: meta.probes } : {}),
  }
}

describe('parseTraceStream', () => {
  it.each(cases)('diagnoses %s buried in build output as the whole-log parse does', async (name) => {
    const dir = join(goldens, name)
    const log = bury(readFileSync(join(dir, 'trace.log'), 'utf8'))
    const whole = parseTrace(log)
    const streamed = await parseTraceStream(chunks(Buffer.from(log), 7_919))
    // The streamed parse really left lines out, and counted them all.
    expect(streamed.lines.length).toBeLessThan(whole.lines.length * 0.6)
    expect(streamed.lineCount).toBe(whole.lines.length)
    expect({ ...streamed, lines: [] }).toEqual({ ...whole, lines: [] })
    expect(reportJson(diagnose(evidence(dir, streamed)))).toEqual(reportJson(diagnose(evidence(dir, whole))))
  })

  it('keeps every kept line exactly as the whole-log parse has it', async () => {
    const log = bury(readFileSync(join(goldens, 'dind_service_missing', 'trace.log'), 'utf8'))
    const whole = parseTrace(log)
    const streamed = await parseTraceStream(chunks(Buffer.from(log), 4_096))
    for (const l of streamed.lines) expect(l).toEqual(whole.lines[l.n - 1])
    // The failure at the end and the runner's preamble (past the head, in the middle) are kept.
    const texts = streamed.lines.map((l) => l.text)
    expect(texts).toContain('Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?')
    expect(texts).toContain('Using Docker executor with image docker:24.0.5 ...')
  })

  it('decodes a line of megabytes split mid-character across chunks, and cuts it to the piece limit', async () => {
    const long = `${'é✓x'.repeat(400_000)}\r${'ü'.repeat(10)}`
    const log = `start\n${long}\n${long.slice(0, 1_000_001)}`
    const bytes = Buffer.from(log)
    expect(await parseTraceStream(chunks(bytes, 65_531), { ...STREAM_LIMITS, pieceChars: Infinity })).toEqual(parseTrace(log))
    const cut = await parseTraceStream(chunks(bytes, 65_531))
    expect(cut.lines.map((l) => l.text.length)).toEqual([5, 10, STREAM_LIMITS.pieceChars])
  })

  it('reads a log with no newline at all, and an empty one, as the whole-log parse does', async () => {
    for (const log of ['', '\n', 'ERROR: Job failed: exit code 3', 'a\r\nb\r\n', 'x\ry\r']) {
      expect(await parseTraceStream(chunks(Buffer.from(log), 1))).toEqual(parseTrace(log))
    }
  })

  it('reads random logs of colours, other escapes, timestamps, rewrites, markers and broken UTF-8 as the string reader does', async () => {
    const parts = ['\x1b[32;1m', '\x1b[0;m', '\x1b[0K', '\x1b[1Z', '\x1b[?25l', '\x1b]0;t\x07', '\x1b', '\r', '\r\n', '\n', '\n', '\n', ' ', '\u00a0',
      '✓', 'Z ', '2024-01-01T00:00:00.5Z 00O ', '2024-01-01T00:00:00Z 0aE+', 'error: x', '$ make', 'Job failed: exit code 3', 'ERROR: Job failed: exit status 2',
      'Job succeeded', sectionStart(1, 'step_script'), sectionEnd(2, 'step_script'), sectionStart(3, 'part', 'collapsed=true'), sectionEnd(4, 'part'),
      'Getting source from Git repository', 'Running after_script', 'Building CXX object src/a.cpp.o', 'x'.repeat(70)]
    const broken = [Buffer.from([0xe2]), Buffer.from([0x9c, 0x93]), Buffer.from([0xff])]
    const small: ReaderLimits = { headLines: 5, tailLines: 20, tailChars: 600, context: 2, middleLines: 30, middleChars: 900, pieceChars: 64, userSections: 3 }
    let seed = 11
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff
      return seed / 0x7fffffff
    }
    for (let t = 0; t < 150; t++) {
      const bytes: Buffer[] = []
      for (let i = 0; i < 400; i++) bytes.push(random() < 0.03 ? broken[i % 3] as Buffer : Buffer.from(parts[Math.floor(random() * parts.length)] as string))
      const log = Buffer.concat(bytes)
      for (const limits of [small, { ...STREAM_LIMITS, pieceChars: 64 }]) {
        const reader = new TraceReader(limits)
        reader.push(log.toString('utf8'))
        const byString = reader.end()
        for (const size of [log.length, 4_096, 97]) expect(await parseTraceStream(chunks(log, size), limits)).toEqual(byString)
      }
    }
  })
})
