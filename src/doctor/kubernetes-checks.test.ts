import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer as tlsServer } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closedPort as closedLoopbackPort, listenQuietly, selfSignedCertificate } from '../../test/support/loopback.js'
import { loadRunnerConfig } from '../runner-config/load.js'
import type { RunnerSettings } from '../runner-config/types.js'
import { checkKubernetesApi } from './kubernetes-checks.js'

/**
 * The Kubernetes API check against a stand-in API server on loopback: a TLS server whose
 * certificate is self-signed, as a kubeadm cluster's CA-signed one looks to a machine without
 * the cluster CA. The check only connects and judges the certificate, so a TLS server is enough.
 */
const dir = mkdtempSync(join(tmpdir(), 'glrun-kube-'))
const home = join(dir, 'home')
let port = 0
let closedPort = 0
let cert = ''
const servers: Server[] = []

beforeAll(async () => {
  mkdirSync(home)
  const self = selfSignedCertificate(dir, 'kubernetes')
  cert = self.cert
  const s = tlsServer({ cert, key: self.key }, (c) => c.end())
  servers.push(s)
  port = await listenQuietly(s)
  closedPort = await closedLoopbackPort()
})

afterAll(() => {
  for (const s of servers) s.close()
  rmSync(dir, { recursive: true, force: true })
})

let n = 0
function runner(kubernetes: string): RunnerSettings {
  const path = join(dir, `config-${++n}.toml`)
  writeFileSync(path, `[[runners]]\n  name = "k"\n  url = "https://gitlab.example.com/"\n  token = "glrt-x"\n  executor = "kubernetes"\n  [runners.kubernetes]\n${kubernetes}`)
  return loadRunnerConfig(path).config.runners[0]!
}

const ctx = (env: NodeJS.ProcessEnv = { HOME: home }) => ({ timeoutMs: 2000, env })

describe('the Kubernetes API a kubernetes runner needs', () => {
  it('host with a certificate this machine does not trust: FAIL, with the ca_file fix', async () => {
    const f = await checkKubernetesApi('r', runner(`    host = "https://127.0.0.1:${port}"\n`), ctx())
    expect(f).toMatchObject({ check: 'kubernetes', status: 'fail', what: expect.stringMatching(/\[runners\.kubernetes\] host.*self-signed/) })
    expect(f.snippet).toContain(`host = "https://127.0.0.1:${port}"\n  ca_file = `)
  })

  it('host with ca_file holding the CA: ok', async () => {
    const f = await checkKubernetesApi('r', runner(`    host = "https://127.0.0.1:${port}"\n    ca_file = "${join(dir, 'cert.pem')}"\n`), ctx())
    expect(f).toMatchObject({ status: 'ok', what: expect.stringMatching(/answers and its certificate is trusted with the configured CA/) })
  })

  it('a ca_file that cannot be read is named', async () => {
    const f = await checkKubernetesApi('r', runner(`    host = "https://127.0.0.1:${port}"\n    ca_file = "${join(dir, 'missing.pem')}"\n`), ctx())
    expect(f).toMatchObject({ status: 'fail', what: expect.stringMatching(/ca_file ".*missing\.pem" cannot be read: ENOENT/) })
  })

  it('nothing listening: out of reach, refused', async () => {
    const f = await checkKubernetesApi('r', runner(`    host = "https://127.0.0.1:${closedPort}"\n`), ctx())
    expect(f).toMatchObject({ status: 'fail', what: expect.stringMatching(/out of reach: .*refused/) })
  })

  it('no host: the kubeconfig in $KUBECONFIG, its current context, its CA data', async () => {
    const kubeconfig = join(dir, 'kubeconfig')
    writeFileSync(kubeconfig, `apiVersion: v1
kind: Config
current-context: lab
contexts:
  - name: other
    context: {cluster: nowhere}
  - name: lab
    context: {cluster: lab}
clusters:
  - name: nowhere
    cluster: {server: "https://127.0.0.1:${closedPort}"}
  - name: lab
    cluster:
      server: https://127.0.0.1:${port}
      certificate-authority-data: ${Buffer.from(cert).toString('base64')}
`)
    const f = await checkKubernetesApi('r', runner('    namespace = "ci"\n'), ctx({ HOME: home, KUBECONFIG: kubeconfig }))
    expect(f).toMatchObject({ status: 'ok', what: `the Kubernetes API at https://127.0.0.1:${port} (kubeconfig ${kubeconfig}) answers and its certificate is trusted with the configured CA` })
  })

  it('no host: in-cluster when KUBERNETES_SERVICE_HOST is set', async () => {
    const f = await checkKubernetesApi('r', runner('    namespace = "ci"\n'), ctx({ HOME: home, KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(closedPort) }))
    expect(f).toMatchObject({ status: 'fail', what: expect.stringMatching(new RegExp(`https://127\\.0\\.0\\.1:${closedPort} \\(in-cluster\\) is out of reach`)) })
  })

  it('no host, no cluster, no kubeconfig: FAIL with the host/ca_file snippet', async () => {
    const f = await checkKubernetesApi('r', runner('    namespace = "ci"\n'), ctx())
    expect(f).toMatchObject({ status: 'fail', what: expect.stringMatching(/no Kubernetes API to create job pods with/) })
    expect(f.snippet).toMatch(/^\[runners\.kubernetes\]\n  host = /)
  })

  it('insecure-skip-tls-verify in the kubeconfig: a warning, not a trust check', async () => {
    mkdirSync(join(home, '.kube'), { recursive: true })
    writeFileSync(join(home, '.kube', 'config'), `clusters:\n  - name: c\n    cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}\ncontexts:\n  - name: c\n    context: {cluster: c}\ncurrent-context: c\n`)
    const f = await checkKubernetesApi('r', runner('    namespace = "ci"\n'), ctx())
    expect(f).toMatchObject({ status: 'warn', what: expect.stringMatching(/not checked \(insecure-skip-tls-verify\)/) })
    rmSync(join(home, '.kube'), { recursive: true })
  })
})
