import { spawn } from 'node:child_process'
import { posix } from 'node:path'
import { Readable } from 'node:stream'
import type Docker from 'dockerode'
import { TarWriter, readTar, safeName } from '../../job/files/tar-entries.js'
import type { JobFiles } from '../types.js'

/** Where job directories are in every container (GitLab's /builds). */
export const BUILDS_ROOT = '/builds'

/**
 * JobFiles through the Engine's archive API on the job's build container
 * (`GET`/`PUT /containers/{id}/archive`): the engine makes and unpacks the archives inside the
 * container's filesystem, resolving every path there, so a link a job wrote points into the
 * container and never at this machine. Works on a stopped container (between stages).
 */
export class ContainerFiles implements JobFiles {
  /**
   * @param projectDirReady makes the project directory if it does not exist yet and returns its
   *   path relative to /builds (the engine unpacks only into an existing directory)
   */
  constructor(private readonly container: () => Docker.Container, private readonly projectDir: string, private readonly projectDirReady: () => Promise<string>) {}

  async get(path: string): Promise<Readable | undefined> {
    const rel = safeName(path)
    if (rel === undefined) return undefined
    const abs = rel === '' ? this.projectDir : `${this.projectDir}/${rel}`
    let raw: NodeJS.ReadableStream
    try {
      raw = await this.container().getArchive({ path: abs })
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return undefined
      throw e
    }
    // The engine names entries from the path's last part ("out/x" for …/out): re-root them at
    // the project directory, checking each name on the way.
    const parent = rel.includes('/') ? posix.dirname(rel) : ''
    const base = posix.basename(abs)
    const out = new TarWriter()
    readTar(raw, async (e, content) => out.add(e, content), {
      onRefused: (name, why) => this.refusals.push(`${name}: not archived: ${why}`),
      rename: (name) => {
        const n = name.replace(/^\.\//, '')
        const tail = n === base || n === `${base}/` ? '' : n.startsWith(`${base}/`) ? n.slice(base.length + 1) : undefined
        if (tail === undefined) return `../${n}` // refused by the name check
        return rel === '' ? tail : [parent, base, tail].filter(Boolean).join('/')
      },
    }).then(() => out.finish(), (e: Error) => out.fail(e))
    return out.stream
  }

  private refusals: string[] = []

  takeRefusals(): string[] {
    const r = this.refusals
    this.refusals = []
    return r
  }

  async put(tar: NodeJS.ReadableStream): Promise<string[]> {
    await this.projectDirReady()
    // The engine unpacks inside the container: a link there can only lead inside it.
    await this.container().putArchive(tar as Readable, { path: this.projectDir })
    return []
  }

  async putSnapshot(dir: string): Promise<void> {
    // GNU tar reads the snapshot (glrun's own copy): names byte for byte, links kept as links.
    // Rooted at the project's path under /builds, so one call makes the directory and fills it
    // (the engine makes missing parents); `S`: symlink targets are left as they are.
    const rel = this.projectDir.slice(BUILDS_ROOT.length + 1)
    const child = spawn('tar', ['-C', dir, '-cf', '-', '--numeric-owner', '--transform', `s|^\\.|${rel}|S`, '.'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    const exited = new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)))
    await this.container().putArchive(child.stdout, { path: BUILDS_ROOT })
    const code = await exited
    if (code !== 0) throw new Error(`packing the working tree failed: ${err.trim().split('\n')[0]}`)
  }
}

/** A tar stream of directories and at most one small file (stage scripts), for putArchive. */
export async function smallTar(dirs: string[], file?: { name: string; content: string; mode: number }): Promise<Readable> {
  const w = new TarWriter()
  const now = new Date()
  const adding = (async () => {
    for (const d of dirs) await w.add({ name: d, kind: 'directory', mode: 0o755, size: 0, mtime: now })
    if (file) {
      const data = Buffer.from(file.content)
      await w.add({ name: file.name, kind: 'file', mode: file.mode, size: data.length, mtime: now }, Readable.from([data]))
    }
    w.finish()
  })()
  adding.catch((e: Error) => w.fail(e))
  return w.stream
}
