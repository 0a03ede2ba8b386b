import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Masker } from './masker.js'

function run(m: Masker, chunks: (string | Buffer)[]): string {
  return Buffer.concat([...chunks.map((c) => m.write(c)), m.flush()]).toString()
}

/** Splits `text` at the given cut points (any byte positions, even inside UTF-8 characters). */
function cut(text: string, cuts: number[]): Buffer[] {
  const b = Buffer.from(text)
  const at = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y)
  const out: Buffer[] = []
  let prev = 0
  for (const c of at) {
    out.push(b.subarray(prev, c))
    prev = c
  }
  out.push(b.subarray(prev))
  return out
}

describe('Masker', () => {
  it('masks values, longest first, split across writes', () => {
    const m = new Masker(['VALUE', 'VALUE_OTHER', ''], [])
    expect(run(m, ['a VAL', 'UE_OT', 'HER b VALUE c'])).toBe('a [MASKED] b [MASKED] c')
  })

  it('masks token prefixes and URL parameters, keeping the prefix', () => {
    const m = new Masker([])
    expect(run(m, ['token glpat-abc', 'DEF123 and https://x/api?private_token=s3cr3t&page=2\n'])).toBe('token glpat-[MASKED] and https://x/api?private_token=[MASKED]&page=2\n')
  })

  it('passes text without secrets through byte for byte, multibyte and all', () => {
    const m = new Masker(['secret-value'])
    expect(run(m, cut('héllo wörld ✓ \x1b[32;1m$ echo\x1b[0;m\r\n', [3, 4, 9]))).toBe('héllo wörld ✓ \x1b[32;1m$ echo\x1b[0;m\r\n')
  })

  it('property: for any secrets, text and chunking, no secret survives and chunking does not matter', () => {
    const secretArb = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'x', 'é', '\n', '-'), minLength: 2, maxLength: 8 })
    fc.assert(
      fc.property(fc.array(secretArb, { minLength: 1, maxLength: 4 }), fc.array(fc.oneof(secretArb, fc.string({ maxLength: 6 })), { maxLength: 12 }), fc.array(fc.nat(200), { maxLength: 8 }), (secrets, pieces, cuts) => {
        const text = pieces.join('')
        const whole = run(new Masker(secrets, []), [text])
        const chunked = run(new Masker(secrets, []), cut(text, cuts))
        expect(chunked).toBe(whole)
        for (const s of secrets.map((x) => x.trim()).filter(Boolean)) expect(whole.includes(s)).toBe(false)
      }),
      { numRuns: 400 },
    )
  })

  it('property: text that contains no secret is unchanged', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.array(fc.nat(300), { maxLength: 6 }), (text, cuts) => {
        const m = new Masker(['\u0000never\u0000'], [])
        expect(run(m, cut(text, cuts))).toBe(text)
      }),
    )
  })
})
