import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, type Stats } from 'node:fs'
import { relative, sep } from 'node:path'
import { GlrunError } from '../diagnostics/errors.js'
import { invalidUtf8 } from './utf8.js'

/**
 * The most glrun reads of one pipeline file (or variables file, Dockerfile, …). GitLab limits a
 * file's *parsed* size to 2 MiB (`max_yaml_size_bytes`), which comments do not count towards, so
 * the read limit is twice that: every file GitLab could accept fits, and `/dev/zero` cannot
 * take the machine's memory.
 */
export const MAX_SOURCE_BYTES = 4 * 1024 * 1024

export interface ReadSourceOptions {
  /** The name shown in errors (relative to the project where possible). */
  readonly display: string
  /** When given, the file's real path (symlinks resolved) must be inside this directory. */
  readonly root?: string
  readonly maxBytes?: number
}

/**
 * Reads a text file a repository provides, which glrun must treat as hostile: the real path must
 * stay inside `root` (a symlink to /etc/shadow is refused before a byte of it is read), only a
 * regular file is read (a directory, FIFO, socket or device is refused after fstat on a
 * non-blocking descriptor, so a FIFO cannot block glrun), at most `maxBytes` are read, and the
 * bytes must be UTF-8 (Psych's rule; the error gives the place). Errors are GlrunErrors.
 */
export function readSourceFile(path: string, opts: ReadSourceOptions): string {
  const { display } = opts
  const max = opts.maxBytes ?? MAX_SOURCE_BYTES
  let real: string
  try {
    real = realpathSync(path)
  } catch (e) {
    throw unreadable(display, e)
  }
  if (opts.root !== undefined) {
    const r = relative(realpathSync(opts.root), real)
    if (r === '..' || r.startsWith(`..${sep}`) || r.startsWith(sep)) {
      throw new GlrunError('GLRUN_FILE_OUTSIDE_PROJECT', `${display} leads outside the project (it is a symlink to a file elsewhere on this machine)`, {
        hint: 'A pipeline file must be a regular file of this repository; glrun does not follow symlinks out of it. Replace the symlink with the file itself.',
      })
    }
  }
  let fd: number
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOFOLLOW: the path was just
    // resolved, so a symlink here means it was swapped in since.
    fd = openSync(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW)
  } catch (e) {
    throw unreadable(display, e)
  }
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) {
      throw new GlrunError('GLRUN_FILE_NOT_REGULAR', `${display} is ${kindOf(st)}, not a regular file`, {
        hint: 'Point glrun at a YAML file; pipeline files and includes must be regular files of the repository.',
      })
    }
    if (st.size > max) throw tooLarge(display, st.size, max)
    const buf = Buffer.alloc(Math.min(st.size, max) + 1)
    let len = 0
    // The file may grow while it is read: read one byte past the limit to notice.
    for (;;) {
      if (len === buf.length) break
      const n = readSync(fd, buf, len, buf.length - len, null)
      if (n === 0) break
      len += n
    }
    if (len > max) throw tooLarge(display, undefined, max)
    return decodeUtf8(buf.subarray(0, len), display)
  } finally {
    closeSync(fd)
  }
}

/** UTF-8 bytes → text, or a GLRUN_YAML_ENCODING error at the first bad byte (a leading BOM is dropped). */
export function decodeUtf8(bytes: Buffer, display: string): string {
  const bad = invalidUtf8(bytes)
  if (bad) {
    const before = bytes.subarray(0, bad.offset).toString('utf8')
    const line = before.split('\n').length
    const col = before.length - before.lastIndexOf('\n')
    throw new GlrunError('GLRUN_YAML_ENCODING', `${display} is not valid YAML: ${bad.problem} (byte 0x${bytes[bad.offset]!.toString(16).padStart(2, '0')})`, {
      where: { file: display, line, col },
      hint: 'GitLab reads pipeline files as UTF-8; save the file as UTF-8 (convert it with `iconv -f LATIN1 -t UTF-8` or your editor).',
    })
  }
  const text = bytes.toString('utf8')
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
}

/** `size` is undefined when the file grew past the limit while it was read. */
function tooLarge(display: string, size: number | undefined, max: number): GlrunError {
  return new GlrunError('GLRUN_FILE_TOO_LARGE', `${display} is too big: ${size ?? `more than ${max}`} bytes, over the ${max / 1024 / 1024} MiB glrun reads of one file`, {
    hint: 'GitLab refuses a pipeline file whose parsed YAML exceeds 2 MiB ("The parsed YAML is too big"); split it with `include:`.',
  })
}

function unreadable(display: string, e: unknown): GlrunError {
  const code = (e as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return new GlrunError('GLRUN_FILE_MISSING', `${display} does not exist`, { hint: 'Check the path (or the symlink\'s target).' })
  if (code === 'ELOOP') return new GlrunError('GLRUN_FILE_NOT_REGULAR', `${display} is a symlink loop`, { hint: 'Replace the symlink with the file itself.' })
  return new GlrunError('GLRUN_FILE_UNREADABLE', `${display} cannot be read (${code ?? 'error'})`, { hint: 'Check the file\'s permissions.' })
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory'
  if (st.isFIFO()) return 'a named pipe (FIFO)'
  if (st.isSocket()) return 'a socket'
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device'
  return 'not a file'
}
