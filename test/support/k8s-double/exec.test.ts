import { PassThrough, Readable } from 'node:stream'
import { Attach, Exec } from '@kubernetes/client-node'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { K8sDouble } from './server.js'
import { core, kubeConfig, pod, startTestDouble, until } from './test-setup.js'

type Double = Awaited<ReturnType<typeof startTestDouble>>
let d: Double
let strict: Double

const ACCOUNTS = {
  'admin-token': { serviceAccount: 'kube-system:admin', rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] },
  // What the WebSocket exec needs before 1.35: get on pods/exec.
  'get-exec': { serviceAccount: 'ci:getter', rules: [{ apiGroups: [''], resources: ['pods', 'pods/exec', 'pods/attach'], verbs: ['get'] }] },
  'no-exec': { serviceAccount: 'ci:viewer', rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'create'] }] },
}

beforeAll(async () => {
  d = await startTestDouble({ namespaces: ['ci'], accounts: ACCOUNTS })
  strict = await startTestDouble({ namespaces: ['ci'], accounts: ACCOUNTS, websocketNeedsCreate: true })
  for (const x of [d, strict]) {
    await core(x.k8s).createNamespacedPod({ namespace: 'ci', body: pod('job') })
    await until(() => x.k8s.objects('pods', 'ci').find((p) => p.status.phase === 'Running'))
  }
})
afterAll(async () => { await d.stop(); await strict.stop() })

const collect = (): { stream: PassThrough; text: () => string } => {
  const stream = new PassThrough()
  let text = ''
  stream.on('data', (c: Buffer) => { text += c.toString() })
  return { stream, text: () => text }
}

interface Raw { ws: WebSocket; frames: Buffer[]; closed: Promise<void> }

/** A WebSocket straight from `ws`: chosen subprotocols, the frames as they come, or the refusal's status and Status body. */
function connect(k8s: K8sDouble, path: string, protocols: string[], token = 'admin-token'): Promise<Raw | { status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${k8s.url.replace('https', 'wss')}${path}`, protocols, { ca: k8s.caPem, headers: { Authorization: `Bearer ${token}` } })
    const frames: Buffer[] = []
    const closed = new Promise<void>((r) => ws.on('close', () => r()))
    ws.on('message', (m: Buffer) => frames.push(m))
    ws.on('open', () => resolve({ ws, frames, closed }))
    ws.on('unexpected-response', (_req, res) => {
      let text = ''
      res.on('data', (c: Buffer) => { text += c })
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }))
    })
    ws.on('error', reject)
  })
}

const execPath = (cmd: string[], extra = 'stdin=true&stdout=true&stderr=true&tty=false&container=build', podName = 'job') =>
  `/api/v1/namespaces/ci/pods/${podName}/exec?${cmd.map((c) => `command=${encodeURIComponent(c)}`).join('&')}&${extra}`

describe('k8s double: exec and attach over WebSocket', () => {
  it('runs the command for real: stdin in, stdout/stderr out, NonZeroExitCode on the status channel, output after a v5 stdin close', async () => {
    const out = collect()
    const err = collect()
    let status: any
    const stdin = Readable.from([Buffer.from('hello\n')])
    const ws = await new Exec(kubeConfig(d.k8s, 'admin-token')).exec('ci', 'job', 'build', ['sh', '-c', 'cat; sleep 0.2; echo after-eof; echo oops >&2; exit 3'], out.stream, err.stream, stdin, false, (s) => { status = s })
    expect(ws.protocol).toBe('v5.channel.k8s.io')
    await until(() => status, 10_000)
    expect(out.text()).toBe('hello\nafter-eof\n')
    expect(err.text()).toBe('oops\n')
    expect(status).toEqual({
      metadata: {}, status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command [sh -c cat; sleep 0.2; echo after-eof; echo oops >&2; exit 3], exit code 3',
      reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    })
    const rec = d.k8s.requests.find((r) => r.path === '/api/v1/namespaces/ci/pods/job/exec')!
    expect([rec.status, rec.query.command]).toEqual([101, ['sh', '-c', 'cat; sleep 0.2; echo after-eof; echo oops >&2; exit 3']])
  })

  it('reports Success for exit 0 and runs in the container\'s own directory', async () => {
    const out = collect()
    let status: any
    await new Exec(kubeConfig(d.k8s, 'admin-token')).exec('ci', 'job', 'build', ['sh', '-c', 'echo data > f && cat f && basename "$PWD"'], out.stream, null, null, false, (s) => { status = s })
    await until(() => status, 10_000)
    expect(status).toEqual({ metadata: {}, status: 'Success' })
    expect(out.text()).toBe('data\nbuild\n')
  })

  it('negotiates v4 when v5 is not offered, takes resize frames, and sends the Status after the output', async () => {
    const c = await connect(d.k8s, execPath(['sh', '-c', 'head -c 5; echo; exit 7']), ['v4.channel.k8s.io', 'channel.k8s.io'])
    if (!('ws' in c)) throw new Error(`refused: ${JSON.stringify(c)}`)
    expect(c.ws.protocol).toBe('v4.channel.k8s.io')
    c.ws.send(Buffer.concat([Buffer.from([4]), Buffer.from('{"Width":80,"Height":24}')]))
    c.ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('hello')]))
    await c.closed
    const byChannel = (n: number) => Buffer.concat(c.frames.filter((f) => f[0] === n).map((f) => f.subarray(1))).toString()
    expect(byChannel(1)).toBe('hello\n')
    expect(JSON.parse(byChannel(3))).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '7' }] } })
    expect(c.frames.at(-1)![0]).toBe(3)
  })

  it('attaches to the container\'s main process (stdin in, output out) whose output is the pods/log text', async () => {
    const out = collect()
    const stdin = new PassThrough()
    const ws = await new Attach(kubeConfig(d.k8s, 'admin-token')).attach('ci', 'job', 'build', out.stream, null, stdin, false)
    expect(ws.protocol).toBe('v5.channel.k8s.io')
    stdin.write('echo attached-$((1+2))\n')
    await until(() => out.text().includes('attached-3'), 10_000)
    const log = await core(d.k8s).readNamespacedPodLog({ namespace: 'ci', name: 'job', container: 'build' })
    expect(log).toContain('attached-3')
    ws.close()
  })

  it('refuses like the apiserver: 400 without an upgrade, 404 for a missing pod, 400 for a foreign container', async () => {
    const plain = await fetchStatus(d.k8s, execPath(['ls']))
    expect([plain.status, plain.body.message, plain.body.reason]).toEqual([400, 'Upgrade request required', 'BadRequest'])
    const missing = await connect(d.k8s, execPath(['ls'], 'stdout=true', 'nope'), ['v5.channel.k8s.io'])
    expect(missing).toEqual({ status: 404, body: expect.objectContaining({ message: 'pods "nope" not found', reason: 'NotFound' }) })
    const foreign = await connect(d.k8s, execPath(['ls'], 'stdout=true&container=helper'), ['v5.channel.k8s.io'])
    expect(foreign).toEqual({ status: 400, body: expect.objectContaining({ message: 'container helper is not valid for pod job' }) })
    const noStreams = await connect(d.k8s, execPath(['ls'], 'container=build'), ['v5.channel.k8s.io'])
    expect(noStreams).toEqual({ status: 400, body: expect.objectContaining({ message: 'you must specify at least 1 of stdin, stdout, stderr' }) })
    // A node that has not picked the pod up yet: no host to stream from.
    const slow = await startTestDouble({ namespaces: ['ci'] }, 60_000)
    try {
      await core(slow.k8s).createNamespacedPod({ namespace: 'ci', body: pod('unscheduled') })
      const unscheduled = await connect(slow.k8s, execPath(['ls'], 'stdout=true', 'unscheduled'), ['v5.channel.k8s.io'])
      expect(unscheduled).toEqual({ status: 400, body: expect.objectContaining({ message: 'pod unscheduled does not have a host assigned', reason: 'BadRequest' }) })
    } finally {
      await slow.stop()
    }
  })

  it('passes the kubelet\'s failure on as an InternalError Status', async () => {
    let status: any
    await new Exec(kubeConfig(d.k8s, 'admin-token')).exec('ci', 'job', 'build', ['no-such-binary-xyz'], collect().stream, collect().stream, null, false, (s) => { status = s })
    await until(() => status, 10_000)
    expect(status).toEqual({
      metadata: {}, status: 'Failure', message: 'Internal error occurred: error executing command in container: spawn no-such-binary-xyz ENOENT',
      reason: 'InternalError', details: { causes: [{ message: 'error executing command in container: spawn no-such-binary-xyz ENOENT' }] }, code: 500,
    })
  })

  it('authorizes WebSocket exec as get on pods/exec, and also create in 1.35 mode', async () => {
    const unknownToken = await connect(d.k8s, execPath(['true'], 'stdout=true'), ['v5.channel.k8s.io'], 'who-is-this')
    expect(unknownToken).toEqual({ status: 401, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 } })
    const denied = await connect(d.k8s, execPath(['true'], 'stdout=true'), ['v5.channel.k8s.io'], 'no-exec')
    expect(denied).toEqual({ status: 403, body: expect.objectContaining({ message: 'pods "job" is forbidden: User "system:serviceaccount:ci:viewer" cannot get resource "pods/exec" in API group "" in the namespace "ci"', details: { name: 'job', kind: 'pods' } }) })
    const getOnly = await connect(d.k8s, execPath(['true'], 'stdout=true'), ['v5.channel.k8s.io'], 'get-exec')
    expect('ws' in getOnly).toBe(true)
    if ('ws' in getOnly) await getOnly.closed
    const needsCreate = await connect(strict.k8s, execPath(['true'], 'stdout=true'), ['v5.channel.k8s.io'], 'get-exec')
    expect(needsCreate).toEqual({ status: 403, body: expect.objectContaining({ message: 'pods "job" is forbidden: User "system:serviceaccount:ci:getter" cannot create resource "pods/exec" in API group "" in the namespace "ci"' }) })
    const admin = await connect(strict.k8s, execPath(['true'], 'stdout=true'), ['v5.channel.k8s.io'])
    expect('ws' in admin).toBe(true)
    if ('ws' in admin) await admin.closed
  })
})

async function fetchStatus(k8s: K8sDouble, path: string): Promise<{ status: number; body: any }> {
  const { request } = await import('node:https')
  return new Promise((resolve, reject) => {
    request(`${k8s.url}${path}`, { ca: k8s.caPem, headers: { Authorization: 'Bearer admin-token' } }, (res) => {
      let text = ''
      res.on('data', (c) => { text += c })
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }))
    }).on('error', reject).end()
  })
}
