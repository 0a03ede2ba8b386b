import { spawn } from 'node:child_process'
import { PassThrough, type Readable } from 'node:stream'
import type { KubeConfig } from '@kubernetes/client-node'
import { TarWriter, readTar, safeName } from '../../job/files/tar-entries.js'
import { ExecutorFailure } from '../failure.js'
import type { JobFiles } from '../types.js'
import { denialHint, parseDenial } from './forbidden.js'
import { type ExecEnd, execInPod } from './exec-socket.js'

/** Where a pod's files are handled: its namespace, name and the container that has tar (helper). */
export interface PodRef { kc: KubeConfig; namespace: string; pod: string; container: string }

const ended = (e: ExecEnd): string => (e.kind === 'exited' ? `exit code ${e.code}` : e.message)

/** An exec the cluster refused (RBAC) is the runner's configuration, with the missing rule; anything else, glrun's failure. */
function failed(what: string, e: ExecEnd, detail = ''): Error {
  const denial = e.kind === 'error' && e.httpCode === 403 ? parseDenial(e.message) : undefined
  if (denial) return new ExecutorFailure('GLRUN_K8S_FORBIDDEN', `${what}: ${e.kind === 'error' ? e.message : ''}`, 'runner_configuration_error', denialHint(denial))
  return new Error(`${what} (${ended(e)})${detail ? `: ${detail}` : ''}`)
}

/**
 * JobFiles through the helper container: archives are made and unpacked by tar *inside the pod*
 * (over exec), as kubectl cp does and as gitlab-runner's helper handles artifacts and caches, so a
 * path is resolved in the pod and never on this machine. Both ends stream: stdin and stdout of
 * the exec carry the archive, with back-pressure.
 */
export class PodFiles implements JobFiles {
  private refusals: string[] = []

  constructor(private readonly ref: () => PodRef, private readonly projectDir: string) {}

  private exec(command: string[], io: Parameters<typeof execInPod>[5]): Promise<ExecEnd> {
    const r = this.ref()
    return execInPod(r.kc, r.namespace, r.pod, r.container, command, io)
  }

  async get(path: string): Promise<Readable | undefined> {
    const rel = safeName(path)
    if (rel === undefined) return undefined
    const target = rel === '' ? '.' : rel
    // `test -e || test -L`: a dangling link is still an entry to archive (as a link).
    const there = await this.exec(['sh', '-c', 'cd "$1" 2>/dev/null && { [ -e "$2" ] || [ -L "$2" ]; }', 'sh', this.projectDir, target], { stdout: new PassThrough().resume() })
    if (there.kind === 'exited' && there.code !== 0) return undefined
    if (there.kind === 'error') throw failed(`cannot read ${target} in the job pod`, there)
    const raw = new PassThrough()
    let err = ''
    const stderr = new PassThrough().on('data', (d: Buffer) => { err += d.toString() })
    // tar stores links as links (never follows them): the pod's own tar, in the pod.
    const running = this.exec(['tar', '-C', this.projectDir, '-cf', '-', target], { stdout: raw, stderr })
    const out = new TarWriter()
    readTar(raw, async (e, content) => out.add(e, content), {
      onRefused: (name, why) => this.refusals.push(`${name}: not archived: ${why}`),
      rename: (name) => name.replace(/^\.\//, ''),
    }).then(async () => {
      const end = await running
      if (end.kind !== 'exited' || end.code !== 0) throw failed('tar in the job pod failed', end, err.trim().split('\n')[0] ?? '')
      out.finish()
    }).catch((e: Error) => out.fail(e))
    return out.stream
  }

  takeRefusals(): string[] {
    const r = this.refusals
    this.refusals = []
    return r
  }

  async put(tar: NodeJS.ReadableStream): Promise<string[]> {
    await this.unpack(tar)
    return []
  }

  private async unpack(tar: NodeJS.ReadableStream): Promise<void> {
    let err = ''
    const stderr = new PassThrough().on('data', (d: Buffer) => { err += d.toString() })
    const end = await this.exec(['sh', '-c', 'mkdir -p "$1" && exec tar -C "$1" -xf -', 'sh', this.projectDir], { stdin: tar, stderr, stdout: stderr })
    if (end.kind !== 'exited' || end.code !== 0) throw failed('unpacking into the job pod failed', end, err.trim().split('\n')[0] ?? '')
  }

  async putSnapshot(dir: string): Promise<void> {
    // GNU tar reads glrun's own snapshot (never a job's files): names byte for byte, links as links.
    const child = spawn('tar', ['-C', dir, '-cf', '-', '--numeric-owner', '.'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    const exited = new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)))
    // Read from now on: Node drops what an exited child wrote to a pipe nobody reads yet, and the
    // exec's stdin is only read once its WebSocket is open.
    await this.unpack(child.stdout.pipe(new PassThrough()))
    if ((await exited) !== 0) throw new Error(`packing the working tree failed: ${err.trim().split('\n')[0]}`)
  }
}
