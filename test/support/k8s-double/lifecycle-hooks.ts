import type Dockerode from 'dockerode'
import { execCapture } from './pod-streams.js'

/**
 * Container lifecycle hooks (postStart, preStop) as the kubelet runs them: exec in the
 * container, an HTTP GET to the pod, or a sleep. A failure is the kubelet's message for the
 * FailedPostStartHook / FailedPreStopHook event.
 */
export interface Handler {
  exec?: { command?: string[] }
  httpGet?: { path?: string; port: number | string; host?: string; scheme?: string }
  sleep?: { seconds: number }
  tcpSocket?: unknown
}

export interface HookTarget {
  docker: Dockerode
  containerId: string
  container: string
  /** The kubelet's format.Pod: <name>_<namespace>(<uid>) */
  pod: string
  podIP?: string
  ports: { name?: string; containerPort: number }[]
}

/** Runs the hook; undefined when it worked, else the kubelet's failure message. Gives up after `timeoutMs`. */
export async function runHook(t: HookTarget, h: Handler, timeoutMs: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`lifecycle hook for Container "${t.container}" in Pod "${t.pod}" timed out after ${Math.round(timeoutMs / 1000)}s`), timeoutMs)
  })
  try {
    return await Promise.race([attempt(t, h), timeout])
  } finally {
    clearTimeout(timer)
  }
}

async function attempt(t: HookTarget, h: Handler): Promise<string | undefined> {
  if (h.exec) {
    const cmd = h.exec.command ?? []
    const r = await execCapture(t.docker, t.containerId, cmd).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }))
    if (r.code === 0) return undefined
    // CRI ExecSync's error for a non-zero exit, then the output (stdout before stderr), quoted.
    const err = `command '${cmd.join(' ')}' exited with ${r.code}: ${r.stderr}`
    return `Exec lifecycle hook ([${cmd.join(' ')}]) for Container "${t.container}" in Pod "${t.pod}" failed - error: ${err}, message: ${JSON.stringify(r.stdout + r.stderr)}`
  }
  if (h.httpGet) {
    const g = h.httpGet
    const port = typeof g.port === 'number' ? g.port : Number(g.port) || t.ports.find((p) => p.name === g.port)?.containerPort
    const url = `${(g.scheme ?? 'HTTP').toLowerCase()}://${g.host ?? t.podIP}:${port}${g.path ?? '/'}`
    const err = await fetch(url).then((r) => (r.status >= 200 && r.status < 400 ? undefined : `HTTP lifecycle hook (${g.path ?? ''}) for Container "${t.container}" in Pod "${t.pod}" failed - error: Get "${url}": status ${r.status}`), (e: Error) => `${e.message}`)
    return err === undefined || err.startsWith('HTTP') ? err : `HTTP lifecycle hook (${g.path ?? ''}) for Container "${t.container}" in Pod "${t.pod}" failed - error: Get "${url}": ${err}`
  }
  if (h.sleep) {
    await new Promise((r) => setTimeout(r, h.sleep!.seconds * 1000))
    return undefined
  }
  return `invalid handler: ${JSON.stringify(h)}`
}
