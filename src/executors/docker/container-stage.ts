import { PassThrough } from 'node:stream'
import type Docker from 'dockerode'
import type { ExitStatus, TraceOutput } from '../types.js'

/**
 * Runs one stage in an existing (stopped) container: attach to its output (and its stdin, when
 * a script is given: written once the container runs, then closed), start it, wait for it to
 * stop. A timeout or cancel kills the container, which ends every
 * process the stage started.
 */
export async function runContainerStage(container: Docker.Container, out: TraceOutput, signal: AbortSignal, timeoutMs?: number, stdin?: string): Promise<ExitStatus> {
  const stream = await container.attach({ stream: true, stdout: true, stderr: true, logs: false, ...(stdin !== undefined ? { stdin: true, hijack: true } : {}) })
  const sink = new PassThrough()
  sink.on('data', (d: Buffer) => out.write(d))
  const ended = new Promise<void>((resolve) => {
    stream.on('end', resolve)
    stream.on('close', resolve)
    stream.on('error', () => resolve())
  })
  container.modem.demuxStream(stream, sink, sink)
  let ending: ExitStatus | undefined
  const stop = (why: ExitStatus): void => {
    if (ending) return
    ending = why
    container.kill().catch(() => undefined)
  }
  const onAbort = (): void => stop({ kind: 'canceled' })
  const timer = timeoutMs ? setTimeout(() => stop({ kind: 'timed-out' }), timeoutMs) : undefined
  try {
    await container.start()
    // The script, then end of input: the container's shell reads it to its end and runs it.
    if (stdin !== undefined) stream.end(stdin)
    if (signal.aborted) onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    // Wait only once start() has answered, and for "not-running": a wait sent alongside start
    // with "next-exit" can reach a busy engine after a short script has already exited, and then
    // waits for an exit that never comes. "not-running" answers at once with the exit code when
    // the container has stopped already (start() returns with it running, so never too early).
    const result = (await container.wait({ condition: 'not-running' })) as { StatusCode: number }
    // The last bytes of output may still be in flight when wait() answers.
    await Promise.race([ended, new Promise((r) => setTimeout(r, 2000))])
    return ending ?? { kind: 'exited', code: result.StatusCode }
  } finally {
    if (timer) clearTimeout(timer)
    signal.removeEventListener('abort', onAbort)
    ;(stream as unknown as { destroy?: () => void }).destroy?.()
  }
}
