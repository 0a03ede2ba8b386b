import { type WriteStream, createWriteStream, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import type { TraceSink } from '../trace-writer.js'

/** Appends the trace to a file (e.g. .glrun/jobs/<job>/trace.log). */
export class FileSink implements TraceSink {
  private readonly stream: WriteStream

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true })
    this.stream = createWriteStream(path)
  }

  write(chunk: Buffer): void {
    this.stream.write(chunk)
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => this.stream.end((err?: Error | null) => (err ? reject(err) : resolve())))
  }
}
