import { createWriteStream, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import type { Readable } from 'node:stream'
import { finished } from 'node:stream/promises'
import yauzl from 'yauzl'
import yazl from 'yazl'
import { GlrunError } from '../../diagnostics/errors.js'
import { type TarEntry, TarWriter, readSmall, safeName } from '../files/tar-entries.js'

const S_IFMT = 0o170000
const S_IFLNK = 0o120000
const S_IFDIR = 0o040000

/**
 * Zip archives as GitLab stores artifacts and caches, written as a stream: entries relative to
 * the project directory, unix modes in the external attributes (as zip tools keep them),
 * symlinks stored as links, zip64 when an entry or the archive passes 4 GiB.
 */
export class ZipWriter {
  private readonly zip = new yazl.ZipFile()
  private readonly out: ReturnType<typeof createWriteStream>
  private readonly done: Promise<void>
  entries = 0

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true })
    this.out = createWriteStream(path)
    this.zip.outputStream.pipe(this.out)
    this.done = finished(this.out)
  }

  /** Adds one entry; resolves when its content has been read, so the caller can go on. */
  async add(e: TarEntry, content?: Readable): Promise<void> {
    this.entries++
    if (e.kind === 'directory') {
      this.zip.addEmptyDirectory(e.name, { mtime: e.mtime, mode: S_IFDIR | (e.mode & 0o7777) })
    } else if (e.kind === 'symlink') {
      this.zip.addBuffer(Buffer.from(e.linkname ?? ''), e.name, { mtime: e.mtime, mode: S_IFLNK | 0o777, compress: false })
      content?.resume()
    } else if (content) {
      this.zip.addReadStream(content, e.name, { mtime: e.mtime, mode: 0o100000 | (e.mode & 0o7777), size: e.size })
      await finished(content)
    }
  }

  /** Finishes the archive; resolves with its size in bytes. */
  async close(): Promise<number> {
    this.zip.end()
    await this.done
    return this.out.bytesWritten
  }
}

/**
 * A zip archive (an artifact or cache) as a tar stream for JobFiles.put, read entry by entry.
 * Names are checked (absolute, `..`, backslashes: the whole archive is refused, as gitlab-runner
 * refuses it), and only files, directories and symlinks pass.
 */
export async function zipToTar(zipPath: string): Promise<Readable> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(zipPath, { lazyEntries: true, autoClose: true, decodeStrings: true, validateEntrySizes: true }, (err, z) => (err || !z ? reject(refused(zipPath, err)) : resolve(z))))
  const tar = new TarWriter()
  const next = (): void => zip.readEntry()
  zip.on('error', (e: Error) => tar.fail(refused(zipPath, e)))
  zip.on('end', () => tar.finish())
  zip.on('entry', (entry: yauzl.Entry) => {
    void (async () => {
      const name = safeName(entry.fileName)
      const mode = entry.externalFileAttributes >>> 16
      if (name === undefined) throw refused(zipPath, new Error(`entry ${entry.fileName} is outside the target directory`))
      const mtime = entry.getLastModDate()
      if (entry.fileName.endsWith('/') || (mode & S_IFMT) === S_IFDIR) {
        if (name !== '') await tar.add({ name, kind: 'directory', mode: mode & 0o7777 || 0o755, size: 0, mtime })
        return next()
      }
      const content = await new Promise<Readable>((resolve, reject) => zip.openReadStream(entry, (err, s) => (err || !s ? reject(err) : resolve(s))))
      if ((mode & S_IFMT) === S_IFLNK) {
        const target = await readSmall(content, 4096)
        await tar.add({ name, kind: 'symlink', mode: 0o777, size: 0, mtime, linkname: target ?? '' })
      } else if ((mode & S_IFMT) === 0 || (mode & S_IFMT) === 0o100000) {
        await tar.add({ name, kind: 'file', mode: mode & 0o7777 || 0o644, size: entry.uncompressedSize, mtime }, content)
      } else {
        content.resume()
      }
      next()
    })().catch((e: Error) => {
      zip.close()
      tar.fail(e instanceof GlrunError ? e : refused(zipPath, e))
    })
  })
  next()
  return tar.stream
}

function refused(zipPath: string, e: Error | null): GlrunError {
  const why = e?.message ?? 'unreadable'
  return new GlrunError('GLRUN_ZIP_REFUSED', `archive ${zipPath} is refused: ${why}`, {
    hint: /outside|relative path|absolute path|symlink/.test(why) ? 'An entry would land outside the target directory or write through a link; the archive was not made by glrun or GitLab.' : 'The archive is damaged; run the job that makes it again.',
  })
}
