import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { BOLD_GREEN, CLEAR, RESET, sectionStart } from '../trace/ansi.js'
import { ChunkLines } from './chunk-lines.js'
import { cleanPiece } from './trace-line.js'

/**
 * The common path must clean every line exactly as the string path (cleanPiece on each `\r`-piece
 * of the raw line) does, or hand it back: a line it got wrong could be a rule's evidence.
 */

const goldens = new URL('../../test/golden/diagnose/', import.meta.url).pathname
const corpus = new URL('../../test/fixtures/diagnose/real/', import.meta.url).pathname
const logs = [
  ...readdirSync(goldens).filter((d) => statSync(join(goldens, d)).isDirectory()).map((d) => readFileSync(join(goldens, d, 'trace.log'), 'utf8')),
  ...readdirSync(corpus).filter((f) => /^\d+.*\.json$/.test(f)).map((f) => (JSON.parse(readFileSync(join(corpus, f), 'utf8')) as { log: string }).log),
]

/** Each line's text by the common path (when it takes it) and by the string path. */
function both(text: string, maxChars = 65_536): { common: string | undefined; reference: string; raw: string }[] {
  const lines = new ChunkLines()
  lines.reset(text)
  const out = []
  while (lines.next()) {
    const raw = lines.line()
    const common = lines.cleaned(maxChars)
    if (common !== undefined) expect(lines.rewrites()).toBe(common.includes('\r'))
    out.push({ common, reference: raw.split('\r').map(cleanPiece).join('\r'), raw })
  }
  return out
}

function expectSame(text: string, maxChars?: number): number {
  const rows = both(text, maxChars)
  expect(rows.map((r) => r.raw)).toEqual(text.split('\n'))
  let common = 0
  for (const r of rows) {
    if (r.common === undefined) continue
    common++
    expect(r.common, JSON.stringify(r.raw)).toBe(r.reference)
  }
  return common
}

describe('ChunkLines', () => {
  it('cleans every line of the golden and real logs as cleanPiece does, most of them on the common path', () => {
    let lines = 0
    let common = 0
    for (const log of logs) {
      lines += log.split('\n').length
      common += expectSame(log)
    }
    expect(common).toBeGreaterThan(lines * 0.9)
  })

  it('takes coloured lines, progress rewrites and markers on the common path', () => {
    const text = [
      `${BOLD_GREEN}$ make${RESET}`,
      `${sectionStart(1, 'step_script')}${CLEAR}${BOLD_GREEN}Executing "step_script" stage of the job script${RESET}`,
      'Downloading layer: [==  ] 50%\rDownloading layer: [====] 100%',
      '  \x1b[32m✓\x1b[0m renders',
      '',
    ].join('\n')
    expect(both(text).map((r) => r.common)).toEqual([
      '$ make', 'section_start:1:step_script\rExecuting "step_script" stage of the job script',
      'Downloading layer: [==  ] 50%\rDownloading layer: [====] 100%', '  ✓ renders', '',
    ])
  })

  it('hands back the lines only the string path cleans right', () => {
    const text = [
      // FF_TIMESTAMPS prefixes, also one that the colours around it hide until they are gone.
      '2024-01-01T00:00:00.000000Z 00O $ make',
      '\x1b[0K2024-01-01T00:00:00Z 01E+ error: x',
      '\x1b[32m2024-01-01T00:00:00.1Z\x1b[0m 02O hello',
      // Escapes other than colours: cursor visibility, a title, a lone ESC.
      '\x1b[?25lerror\x1b[?25h', '\x1b]0;title\x07fatal', 'a\x1bMb',
      // A line longer than the piece limit as read, though short once cleaned.
      `${'\x1b[0m'.repeat(20)}short`,
    ].join('\n')
    expect(both(text, 50).map((r) => r.common)).toEqual(Array(7).fill(undefined))
    expectSame(text, 50)
  })

  it('agrees with the string path on random lines of escapes, timestamps, rewrites and odd characters', () => {
    const parts = ['\x1b[32m', '\x1b[0;m', '\x1b[0K', '\x1b[1Z', '\x1b[', '\x1b', '\x1b[?25l', '\x1b]8;;u\x1b\\', '\r', ' ', 'Z', 'Z ',
      '2024-01-01T00:00:00Z 00O ', '2024-01-01T00:00:00.5Z 0aE+', '2024', '-01', 'T00:00:00', 'error', '\u00a0', '✓', '\ufffd', 'x', '\n']
    let seed = 7
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff
      return seed / 0x7fffffff
    }
    for (let t = 0; t < 300; t++) {
      let text = ''
      for (let i = 0; i < 60; i++) text += parts[Math.floor(random() * parts.length)]
      expectSame(text, 40)
    }
  })
})
