import { chmodSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { type Zippable, unzipSync, zipSync } from 'fflate'
import { GlrunError } from '../../diagnostics/errors.js'

/**
 * Zip archives as GitLab stores artifacts and caches: entries relative to the project directory,
 * file modes kept (in the external attributes, as zip tools do), symlinks stored as links.
 */
export function writeZip(projectDir: string, files: readonly string[], zipPath: string): number {
  const entries: Zippable = {}
  for (const f of files) {
    const abs = join(projectDir, f)
    const st = lstatSync(abs)
    const isLink = st.isSymbolicLink()
    const data = isLink ? Buffer.from(readlinkSync(abs)) : readFileSync(abs)
    const mode = isLink ? 0o120777 : 0o100000 | (st.mode & 0o777)
    entries[f] = [data, { level: 6, mtime: st.mtime, os: 3, attrs: (mode << 16) >>> 0 }]
  }
  const zipped = zipSync(entries)
  mkdirSync(dirname(zipPath), { recursive: true })
  writeFileSync(zipPath, zipped)
  return zipped.length
}

/** Extracts into `dest`, refusing any entry that would land outside it (zip slip). */
export function extractZip(zipPath: string, dest: string): string[] {
  const root = resolve(dest)
  const data = readFileSync(zipPath)
  const modes = readModes(data)
  const files = unzipSync(data)
  const out: string[] = []
  for (const [name, content] of Object.entries(files)) {
    const target = resolve(root, name)
    const rel = relative(root, target)
    if (rel.startsWith(`..${sep}`) || rel === '..' || resolve(rel) === rel) {
      throw new GlrunError('GLRUN_ZIP_SLIP', `archive ${zipPath} has an entry outside the target directory: ${name}`, { hint: 'The archive was not made by glrun or GitLab; it is refused.' })
    }
    if (name.endsWith('/')) {
      mkdirSync(target, { recursive: true })
      continue
    }
    mkdirSync(dirname(target), { recursive: true })
    rmSync(target, { force: true })
    const mode = modes.get(name)
    if (mode !== undefined && (mode & 0o170000) === 0o120000) {
      symlinkSync(Buffer.from(content).toString(), target)
    } else {
      writeFileSync(target, content)
      if (mode !== undefined && mode & 0o777) chmodSync(target, mode & 0o777)
    }
    out.push(name)
  }
  return out
}

/** Unix modes from the central directory's external attributes (fflate does not expose them). */
function readModes(zip: Buffer): Map<string, number> {
  const modes = new Map<string, number>()
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]))
  if (eocd < 0) return modes
  let p = zip.readUInt32LE(eocd + 16)
  const count = zip.readUInt16LE(eocd + 10)
  for (let i = 0; i < count && zip.readUInt32LE(p) === 0x02014b50; i++) {
    const nameLen = zip.readUInt16LE(p + 28)
    const extraLen = zip.readUInt16LE(p + 30)
    const commentLen = zip.readUInt16LE(p + 32)
    const attrs = zip.readUInt32LE(p + 38)
    const name = zip.subarray(p + 46, p + 46 + nameLen).toString()
    if (attrs >>> 16) modes.set(name, attrs >>> 16)
    p += 46 + nameLen + extraLen + commentLen
  }
  return modes
}
