/**
 * The first byte where `bytes` stops being UTF-8, with libyaml's words for what is wrong (Psych,
 * GitLab's YAML reader, is libyaml): a stray continuation byte, a sequence cut short, an overlong
 * encoding, or a surrogate / out-of-range code point.
 */
export function invalidUtf8(bytes: Uint8Array): { offset: number; problem: string } | undefined {
  let i = 0
  const n = bytes.length
  while (i < n) {
    const b = bytes[i]!
    if (b < 0x80) {
      i++
      continue
    }
    const width = (b & 0xe0) === 0xc0 ? 2 : (b & 0xf0) === 0xe0 ? 3 : (b & 0xf8) === 0xf0 ? 4 : 0
    if (width === 0) return { offset: i, problem: 'invalid leading UTF-8 octet' }
    if (i + width > n) return { offset: i, problem: 'incomplete UTF-8 octet sequence' }
    let cp = width === 2 ? b & 0x1f : width === 3 ? b & 0x0f : b & 0x07
    for (let k = 1; k < width; k++) {
      const c = bytes[i + k]!
      if ((c & 0xc0) !== 0x80) return { offset: i, problem: 'invalid trailing UTF-8 octet' }
      cp = (cp << 6) | (c & 0x3f)
    }
    const min = width === 2 ? 0x80 : width === 3 ? 0x800 : 0x10000
    if (cp < min) return { offset: i, problem: 'invalid length of a UTF-8 sequence' }
    if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return { offset: i, problem: 'invalid Unicode character' }
    i += width
  }
  return undefined
}

/**
 * The first character YAML (and so Psych) does not allow in a stream: C0 controls other than tab,
 * LF and CR (NUL included), DEL, C1 controls other than NEL, lone surrogates, U+FFFE and U+FFFF.
 */
const NOT_PRINTABLE = /[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u

export function firstControlCharacter(text: string): { index: number; codePoint: number } | undefined {
  const m = NOT_PRINTABLE.exec(text)
  return m ? { index: m.index, codePoint: m[0].codePointAt(0)! } : undefined
}
