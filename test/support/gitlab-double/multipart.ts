import type { Readable } from 'node:stream'

export interface PartHeader {
  name: string
  filename: string | null
  contentType: string | null
}

/** Receives one part's bytes; `data` may return a promise to apply back-pressure. */
export interface PartSink {
  data(chunk: Buffer): void | Promise<void>
  end(): void | Promise<void>
}

export class MultipartError extends Error {}

/** The boundary of a `multipart/form-data` content type, or null. */
export function boundaryOf(contentType: string | undefined): string | null {
  if (!contentType || !/^multipart\/form-data\b/i.test(contentType)) return null
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType)
  return m ? (m[1] ?? m[2] ?? null) : null
}

/**
 * A streaming `multipart/form-data` reader (RFC 7578): part bodies go to the sink as they
 * arrive, so a large artifact is never held in memory; only a delimiter-sized tail is kept
 * between chunks. Throws MultipartError on a malformed body.
 */
export async function readMultipart(body: Readable, boundary: string, onPart: (h: PartHeader) => PartSink, onBytes: (n: number) => void): Promise<void> {
  const first = Buffer.from(`--${boundary}`)
  const delimiter = Buffer.from(`\r\n--${boundary}`)
  let buf: Buffer = Buffer.alloc(0)
  let phase: 'preamble' | 'headers' | 'body' | 'after-delimiter' | 'done' = 'preamble'
  let sink: PartSink | null = null

  for await (const chunk of body) {
    onBytes((chunk as Buffer).length)
    if (phase === 'done') continue
    buf = buf.length ? Buffer.concat([buf, chunk as Buffer]) : (chunk as Buffer)
    for (;;) {
      if (phase === 'preamble') {
        const at = buf.indexOf(first)
        if (at < 0) break
        buf = buf.subarray(at + first.length)
        phase = 'after-delimiter'
      } else if (phase === 'after-delimiter') {
        if (buf.length < 2) break
        const two = buf.subarray(0, 2).toString('latin1')
        if (two === '--') {
          phase = 'done'
          break
        }
        if (two !== '\r\n') throw new MultipartError('malformed multipart body: bad delimiter line')
        buf = buf.subarray(2)
        phase = 'headers'
      } else if (phase === 'headers') {
        const end = buf.indexOf('\r\n\r\n')
        if (end < 0) {
          if (buf.length > 16 * 1024) throw new MultipartError('malformed multipart body: part headers too long')
          break
        }
        sink = onPart(parseHeaders(buf.subarray(0, end).toString('utf8')))
        buf = buf.subarray(end + 4)
        phase = 'body'
      } else if (phase === 'body') {
        const at = buf.indexOf(delimiter)
        if (at < 0) {
          // Keep a tail that could be the start of the delimiter.
          const safe = buf.length - (delimiter.length - 1)
          if (safe > 0) {
            await sink!.data(buf.subarray(0, safe))
            buf = buf.subarray(safe)
          }
          break
        }
        if (at > 0) await sink!.data(buf.subarray(0, at))
        await sink!.end()
        sink = null
        buf = buf.subarray(at + delimiter.length)
        phase = 'after-delimiter'
      } else {
        break
      }
    }
  }
  if (phase !== 'done') throw new MultipartError('malformed multipart body: no closing delimiter')
}

function parseHeaders(text: string): PartHeader {
  let name: string | null = null
  let filename: string | null = null
  let contentType: string | null = null
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon < 0) continue
    const key = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    if (key === 'content-type') contentType = value
    if (key !== 'content-disposition') continue
    name = /\bname="([^"]*)"/i.exec(value)?.[1] ?? null
    filename = /\bfilename="([^"]*)"/i.exec(value)?.[1] ?? null
  }
  if (name === null) throw new MultipartError('malformed multipart body: a part has no name')
  return { name, filename, contentType }
}
