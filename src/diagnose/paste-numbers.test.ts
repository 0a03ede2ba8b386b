import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { top } from '../../test/support/diagnose-log.js'
import { unnumberPaste } from './paste-numbers.js'
import { parseTrace, parseTraceStream } from './trace.js'

// A copy from GitLab's job log page glues each line's number to the line.
const copied = ['checking for deflateCopy in -lz... no', '2608configure: error: Could not find zlib', '2609configure: error: ./configure failed for tools', '2610', '2611ERROR: Job failed: exit code 1']

describe('line numbers a copy from GitLab\'s log page glues on', () => {
  it('are taken off, empty lines included, and the line without one is kept', () => {
    expect(parseTrace(copied.join('\n')).lines.map((l) => l.text)).toEqual(['checking for deflateCopy in -lz... no', 'configure: error: Could not find zlib', 'configure: error: ./configure failed for tools', '', 'ERROR: Job failed: exit code 1'])
    expect(top(copied.join('\n'))?.category).toBe('dev_headers_missing')
  })

  it('a line starting with digits of its own keeps them (a timestamp after the number)', () => {
    expect(unnumberPaste(['41$ date', '422024-05-01T10:00:00Z', '43ERROR: Job failed: exit code 1'])).toEqual(['$ date', '2024-05-01T10:00:00Z', 'ERROR: Job failed: exit code 1'])
  })

  it('then the shared indentation goes too', () => {
    expect(parseTrace(['1320  E: Unable to locate package libfoo-dev', '1321  E: Unable to locate package libbar-dev'].join('\n')).lines.map((l) => l.text)).toEqual(['E: Unable to locate package libfoo-dev', 'E: Unable to locate package libbar-dev'])
  })

  it('the string and the streaming reader read it alike', async () => {
    const text = copied.join('\n')
    const streamed = await parseTraceStream(Readable.from([Buffer.from(text.slice(0, 50)), Buffer.from(text.slice(50))]))
    expect(streamed.lines).toEqual(parseTrace(text).lines)
    expect(streamed.lineCount).toBe(parseTrace(text).lineCount)
  })
})

describe('digits that are not glued line numbers', () => {
  it('a tool\'s own numbered snippet in a longer log', () => {
    const log = ['error[E0308]: mismatched types', ' --> src/main.rs:4:18', '  |', '4 |     let x: u32 = "a";', '  |            ---   ^^^ expected `u32`', 'error: could not compile `demo`']
    expect(unnumberPaste(log)).toBeUndefined()
  })
  it('lines that start with numbers that do not count up by one', () => {
    expect(unnumberPaste(['3 tests failed', '12 passed', '0 skipped'])).toBeUndefined()
  })
  it('a single numbered line', () => {
    expect(unnumberPaste(['2608configure: error: Could not find zlib'])).toBeUndefined()
  })
})
