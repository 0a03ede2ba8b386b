import { spawn } from 'node:child_process'
import { lstatSync, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import * as tar from 'tar'
import type { JobFiles } from '../../executors/types.js'
import { safeName } from './tar-entries.js'

/**
 * JobFiles for a job directory on this machine (the shell executor). The job runs here as the
 * runner's user, so this is no sandbox; what it guarantees is that glrun itself never follows a
 * link the job made: archives are made with GNU tar (links stored as links, never followed),
 * with every parent of the requested path checked to be a real directory, and unpacked with
 * node-tar, which refuses absolute and `..` names and any write through a symlink.
 */
export class HostDirFiles implements JobFiles {
  constructor(private readonly dir: string) {}

  async get(path: string): Promise<Readable | undefined> {
    const rel = safeName(path)
    if (rel === undefined) return undefined
    const parts = rel === '' ? [] : rel.split('/')
    // Parents must be directories, not links: `a -> /etc` must not make `a/passwd` readable.
    for (let i = 1; i <= parts.length; i++) {
      const st = lstat(join(this.dir, ...parts.slice(0, i)))
      if (!st) return undefined
      if (i < parts.length && !st.isDirectory()) return undefined
    }
    const child = spawn('tar', ['-C', this.dir, '-cf', '-', '--no-xattrs', '--numeric-owner', '--', rel === '' ? '.' : rel], { stdio: ['ignore', 'pipe', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    child.on('close', (code) => {
      // Files that vanish while the archive is made are not an error of the job; anything else is.
      if (code !== 0 && code !== 1) child.stdout.destroy(new Error(`tar of ${rel || '.'} failed: ${err.trim().split('\n')[0]}`))
    })
    return child.stdout
  }

  async put(stream: NodeJS.ReadableStream): Promise<string[]> {
    mkdirSync(this.dir, { recursive: true })
    const refused: string[] = []
    const unpack = tar.x({
      cwd: this.dir,
      preservePaths: false,
      // Only what crosses the boundary: files, directories, symlinks (checked again by name).
      filter: (p, e) => {
        const type = (e as { type?: string }).type
        return safeName(p) !== undefined && (type === 'File' || type === 'OldFile' || type === 'Directory' || type === 'SymbolicLink')
      },
      onwarn: (code, message, data) => {
        const path = (data as { entry?: { path?: string } } | undefined)?.entry?.path
        refused.push(`${path ? `${path}: ` : ''}${message} (${code})`)
      },
    })
    await pipeline(stream as Readable, unpack)
    return refused
  }

  async putSnapshot(src: string): Promise<void> {
    rmSync(this.dir, { recursive: true, force: true })
    mkdirSync(this.dir, { recursive: true })
    // cp copies names byte for byte (not valid UTF-8 too) and clones blocks where it can.
    await new Promise<void>((resolve, reject) => {
      const cp = spawn('cp', ['-a', '--reflink=auto', '--', `${src}/.`, this.dir], { stdio: ['ignore', 'ignore', 'pipe'] })
      let err = ''
      cp.stderr.on('data', (d: Buffer) => { err += d.toString() })
      cp.on('error', reject)
      cp.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`copying the working tree failed: ${err.trim()}`))))
    })
  }
}

function lstat(p: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(p)
  } catch {
    return undefined
  }
}
