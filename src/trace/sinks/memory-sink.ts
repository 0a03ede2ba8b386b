import type { TraceSink } from '../trace-writer.js'

/** Keeps the trace in memory (tests, and the diagnosis of a failed job). */
export class MemorySink implements TraceSink {
  private readonly chunks: Buffer[] = []

  write(chunk: Buffer): void {
    this.chunks.push(Buffer.from(chunk))
  }

  text(): string {
    return Buffer.concat(this.chunks).toString()
  }

  async close(): Promise<void> {}
}
