import { describe, expect, it } from 'vitest'
import { checkTargets } from './active-checks.js'
import type { Diagnosis, DiagnosisReport } from './types.js'

function report(category: string, ...lines: string[]): DiagnosisReport {
  const d: Diagnosis = { category, title: 't', cause: 'c', evidence: lines.map((text, i) => ({ line: i + 1, text })), fixes: [], confidence: 0.8 }
  return { diagnoses: [d] }
}

describe('checkTargets', () => {
  it('takes the host git could not resolve, and its port from the URL', () => {
    const r = report('gitlab_host_unreachable_from_job', "fatal: unable to access 'https://gitlab.mylab.com/grp/proj.git/': Could not resolve host: gitlab.mylab.com")
    expect(checkTargets(r, 'kubernetes')).toEqual([{ host: 'gitlab.mylab.com', port: 443, tls: true, registry: false }])
  })

  it('takes host and port of a refused or timed-out connect', () => {
    const r = report('egress_blocked_firewall', 'Error response from daemon: Get "https://registry.corp.test:5000/v2/": dial tcp 10.1.2.3:5000: i/o timeout')
    expect(checkTargets(r, 'docker')).toEqual([{ host: 'registry.corp.test', port: 5000, tls: true, registry: false }, { host: '10.1.2.3', port: 5000, tls: false, registry: false }])
  })

  it('marks registry hosts for a /v2/ check', () => {
    const r = report('registry_rate_limited', 'toomanyrequests: You have reached your pull rate limit. https://registry-1.docker.io/v2/library/node/manifests/20')
    expect(checkTargets(r, 'docker')).toEqual([{ host: 'registry-1.docker.io', port: 443, tls: true, registry: true }])
  })

  it('leaves out names that mean the container itself or the dind service, except for shell jobs', () => {
    const r = report('dns_resolution_failure', 'Cannot connect to the Docker daemon at tcp://docker:2375. error during connect: lookup docker on 10.0.0.2:53: no such host', "curl: (7) Failed to connect to localhost port 8080: Connection refused")
    expect(checkTargets(r, 'docker')).toEqual([])
    expect(checkTargets(r, 'shell')).toEqual([{ host: 'localhost', port: 8080, tls: false, registry: false }])
  })

  it('checks nothing for failures that are not about the network', () => {
    expect(checkTargets(report('oom_killed', 'fatal: unable to access https://gitlab.example.com/x.git'), 'docker')).toEqual([])
  })
})
