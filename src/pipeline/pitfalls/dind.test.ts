import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { compileYaml } from '../../../test/support/compile-yaml.js'

async function found(yaml: string, variables: Record<string, string> = {}): Promise<{ code: string; line?: number; col?: number; message: string; hint?: string }[]> {
  const p = await compileYaml(yaml, { variables })
  expect(p.errors.map((e) => e.message)).toEqual([])
  return p.warnings.filter((w) => /^GLRUN_DIND_(TLS|DOCKER_HOST)/.test(w.code)).map((w) => ({
    code: w.code, message: w.message, ...(w.where ? { line: w.where.line, col: w.where.col } : {}), ...(w.hint ? { hint: w.hint } : {}),
  }))
}

const job = (vars: string, service = 'docker:24.0-dind', script = 'docker build .'): string =>
  `build:\n  image: docker:24.0\n  services: [${JSON.stringify(service)}]\n  variables:\n${vars}  script: [${JSON.stringify(script)}]\n`

describe('GLRUN_DIND_TLS_MISMATCH', () => {
  it('2375 while DOCKER_TLS_CERTDIR is not "" (the image defaults it to /certs): points at DOCKER_HOST', async () => {
    const w = await found(job('    DOCKER_HOST: tcp://docker:2375\n'))
    expect(w).toEqual([expect.objectContaining({ code: 'GLRUN_DIND_TLS_MISMATCH', line: 5, col: 18 })])
    expect(w[0]!.message).toMatch(/port 2375, but the docker:24\.0-dind service listens on 2376 with TLS only \(DOCKER_TLS_CERTDIR is not set/)
    expect(w[0]!.hint).toMatch(/DOCKER_TLS_CERTDIR: ""/)
    expect((await found(job('    DOCKER_HOST: tcp://docker:2375\n    DOCKER_TLS_CERTDIR: /certs\n')))[0]!.message).toMatch(/DOCKER_TLS_CERTDIR is "\/certs"/)
  })
  it('2376 while DOCKER_TLS_CERTDIR is "", or with a dind older than 19.03', async () => {
    expect((await found(job('    DOCKER_HOST: tcp://docker:2376\n    DOCKER_TLS_CERTDIR: ""\n')))[0]!.message).toMatch(/listens on 2375 without TLS \(DOCKER_TLS_CERTDIR is ""\)/)
    expect((await found(job('    DOCKER_HOST: tcp://docker:2376\n', 'docker:18.09-dind')))[0]!.message).toMatch(/images before 19\.03/)
  })
  it('global variables and --variable count; the warning points where DOCKER_HOST is written', async () => {
    const w = await found('variables:\n  DOCKER_HOST: tcp://docker:2375\nbuild:\n  services: [docker:dind]\n  script: [docker info]\n')
    expect(w.map((x) => [x.code, x.line])).toEqual([['GLRUN_DIND_TLS_MISMATCH', 2]])
    expect(await found('build:\n  services: [docker:dind]\n  script: [docker info]\n', { DOCKER_HOST: 'tcp://docker:2376', DOCKER_TLS_CERTDIR: '' })).toEqual([expect.objectContaining({ code: 'GLRUN_DIND_TLS_MISMATCH' })])
  })
  it('near misses: consistent TLS on or off, service-level or rules DOCKER_TLS_CERTDIR, listen options in command, localhost', async () => {
    expect(await found(job('    DOCKER_HOST: tcp://docker:2376\n    DOCKER_TLS_CERTDIR: "/certs"\n'))).toEqual([])
    expect(await found(job('    DOCKER_HOST: tcp://docker:2375\n    DOCKER_TLS_CERTDIR: ""\n'))).toEqual([])
    expect(await found(job('    DOCKER_HOST: tcp://docker:2375\n', 'docker:19.03.12-dind').replace('services: ["docker:19.03.12-dind"]', 'services:\n    - name: docker:19.03.12-dind\n      variables: {DOCKER_TLS_CERTDIR: ""}'))).toEqual([])
    expect(await found('build:\n  services:\n    - name: docker:dind\n      command: ["--tls=false", "--host=tcp://0.0.0.0:2375"]\n  variables: {DOCKER_HOST: "tcp://docker:2375"}\n  script: [docker info]\n')).toEqual([])
    expect(await found(job('    DOCKER_HOST: tcp://localhost:2376\n'))).toEqual([])
    const ruled = 'build:\n  services: [docker:dind]\n  variables: {DOCKER_HOST: "tcp://docker:2375"}\n  rules:\n    - variables: {DOCKER_TLS_CERTDIR: ""}\n  script: [docker info]\n'
    expect(await found(ruled)).toEqual([])
    expect(await found(ruled, { DOCKER_TLS_CERTDIR: '/certs' })).toEqual([expect.objectContaining({ code: 'GLRUN_DIND_TLS_MISMATCH' })])
    expect(await found(job('    DOCKER_HOST: tcp://docker:2375\n', 'docker:dind', 'export DOCKER_TLS_CERTDIR="" && docker info'))).toEqual([])
  })
})

describe('GLRUN_DIND_DOCKER_HOST', () => {
  it('DOCKER_HOST names no host of the service: a dind pulled through the dependency proxy is not "docker"', async () => {
    const w = await found(job('    DOCKER_HOST: tcp://docker:2376\n', '$CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX/docker:24.0-dind'))
    expect(w).toEqual([expect.objectContaining({ code: 'GLRUN_DIND_DOCKER_HOST', line: 5 })])
    expect(w[0]!.message).toMatch(/points to docker, but the dind service .* is reachable only as gitlab\.example\.com__group__dependency_proxy__containers__docker or/)
    expect(w[0]!.hint).toContain('alias: docker')
  })
  it('an alias other than the host: a service named e.g. dind is not reached as build-daemon', async () => {
    const w = await found('build:\n  services: [{name: "docker:dind", alias: dind}]\n  variables: {DOCKER_HOST: "tcp://build-daemon:2376"}\n  script: [docker info]\n')
    expect(w.map((x) => x.message)).toEqual([expect.stringMatching(/points to build-daemon, but the dind service docker:dind is reachable only as docker or dind/)])
  })
  it('the unix socket with a dind service', async () => {
    const w = await found(job('    DOCKER_HOST: unix:///var/run/docker.sock\n'))
    expect(w).toEqual([expect.objectContaining({ code: 'GLRUN_DIND_DOCKER_HOST', message: expect.stringMatching(/DOCKER_HOST is unix:\/\/\/var\/run\/docker\.sock, but the job's Docker daemon is the docker:24\.0-dind service/) })])
  })
  it('DOCKER_HOST unset while no service is called docker: points at the service', async () => {
    const w = await found('build:\n  image: docker:24.0\n  services:\n    - name: registry.example.com/mirror/docker:24.0-dind\n  script: [docker build .]\n')
    expect(w).toEqual([expect.objectContaining({ code: 'GLRUN_DIND_DOCKER_HOST', line: 4, col: 13, hint: expect.stringContaining('alias: docker') })])
  })
  it('near misses: the default name stays next to an alias; proxy dind with alias docker; no docker command; script sets DOCKER_HOST', async () => {
    expect(await found('build:\n  services: [{name: "docker:dind", alias: dind}]\n  variables: {DOCKER_HOST: "tcp://docker:2375", DOCKER_TLS_CERTDIR: ""}\n  script: [docker info]\n')).toEqual([])
    expect(await found(job('    DOCKER_HOST: tcp://docker:2376\n', 'x').replace('services: ["x"]', 'services:\n    - name: $CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX/docker:24.0-dind\n      alias: docker'))).toEqual([])
    expect(await found('build:\n  services: [registry.example.com/mirror/docker:dind]\n  script: [echo docker build]\n')).toEqual([])
    expect(await found('build:\n  services: [registry.example.com/mirror/docker:dind]\n  script: ["export DOCKER_HOST=tcp://registry.example.com__mirror__docker:2375", docker info]\n')).toEqual([])
    expect(await found('build:\n  services: [{name: "docker:dind", alias: daemon}]\n  variables: {DOCKER_HOST: "tcp://daemon:2376"}\n  script: [docker info]\n')).toEqual([])
  })
  it('the S2 scenario pipeline (dind service, DOCKER_HOST unset) is clean', async () => {
    const yaml = readFileSync(new URL('../../../test/fixtures/scenarios/s2-gitlab-ci.yml', import.meta.url), 'utf8')
    expect(await found(yaml)).toEqual([])
  })
})
