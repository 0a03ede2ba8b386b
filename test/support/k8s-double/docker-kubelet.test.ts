import { randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import type Dockerode from 'dockerode'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectEngine } from '../../../src/executors/docker/engine.js'
import { TEST_DOCKER_HOST, docker, dockerSkip, requireEngine } from '../docker-env.js'
import { DockerKubelet } from './docker-kubelet.js'
import { eventually, freePort, privateRegistry } from './docker-kubelet-fixtures.js'
import type { PodObject } from './kubelet.js'
import { RecordingReporter } from './recording-reporter.js'

/** Skipped, and saying why, without an engine outside CI (see test/support/docker-env.ts). */
const skip = dockerSkip(import.meta.url)

const NS = 'ci'
const LABEL = `glrun.k8s-double.test=${process.pid}`
const net = `glrun-k8s-node-${process.pid}`
let engine: Dockerode
let kubelet: DockerKubelet
let reporter: RecordingReporter

beforeAll(async () => {
  requireEngine()
  engine = await connectEngine({ host: TEST_DOCKER_HOST })
  docker('network', 'create', '--label', LABEL, net)
  reporter = new RecordingReporter()
  kubelet = new DockerKubelet({ docker: engine, network: net, pullBackoffMs: 300, label: LABEL })
}, 30_000)

afterAll(async () => {
  await kubelet?.close()
  try { docker('network', 'rm', net) } catch { /* not made */ }
  // Everything the kubelets made carries the label: close() leaves nothing behind.
  if (!skip) {
    expect(docker('ps', '-aq', '--filter', `label=${LABEL}`).trim()).toBe('')
    expect(docker('volume', 'ls', '-q', '--filter', `label=${LABEL}`).trim()).toBe('')
  }
}, 60_000)

function pod(name: string, spec: Record<string, unknown>): PodObject {
  return { metadata: { name, namespace: NS, uid: randomUUID() }, spec: { restartPolicy: 'Never', ...spec } }
}

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough()
  const chunks: Buffer[] = []
  stream.on('data', (d: Buffer) => chunks.push(d))
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') }
}

async function run(name: string, container: string, command: string[], stdin?: string): Promise<{ result: unknown; out: string; err: string }> {
  const out = collect()
  const err = collect()
  const result = await kubelet.exec({ namespace: NS, pod: name, container, command, tty: false, stdout: out.stream, stderr: err.stream, ...(stdin !== undefined ? { stdin: Readable.from([Buffer.from(stdin)]) } : {}) })
  return { result, out: out.text(), err: err.text() }
}

const byName = (list: Record<string, any>[] | undefined, name: string): any => list?.find((c) => c.name === name)

describe.skipIf(skip)('the API double\'s kubelet on the Docker engine', () => {
  const shared = 'shared'
  const sharedPod = pod(shared, {
    hostAliases: [{ ip: '127.0.0.1', hostnames: ['postgres', 'db.example'] }, { ip: '10.1.2.3', hostnames: ['extra'] }],
    dnsPolicy: 'None',
    dnsConfig: { nameservers: ['10.96.0.10'], searches: ['ci.svc.cluster.local'], options: [{ name: 'ndots', value: '2' }] },
    volumes: [{ name: 'www', emptyDir: {} }],
    containers: [
      { name: 'build', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh'], stdin: true, volumeMounts: [{ name: 'www', mountPath: '/data' }] },
      { name: 'web', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['httpd', '-f', '-p', '8080', '-h', '/www'], volumeMounts: [{ name: 'www', mountPath: '/www' }] },
      { name: 'quick', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['true'] },
    ],
  })

  it('runs a pod: Running and Ready, containers share localhost and an emptyDir', async () => {
    kubelet.run(sharedPod, reporter)
    const status = await reporter.until(NS, shared, (s) => byName(s.containerStatuses, 'quick')?.state?.terminated)
    expect(status.phase).toBe('Running')
    expect(byName(status.containerStatuses, 'build')).toMatchObject({ ready: true, started: true, state: { running: {} }, containerID: expect.stringMatching(/^docker:\/\//) })
    expect(byName(status.containerStatuses, 'quick')?.state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' })
    expect(status.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/)
    expect(status.conditions.find((c: any) => c.type === 'PodScheduled')).toMatchObject({ status: 'True' })
    const events = reporter.eventLines(NS, shared)
    expect(events[0]).toBe(`Normal Scheduled: Successfully assigned ${NS}/${shared} to glrun-node-1`)
    expect(events).toContain('Normal Pulled: Container image "busybox:latest" already present on machine')
    expect(events.indexOf('Normal Created: Created container: build')).toBeLessThan(events.indexOf('Normal Started: Started container build'))
    // The file written through one container's mount is served by the other on localhost.
    expect(await run(shared, 'build', ['sh', '-c', 'echo from-build > /data/index.html'])).toMatchObject({ result: { kind: 'exited', code: 0 } })
    const got = await run(shared, 'build', ['wget', '-qO-', 'http://localhost:8080/index.html'])
    expect(got.out).toBe('from-build\n')
  }, 90_000)

  it('writes hostAliases to /etc/hosts in spec order and dnsConfig alone to resolv.conf (dnsPolicy None)', async () => {
    const hosts = (await run(shared, 'web', ['cat', '/etc/hosts'])).out
    const aliasLines = hosts.split('\n').filter((l) => /\s(postgres|db\.example|extra)$/.test(l))
    expect(aliasLines.map((l) => l.split(/\s+/))).toEqual([['127.0.0.1', 'postgres'], ['127.0.0.1', 'db.example'], ['10.1.2.3', 'extra']])
    const resolv = (await run(shared, 'web', ['cat', '/etc/resolv.conf'])).out
    expect(resolv).toBe('search ci.svc.cluster.local\nnameserver 10.96.0.10\noptions ndots:2\n')
  }, 90_000)

  it('exec streams stdin to the command and returns its exit code, with a TTY too; attach streams the main process; a stopped container is refused', async () => {
    const got = await run(shared, 'build', ['sh', '-c', 'cat; echo to-stderr >&2; exit 3'], 'line one\nline two\n')
    expect(got).toEqual({ result: { kind: 'exited', code: 3 }, out: 'line one\nline two\n', err: 'to-stderr\n' })
    // With a TTY the output is not split in two and lines end in CRLF.
    const tty = collect()
    expect(await kubelet.exec({ namespace: NS, pod: shared, container: 'build', command: ['sh', '-c', 'tty; echo x'], tty: true, stdout: tty.stream })).toEqual({ kind: 'exited', code: 0 })
    expect(tty.text()).toMatch(/^\/dev\/pts\/\d+\r\nx\r\n$/)
    // kubectl attach -i: what the main process prints comes back; the session ends when the client goes.
    const out = collect()
    const stdin = new PassThrough()
    const attach = kubelet.attach({ namespace: NS, pod: shared, container: 'build', tty: false, stdin, stdout: out.stream, stderr: new PassThrough() })
    stdin.write('echo hi-from-attach\n')
    expect(await eventually(() => (out.text().includes('hi-from-attach') ? out.text() : undefined))).toBe('hi-from-attach\n')
    out.stream.destroy()
    expect(await attach).toEqual({ kind: 'exited', code: 0 })
    expect((await run(shared, 'quick', ['true'])).result).toEqual({ kind: 'error', reason: 'InternalError', message: 'container not found ("quick")' })
    expect((await run('no-such-pod', 'build', ['true'])).result).toEqual({ kind: 'error', reason: 'NotFound', message: 'pods "no-such-pod" not found' })
  }, 90_000)

  it('remove stops the pod and leaves no container or volume of it on the engine', async () => {
    const started = Date.now()
    await kubelet.remove(NS, shared, 1)
    expect(Date.now() - started).toBeLessThan(15_000)
    expect(docker('ps', '-aq', '--filter', `label=io.kubernetes.pod.uid=${sharedPod.metadata.uid}`).trim()).toBe('')
    expect(docker('volume', 'ls', '-q', '--filter', `label=io.kubernetes.pod.uid=${sharedPod.metadata.uid}`).trim()).toBe('')
    expect(reporter.eventLines(NS, shared)).toContain('Normal Killing: Stopping container build')
    expect((await run(shared, 'build', ['true'])).result).toMatchObject({ kind: 'error', reason: 'NotFound' })
  }, 90_000)

  it('an image from a registry nothing listens on: ErrImagePull, then ImagePullBackOff (1.32 and pre-1.32 messages), events in order; Never with no image: ErrImageNeverPull', async () => {
    const image = `127.0.0.1:${await freePort()}/glrun/missing:1`
    const old = new DockerKubelet({ docker: engine, network: net, pullBackoffMs: 300, label: LABEL, pullMessages: 'pre-1.32' })
    try {
      kubelet.run(pod('pull-new', { containers: [{ name: 'build', image }, { name: 'helper', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '60'] }] }), reporter)
      old.run(pod('pull-old', { containers: [{ name: 'build', image }] }), reporter)
      kubelet.run(pod('never', { containers: [{ name: 'build', image: 'glrun-test/absent:1', imagePullPolicy: 'Never' }] }), reporter)
      const waiting = (s: Record<string, any>, reason: string): any => byName(s.containerStatuses, 'build')?.state?.waiting?.reason === reason
      const pulled = await reporter.until(NS, 'pull-new', (s) => waiting(s, 'ErrImagePull'))
      const err = byName(pulled.containerStatuses, 'build').state.waiting.message
      expect(err).toMatch(/^rpc error: code = Unknown desc = Error response from daemon: .*connection refused/)
      const backOff = await reporter.until(NS, 'pull-new', (s) => waiting(s, 'ImagePullBackOff'))
      expect(byName(backOff.containerStatuses, 'build').state.waiting.message).toBe(`Back-off pulling image "${image}": ErrImagePull: ${err}`)
      const oldForm = await reporter.until(NS, 'pull-old', (s) => waiting(s, 'ImagePullBackOff'))
      expect(byName(oldForm.containerStatuses, 'build').state.waiting.message).toBe(`Back-off pulling image "${image}"`)
      // The other container runs; the pod stays Pending.
      const both = await reporter.until(NS, 'pull-new', (s) => byName(s.containerStatuses, 'helper')?.state?.running && waiting(s, 'ImagePullBackOff'))
      expect(both.phase).toBe('Pending')
      // After the back-off the kubelet pulls again.
      await reporter.until(NS, 'pull-old', () => reporter.eventLines(NS, 'pull-old').filter((l) => l.startsWith('Normal Pulling')).length >= 2, 10_000)
      expect(reporter.eventLines(NS, 'pull-old').slice(0, 7)).toEqual([
        `Normal Scheduled: Successfully assigned ${NS}/pull-old to glrun-node-1`,
        `Normal Pulling: Pulling image "${image}"`,
        `Warning Failed: Failed to pull image "${image}": ${err}`,
        'Warning Failed: Error: ErrImagePull',
        `Normal BackOff: Back-off pulling image "${image}"`,
        'Warning Failed: Error: ImagePullBackOff',
        `Normal Pulling: Pulling image "${image}"`,
      ])
      expect(reporter.events.find((e) => e.pod === `${NS}/pull-old` && e.reason === 'Failed')).toMatchObject({ fieldPath: 'spec.containers{build}', component: 'kubelet' })
      const never = await reporter.until(NS, 'never', (s) => byName(s.containerStatuses, 'build')?.state?.waiting?.reason === 'ErrImageNeverPull')
      expect(byName(never.containerStatuses, 'build').state.waiting.message).toBe('Container image "glrun-test/absent:1" is not present with pull policy of Never')
      expect(reporter.eventLines(NS, 'never').slice(1)).toEqual(['Warning ErrImageNeverPull: Container image "glrun-test/absent:1" is not present with pull policy of Never', 'Warning Failed: Error: ErrImageNeverPull'])
    } finally {
      await Promise.all([kubelet.remove(NS, 'pull-new', 0), kubelet.remove(NS, 'never', 0), old.close()])
    }
  }, 90_000)

  it('a nodeSelector no node matches, and requests above allocatable: Unschedulable with a FailedScheduling event', async () => {
    kubelet.run(pod('nowhere', { nodeSelector: { 'kubernetes.io/arch': 'arm64' }, containers: [{ name: 'build', image: 'busybox:latest' }] }), reporter)
    kubelet.run(pod('too-big', { containers: [{ name: 'build', image: 'busybox:latest', resources: { requests: { cpu: '4' } } }] }), reporter)
    const s = await reporter.until(NS, 'nowhere', () => true)
    const selector = "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
    expect(s).toMatchObject({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: selector }] })
    expect(reporter.events.filter((e) => e.pod === `${NS}/nowhere`)).toEqual([{ pod: `${NS}/nowhere`, type: 'Warning', reason: 'FailedScheduling', message: selector, component: 'default-scheduler' }])
    expect((await reporter.until(NS, 'too-big', () => true)).conditions[0].message).toBe('0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.')
    await kubelet.remove(NS, 'nowhere', 0)
    await kubelet.remove(NS, 'too-big', 0)
  }, 90_000)

  it('a container over its memory limit is OOMKilled with exit code 137 and the pod fails', async () => {
    kubelet.run(pod('oom', { containers: [{ name: 'build', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'head -c 200m /dev/zero | tail'], resources: { limits: { memory: '32Mi' } } }] }), reporter)
    const s = await reporter.until(NS, 'oom', (x) => x.phase === 'Failed')
    expect(byName(s.containerStatuses, 'build').state.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' })
    await kubelet.remove(NS, 'oom', 0)
  }, 90_000)

  it('init containers run one by one to completion before the containers start', async () => {
    kubelet.run(pod('init', {
      volumes: [{ name: 'work', emptyDir: {} }],
      initContainers: [
        { name: 'first', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'sleep 1; echo first >> /work/order'], volumeMounts: [{ name: 'work', mountPath: '/work' }] },
        { name: 'second', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'echo second >> /work/order'], volumeMounts: [{ name: 'work', mountPath: '/work' }] },
      ],
      containers: [{ name: 'build', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'echo build >> /work/order; cat /work/order'], volumeMounts: [{ name: 'work', mountPath: '/work' }] }],
    }), reporter)
    const pending = await reporter.until(NS, 'init', (s) => byName(s.initContainerStatuses, 'first')?.state?.running)
    expect(pending.phase).toBe('Pending')
    expect(pending.conditions.find((c: any) => c.type === 'Initialized')).toMatchObject({ status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [first second]' })
    expect(byName(pending.containerStatuses, 'build').state).toEqual({ waiting: { reason: 'PodInitializing' } })
    const done = await reporter.until(NS, 'init', (s) => s.phase === 'Succeeded')
    expect(done.initContainerStatuses.map((c: any) => c.state.terminated.reason)).toEqual(['Completed', 'Completed'])
    expect(await kubelet.logs(NS, 'init', 'build')).toBe('first\nsecond\nbuild\n')
    await kubelet.remove(NS, 'init', 0)
  }, 90_000)

  it('secret and configMap volumes (items, subPath, read-only) wait for their object (FailedMount), env from them waits too (CreateContainerConfigError); ClusterFirst DNS; attach feeds the main process', async () => {
    const b64 = (x: string): string => Buffer.from(x).toString('base64')
    reporter.put('secrets', NS, 'creds', { type: 'Opaque', data: { token: b64('s3cr3t'), unused: b64('x') } })
    kubelet.run(pod('files', {
      dnsConfig: { options: [{ name: 'edns0' }] },
      volumes: [
        { name: 'creds', secret: { secretName: 'creds', items: [{ key: 'token', path: 'deep/token', mode: 0o400 }] } },
        { name: 'conf', configMap: { name: 'settings' } },
      ],
      containers: [{
        name: 'build', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh'], stdin: true,
        volumeMounts: [{ name: 'creds', mountPath: '/creds' }, { name: 'conf', mountPath: '/etc/app.conf', subPath: 'app.conf' }],
        env: [
          { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } },
          { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'GREETING', value: 'pod $(POD) costs $$5, $(UNSET) stays' },
          { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'env-settings', key: 'level' } } },
        ],
      }],
    }), reporter)
    const missing = 'MountVolume.SetUp failed for volume "conf" : configmap "settings" not found'
    await reporter.until(NS, 'files', () => reporter.eventLines(NS, 'files').includes(`Warning FailedMount: ${missing}`))
    expect(byName(reporter.last(NS, 'files')?.containerStatuses, 'build').state).toEqual({ waiting: { reason: 'ContainerCreating' } })
    reporter.put('configmaps', NS, 'settings', { data: { 'app.conf': 'level=debug\n', other: 'y' } })
    // Mounted now; the environment still names a config map that is not there.
    const configError = await reporter.until(NS, 'files', (s) => byName(s.containerStatuses, 'build')?.state?.waiting?.reason === 'CreateContainerConfigError')
    expect(byName(configError.containerStatuses, 'build').state.waiting.message).toBe('configmap "env-settings" not found')
    expect(reporter.eventLines(NS, 'files')).toContain('Warning Failed: Error: configmap "env-settings" not found')
    reporter.put('configmaps', NS, 'env-settings', { data: { level: 'debug' } })
    await reporter.until(NS, 'files', (s) => s.phase === 'Running')
    expect((await run('files', 'build', ['sh', '-c', 'echo "$TOKEN|$POD|$GREETING|$LEVEL"'])).out).toBe('s3cr3t|files|pod files costs $5, $(UNSET) stays|debug\n')
    const files = await run('files', 'build', ['sh', '-c', 'ls /creds; stat -c %a /creds/deep/token; cat /creds/deep/token; echo; cat /etc/app.conf; touch /creds/x 2>/dev/null || echo read-only'])
    expect(files.out).toBe('deep\n400\ns3cr3t\nlevel=debug\nread-only\n')
    const resolv = (await run('files', 'build', ['cat', '/etc/resolv.conf'])).out
    expect(resolv).toMatch(/^search ci\.svc\.cluster\.local svc\.cluster\.local cluster\.local(?: \S+)*\nnameserver 127\.0\.0\.11\noptions ndots:5 edns0\n$/)
    // gitlab-runner's attach: one command line on the main process's stdin, stdin then closed.
    const attached = await kubelet.attach({ namespace: NS, pod: 'files', container: 'build', tty: false, stdin: Readable.from([Buffer.from('echo attached > /tmp/attached\n')]) })
    expect(attached).toEqual({ kind: 'exited', code: 0 })
    await reporter.until(NS, 'files', () => true)
    let seen = ''
    for (let i = 0; i < 50 && seen === ''; i++) seen = (await run('files', 'build', ['sh', '-c', 'cat /tmp/attached 2>/dev/null || true'])).out
    expect(seen).toBe('attached\n')
    // The main process still runs: closing the attach's stdin did not close the container's.
    expect(byName(reporter.last(NS, 'files')?.containerStatuses, 'build').state.running).toBeDefined()
    await kubelet.remove(NS, 'files', 0)
  }, 90_000)

  it('activeDeadlineSeconds: the containers are killed and the pod fails with DeadlineExceeded', async () => {
    kubelet.run(pod('deadline', { activeDeadlineSeconds: 2, terminationGracePeriodSeconds: 0, containers: [{ name: 'build', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '600'] }] }), reporter)
    await reporter.until(NS, 'deadline', (s) => s.phase === 'Running')
    const s = await reporter.until(NS, 'deadline', (x) => x.phase === 'Failed' && byName(x.containerStatuses, 'build')?.state?.terminated, 45_000)
    expect(s).toMatchObject({ reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' })
    expect(byName(s.containerStatuses, 'build').state.terminated).toMatchObject({ exitCode: 137, reason: 'Error' })
    expect(reporter.eventLines(NS, 'deadline')).toContain('Normal DeadlineExceeded: Pod was active on the node longer than the specified deadline')
    await kubelet.remove(NS, 'deadline', 0)
  }, 90_000)

  it('a pod that does not fit beside a running one is scheduled when that one is removed; PVC data outlives its pod, hostPath is the engine host\'s directory', async () => {
    const small = new DockerKubelet({ docker: engine, network: net, label: LABEL, allocatable: { cpu: '1', memory: '1Gi' } })
    const host = mkdtempSync(join(tmpdir(), 'glrun-k8s-hostpath-'))
    try {
      reporter.put('persistentvolumeclaims', NS, 'cache', { spec: { accessModes: ['ReadWriteOnce'] } })
      const mounts = [{ name: 'cache', mountPath: '/cache' }, { name: 'host', mountPath: '/host' }]
      const volumes = [{ name: 'cache', persistentVolumeClaim: { claimName: 'cache' } }, { name: 'host', hostPath: { path: host } }]
      small.run(pod('first', { volumes, containers: [{ name: 'build', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'echo kept > /cache/file; echo on-host > /host/file; sleep 60'], volumeMounts: mounts, resources: { requests: { cpu: '800m' } } }] }), reporter)
      await reporter.until(NS, 'first', (s) => s.phase === 'Running')
      small.run(pod('second', { volumes, containers: [{ name: 'build', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['cat', '/cache/file'], volumeMounts: mounts, resources: { requests: { cpu: '500m' } } }] }), reporter)
      expect((await reporter.until(NS, 'second', () => true)).conditions[0].message).toBe('0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.')
      expect(await eventually(() => (existsSync(join(host, 'file')) ? readFileSync(join(host, 'file'), 'utf8') : undefined))).toBe('on-host\n')
      await small.remove(NS, 'first', 0)
      expect(docker('volume', 'ls', '-q', '--filter', `name=glrun-pvc-${NS}-cache`).trim()).toBe(`glrun-pvc-${NS}-cache`)
      await reporter.until(NS, 'second', (s) => s.phase === 'Succeeded')
      expect(reporter.eventLines(NS, 'second')).toContain(`Normal Scheduled: Successfully assigned ${NS}/second to glrun-node-1`)
      expect(await small.logs(NS, 'second', 'build')).toBe('kept\n')
    } finally {
      await small.close()
      rmSync(host, { recursive: true, force: true })
    }
    // close() takes the claim's volume too: it carries the kubelet's label.
    expect(docker('volume', 'ls', '-q', '--filter', `name=glrun-pvc-${NS}-cache`).trim()).toBe('')
  }, 90_000)

  it('lifecycle hooks: postStart runs after the start, a failing one kills its container with FailedPostStartHook; preStop runs on removal; runAsNonRoot refuses a root image', async () => {
    const host = mkdtempSync(join(tmpdir(), 'glrun-k8s-hooks-'))
    try {
      const p = pod('hooks', {
        terminationGracePeriodSeconds: 1,
        volumes: [{ name: 'host', hostPath: { path: host } }],
        containers: [
          { name: 'build', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh'], stdin: true, volumeMounts: [{ name: 'host', mountPath: '/host' }],
            lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo post > /host/post'] } }, preStop: { exec: { command: ['sh', '-c', 'echo pre > /host/pre'] } } } },
          { name: 'bad', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '60'], lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo nope; exit 2'] } } } },
          { name: 'rooted', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '60'], securityContext: { runAsNonRoot: true } },
        ],
      })
      kubelet.run(p, reporter)
      const s = await reporter.until(NS, 'hooks', (x) => byName(x.containerStatuses, 'bad')?.state?.terminated && byName(x.containerStatuses, 'build')?.state?.running)
      expect(readFileSync(join(host, 'post'), 'utf8')).toBe('post\n')
      expect(byName(s.containerStatuses, 'bad').state.terminated.exitCode).toBe(137)
      const lines = reporter.events.filter((e) => e.pod === `${NS}/hooks` && e.fieldPath === 'spec.containers{bad}').map((e) => `${e.type} ${e.reason}: ${e.message}`)
      const failed = `Warning FailedPostStartHook: Exec lifecycle hook ([sh -c echo nope; exit 2]) for Container "bad" in Pod "hooks_${NS}(${p.metadata.uid})" failed - error: command 'sh -c echo nope; exit 2' exited with 2: , message: "nope\\n"`
      expect(lines.slice(lines.indexOf('Normal Started: Started container bad') + 1)).toEqual([failed, 'Normal Killing: FailedPostStartHook'])
      // busybox runs as root: runAsNonRoot keeps the container from being made.
      const rooted = await reporter.until(NS, 'hooks', (x) => byName(x.containerStatuses, 'rooted')?.state?.waiting?.reason === 'CreateContainerConfigError')
      expect(byName(rooted.containerStatuses, 'rooted').state.waiting.message).toBe(`container has runAsNonRoot and image will run as root (pod: "hooks_${NS}(${p.metadata.uid})", container: rooted)`)
      expect(existsSync(join(host, 'pre'))).toBe(false)
      await kubelet.remove(NS, 'hooks', 1)
      expect(readFileSync(join(host, 'pre'), 'utf8')).toBe('pre\n')
    } finally {
      rmSync(host, { recursive: true, force: true })
    }
  }, 90_000)

  it('imagePullSecrets: a registry that wants credentials refuses a pull without them and serves one with them (Pulled with duration and size)', async () => {
    const { image, stop } = await privateRegistry('ada', 'lovelace')
    try {
      const b64 = (x: string): string => Buffer.from(x).toString('base64')
      const registry = image.split('/')[0]!
      reporter.put('secrets', NS, 'regcred', { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64(JSON.stringify({ auths: { [registry]: { auth: b64('ada:lovelace') } } })) } })
      kubelet.run(pod('no-creds', { containers: [{ name: 'build', image, imagePullPolicy: 'Always', command: ['true'] }] }), reporter)
      const refused = await reporter.until(NS, 'no-creds', (s) => byName(s.containerStatuses, 'build')?.state?.waiting?.reason === 'ErrImagePull')
      expect(byName(refused.containerStatuses, 'build').state.waiting.message).toMatch(/^rpc error: code = Unknown desc = Error response from daemon: .*no basic auth credentials/)
      await kubelet.remove(NS, 'no-creds', 0)
      kubelet.run(pod('with-creds', { imagePullSecrets: [{ name: 'regcred' }], containers: [{ name: 'build', image, imagePullPolicy: 'Always', command: ['sleep', '60'] }] }), reporter)
      const s = await reporter.until(NS, 'with-creds', (x) => x.phase === 'Running')
      expect(byName(s.containerStatuses, 'build').imageID).toMatch(/^docker-pullable:\/\/127\.0\.0\.1:\d+\/glrun\/private@sha256:[0-9a-f]{64}$/)
      const lines = reporter.eventLines(NS, 'with-creds')
      expect(lines.slice(1, 3)).toEqual([`Normal Pulling: Pulling image "${image}"`, expect.stringMatching(new RegExp(`^Normal Pulled: Successfully pulled image "${image.replace(/[.]/g, '\\.')}" in [0-9.]+m?s \\([0-9.]+m?s including waiting\\)\\. Image size: \\d+ bytes\\.$`))])
      await kubelet.remove(NS, 'with-creds', 0)
    } finally {
      await stop()
    }
  }, 90_000)
})
