import { describe, expect, it } from 'vitest'
import { TraceWindow } from './trace-window.js'

const bytes = (from: number, n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (from + i) % 251))

describe('TraceWindow', () => {
  it('gives back what was appended, as one view when a PATCH-sized range lies in one block', () => {
    const w = new TraceWindow(16, 64, 4)
    for (let at = 0; at < 40; at += 5) w.append(bytes(at, 5), at)
    expect(w.get(0, 40)).toEqual(bytes(0, 40))
    expect(w.get(16, 16)).toEqual(bytes(16, 16))
    // Blocks end on multiples of 16 (after the first of 4): [16, 32) is a view, not a copy.
    const view = w.get(16, 16)!
    expect(view.buffer).toBe(w.get(20, 4)!.buffer)
    expect(w.get(35, 6)).toBeUndefined() // beyond what it holds
  })

  it('stops taking bytes when full; after the acknowledgements it starts again at the end', () => {
    const w = new TraceWindow(16, 32, 16)
    w.append(bytes(0, 30), 0)
    w.append(bytes(30, 10), 30) // does not fit: the window ends at 32
    expect(w.get(0, 32)).toEqual(bytes(0, 32))
    expect(w.get(30, 10)).toBeUndefined()
    w.append(bytes(40, 5), 40) // not contiguous with the window's end: ignored
    expect(w.get(40, 5)).toBeUndefined()
    w.release(32, 45) // GitLab has [0, 32): both blocks go, the window restarts at 45
    expect(w.get(16, 4)).toBeUndefined()
    w.append(bytes(45, 3), 45)
    expect(w.get(45, 3)).toEqual(bytes(45, 3))
  })

  it('keeps a block GitLab has only part of (a 416 may move the offset back within it)', () => {
    const w = new TraceWindow(16, 64, 16)
    w.append(bytes(0, 20), 0)
    w.release(10, 20)
    expect(w.get(10, 10)).toEqual(bytes(10, 10))
    expect(w.get(0, 10)).toEqual(bytes(0, 10))
    w.release(18, 20) // [0, 16) is whole and acknowledged: let go
    expect(w.get(0, 10)).toBeUndefined()
    expect(w.get(16, 4)).toEqual(bytes(16, 4))
  })
})
