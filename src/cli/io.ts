/**
 * The CLI's only way to print. Commands get an Io so tests can capture output and so nothing
 * below `cli/` ever touches process.stdout.
 */
export interface Io {
  out(text: string): void
  err(text: string): void
  readonly color: boolean
  readonly isTTY: boolean
}

export function processIo(): Io {
  const isTTY = process.stdout.isTTY === true
  const color = process.env['NO_COLOR'] === undefined && (process.env['FORCE_COLOR'] !== undefined || isTTY)
  return {
    out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
    err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
    color,
    isTTY,
  }
}

/** Captures output in memory (tests). */
export function memoryIo(): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    color: false,
    isTTY: false,
    out(t: string) { io.stdout += t.endsWith('\n') ? t : `${t}\n` },
    err(t: string) { io.stderr += t.endsWith('\n') ? t : `${t}\n` },
  }
  return io
}
