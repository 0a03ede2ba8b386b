import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { kubeConfigFor } from './client.js'
import { kubernetesOptions } from './options.js'

const dir = mkdtempSync(join(tmpdir(), 'glrun-kubeconfig-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('kubeConfigFor: where the API server comes from', () => {
  it('no host, not in a cluster, no kubeconfig: a clear error, not client-node\'s http://localhost:8080', () => {
    expect(() => kubeConfigFor(kubernetesOptions(undefined), { HOME: join(dir, 'nohome') })).toThrow(expect.objectContaining({ code: 'GLRUN_K8S_NO_API' }))
  })

  it('[runners.kubernetes] host wins, with its CA and token', () => {
    writeFileSync(join(dir, 'ca.pem'), 'not really a CA')
    const { kc, source } = kubeConfigFor(kubernetesOptions({ raw: { host: '10.0.0.1:6443', ca_file: join(dir, 'ca.pem'), bearer_token: 't0k' }, pullPolicy: [], hostAliases: [], pollInterval: 3, pollTimeout: 180, imagePullSecrets: [] }), {})
    expect(source).toBe('[runners.kubernetes] host')
    expect(kc.getCurrentCluster()?.server).toBe('https://10.0.0.1:6443')
    expect(kc.getCurrentUser()?.token).toBe('t0k')
  })

  it('an unreadable ca_file is named with its key', () => {
    expect(() => kubeConfigFor(kubernetesOptions({ raw: { host: 'https://h', ca_file: join(dir, 'missing.pem') }, pullPolicy: [], hostAliases: [], pollInterval: 3, pollTimeout: 180, imagePullSecrets: [] }), {})).toThrow(/cannot read ca_file .*missing\.pem: ENOENT/)
  })
})
