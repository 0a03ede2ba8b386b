import { PassThrough, Readable } from 'node:stream'
import tarStream from 'tar-stream'

/** The entry kinds that cross the job boundary; devices, fifos and hard links never do. */
export type EntryKind = 'file' | 'directory' | 'symlink'

export interface TarEntry {
  /** Relative to the project directory, `/`-separated, no trailing slash. */
  readonly name: string
  readonly kind: EntryKind
  readonly mode: number
  readonly size: number
  readonly mtime: Date
  /** A symlink's target, as written (it is data: never resolved on this machine). */
  readonly linkname?: string
}

/**
 * A name as it may cross the boundary: relative, `/`-separated, without `.` or `..` parts, no NUL.
 * Returns undefined for anything else (the caller refuses the entry). "./a//b/" → "a/b".
 */
export function safeName(raw: string): string | undefined {
  if (raw.includes('\0') || raw.startsWith('/') || raw.includes('\\')) return undefined
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.')
  if (parts.some((p) => p === '..')) return undefined
  return parts.join('/')
}

export function entryKind(type: tarStream.Header['type'] | undefined): EntryKind | undefined {
  if (type === 'file' || type === 'contiguous-file') return 'file'
  if (type === 'directory') return 'directory'
  if (type === 'symlink') return 'symlink'
  return undefined
}

export interface ReadOptions {
  /** Maps each raw name before it is checked (e.g. a container's archive is rooted at the basename). */
  rename?: (raw: string) => string
  /** Called for entries that do not cross the boundary (devices, `..`, absolute names). */
  onRefused?: (raw: string, why: string) => void
}

/**
 * Reads a tar stream entry by entry. `onEntry` gets each entry that crossed the boundary and,
 * for files, its content as a stream that it must consume (or leave: it is drained). One entry
 * at a time, so memory stays flat whatever the archive's size.
 */
export async function readTar(tar: NodeJS.ReadableStream, onEntry: (e: TarEntry, content: Readable) => Promise<void>, opts: ReadOptions = {}): Promise<void> {
  // tar-stream's streams are streamx streams: bridged to Node's at both ends. Names are read as
  // bytes (latin1 maps them one to one) and must be valid UTF-8, or the entry is refused with a
  // reason: a zip entry's name is UTF-8, and a name changed on the way would be a silent loss.
  const extract = tarStream.extract({ filenameEncoding: 'latin1' } as never)
  const input = tar as Readable
  input.on('error', (e) => extract.destroy(e))
  input.pipe(extract as unknown as NodeJS.WritableStream)
  for await (const entry of extract) {
    const h = entry.header
    const kind = entryKind(h.type)
    const utf8Name = fromBytes(h.name)
    const linkname = h.linkname ? fromBytes(h.linkname) : undefined
    if (utf8Name === undefined || linkname === undefined && h.linkname) {
      opts.onRefused?.(Buffer.from(h.name, 'latin1').toString('utf8'), 'its name is not valid UTF-8')
      entry.resume()
      continue
    }
    const raw = opts.rename ? opts.rename(utf8Name) : utf8Name
    const name = safeName(raw)
    if (!kind || name === undefined || (name === '' && kind !== 'directory')) {
      opts.onRefused?.(raw, !kind ? `it is a ${h.type ?? 'unknown'} entry` : 'its name leaves the project directory')
      entry.resume()
      continue
    }
    if (name === '') {
      entry.resume()
      continue
    }
    await onEntry({ name, kind, mode: h.mode ?? 0o644, size: h.size ?? 0, mtime: h.mtime ?? new Date(), ...(linkname ? { linkname } : {}) }, Readable.from(entry))
    // What the consumer left unread is drained: the next entry comes only after this one.
    entry.resume()
  }
}

/**
 * A tar stream written entry by entry, for put(). Names are checked here too: whatever builds
 * the archive (a zip from a store, a cache), nothing outside the project directory is written,
 * and no entry goes below a symlink of the same archive.
 */
export class TarWriter {
  private readonly pack = tarStream.pack()
  readonly stream: Readable = Readable.from(this.pack)
  private readonly links = new Set<string>()

  /** Adds one entry; `content` is required for files and is streamed in. */
  async add(e: TarEntry, content?: Readable): Promise<void> {
    const name = safeName(e.name)
    if (name === undefined || name === '') throw new Error(`refused archive entry "${e.name}": its name leaves the project directory`)
    const parts = name.split('/')
    for (let i = 1; i < parts.length; i++) {
      if (this.links.has(parts.slice(0, i).join('/'))) throw new Error(`refused archive entry "${e.name}": it would be written through the symlink ${parts.slice(0, i).join('/')}`)
    }
    if (e.kind === 'symlink') this.links.add(name)
    const header: Partial<tarStream.Header> & { name: string } = { name, mode: e.mode & 0o7777, mtime: e.mtime, type: e.kind, ...(e.kind === 'file' ? { size: e.size } : {}), ...(e.kind === 'symlink' ? { linkname: e.linkname ?? '' } : {}) }
    await new Promise<void>((resolve, reject) => {
      const sink = this.pack.entry(header, (err) => (err ? reject(err) : resolve()))
      if (e.kind === 'file' && content) {
        content.on('error', reject)
        content.pipe(sink as unknown as NodeJS.WritableStream)
      } else sink.end(undefined as never)
    })
  }

  finish(): void {
    this.pack.finalize()
  }

  fail(e: Error): void {
    this.pack.destroy(e)
  }
}

/** A name read as latin1 (its bytes) as the UTF-8 text it is, or undefined when it is not UTF-8. */
function fromBytes(latin1: string): string | undefined {
  const bytes = Buffer.from(latin1, 'latin1')
  const text = bytes.toString('utf8')
  return Buffer.from(text, 'utf8').equals(bytes) ? text : undefined
}

/** Collects a stream into a string, refusing more than `max` bytes (dotenv reports, small files). */
export async function readSmall(content: Readable, max: number): Promise<string | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  // Read to the end either way: the archive's next entry comes only after this one is drained.
  for await (const c of content) {
    size += (c as Buffer).length
    if (size <= max) chunks.push(c as Buffer)
  }
  return size > max ? undefined : Buffer.concat(chunks).toString('utf8')
}

/** An empty stream, for executors to return when nothing matched. */
export function emptyStream(): Readable {
  const p = new PassThrough()
  p.end()
  return p
}
