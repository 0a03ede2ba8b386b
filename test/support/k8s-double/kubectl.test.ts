import { execFile } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { core, pod, startTestDouble, until } from './test-setup.js'

/** A second, independent client (Go's client-go inside kubectl) against the double. */
function findKubectl(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).trim() || null
  } catch {
    return null
  }
}

const kubectl = findKubectl()
if (!kubectl) console.log('k8s double kubectl smoke test skipped: no kubectl on PATH')

type Double = Awaited<ReturnType<typeof startTestDouble>>
let d: Double

function run(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(kubectl!, ['--server', d.k8s.url, '--certificate-authority', d.k8s.caPath, '--token', 'admin-token', '--cache-dir', join(d.dir, 'kube-cache'), ...args],
      { env: { ...process.env, HOME: d.dir, KUBECONFIG: join(d.dir, 'no-kubeconfig') }, timeout: 20_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }))
    if (input !== undefined) child.stdin!.end(input)
  })
}

describe.skipIf(!kubectl)('k8s double: kubectl smoke test', () => {
  beforeAll(async () => {
    d = await startTestDouble()
    await core(d.k8s).createNamespacedPod({ namespace: 'default', body: pod('smoke') })
    await until(() => d.k8s.objects('pods', 'default').find((p) => p.status.phase === 'Running'))
  })
  afterAll(async () => { await d?.stop() })

  it('kubectl get pods lists the pod through discovery and server-side printing', async () => {
    const r = await run(['get', 'pods', '-n', 'default'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\nsmoke\s+1\/1\s+Running\s+0\s+\d+s\n$/)
  })

  it('kubectl exec runs a command with stdin over the WebSocket protocol and carries the exit code', async () => {
    const r = await run(['exec', '-i', '-n', 'default', 'smoke', '-c', 'build', '--', 'sh', '-c', 'cat; echo to-err >&2; exit 4'], 'via-kubectl\n')
    expect(r.stdout).toBe('via-kubectl\n')
    expect(r.stderr).toContain('to-err\n')
    expect(r.stderr).toContain('command terminated with exit code 4')
    expect(r.code).toBe(4)
    const rec = d.k8s.requests.filter((x) => x.path === '/api/v1/namespaces/default/pods/smoke/exec')
    expect(rec.at(-1)!.status).toBe(101)
    expect(rec.at(-1)!.headers['sec-websocket-protocol']).toContain('v5.channel.k8s.io')
  })
})
