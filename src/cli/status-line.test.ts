import { describe, expect, it } from 'vitest'
import { StatusLine } from './status-line.js'

describe('status line', () => {
  it('on a terminal: log lines print above a redrawn status line', () => {
    let out = ''
    const s = new StatusLine((x) => { out += x }, 3, true)
    s.start('build')
    s.print('build │ hello')
    s.start('test')
    s.finish('build')
    expect(s.text()).toBe('1/3 jobs done · running: test')
    expect(out).toBe('\r\x1b[2K\x1b[2m0/3 jobs done · running: build\x1b[0m\r\x1b[2Kbuild │ hello\n\r\x1b[2K\x1b[2m0/3 jobs done · running: build\x1b[0m\r\x1b[2K\x1b[2m0/3 jobs done · running: build, test\x1b[0m\r\x1b[2K\x1b[2m1/3 jobs done · running: test\x1b[0m')
  })
  it('off a terminal: only the log lines', () => {
    let out = ''
    const s = new StatusLine((x) => { out += x }, 1, false)
    s.start('a')
    s.print('a │ x')
    s.finish('a')
    expect(out).toBe('a │ x\n')
  })
})
