import { describe, expect, it } from 'vitest'
import { compileYaml } from '../../../test/support/compile-yaml.js'

async function found(yaml: string, variables: Record<string, string> = {}): Promise<{ line?: number; col?: number; message: string; hint?: string }[]> {
  const p = await compileYaml(yaml, { variables })
  expect(p.errors.map((e) => e.message)).toEqual([])
  return p.warnings.filter((w) => w.code === 'GLRUN_DIND_SERVICE_MISSING').map((w) => ({
    message: w.message, ...(w.where ? { line: w.where.line, col: w.where.col } : {}), ...(w.hint ? { hint: w.hint } : {}),
  }))
}

describe('GLRUN_DIND_SERVICE_MISSING', () => {
  it('docker commands in a container job without a daemon: points at the first such line, both fixes in the hint', async () => {
    const w = await found('build:\n  image: docker:24.0.5\n  before_script:\n    - docker --version\n    - docker login -u x -p y registry.example.com\n  script:\n    - echo "docker build"\n    - docker build -t app .\n')
    expect(w).toEqual([expect.objectContaining({ line: 8, col: 7, message: expect.stringMatching(/^build: runs `docker build`, but the job has no Docker daemon/) })])
    expect(w[0]!.hint).toContain('`services: [docker:24.0.5-dind]`')
    expect(w[0]!.hint).toContain('volumes = ["/var/run/docker.sock:/var/run/docker.sock"]')
  })
  it('docker compose, docker-compose and sudo docker count; matrix instances give one warning', async () => {
    expect((await found('a:\n  image: alpine\n  script: ["sudo docker compose up -d"]\n'))[0]!.message).toMatch(/runs `docker compose up`/)
    expect((await found('a:\n  image: alpine\n  script: ["docker-compose -f ci.yml run tests"]\n'))[0]!.message).toMatch(/runs `docker-compose run`/)
    const m = await found('a:\n  image: docker:27\n  parallel:\n    matrix: [{ARCH: [amd64, arm64]}]\n  script: [docker build --platform linux/$ARCH .]\n')
    expect(m.map((x) => x.message.split(':')[0])).toEqual(['a'])
    expect(m[0]!.message).toMatch(/^a: \[amd64\], a: \[arm64\]: runs/)
  })
  it('a dind image as job image does not start its daemon for the script', async () => {
    expect(await found('a:\n  image: docker:dind\n  script: [docker info]\n')).toHaveLength(1)
  })
  it('near misses: echo/comments, client-only commands, no image, shell tags, a service, DOCKER_HOST, dockerd, after_script', async () => {
    const clean = [
      'a:\n  image: alpine\n  script: ["echo docker build  # docker push", "# docker run x"]',
      'b:\n  image: docker:24\n  script: [docker --version, docker login -u u -p p r.example.com, docker manifest inspect alpine, docker buildx build --push ., docker compose config]',
      'c:\n  script: [docker build .]',
      'd:\n  image: docker:24\n  tags: [linux-shell]\n  script: [docker build .]',
      'e:\n  image: docker:24\n  services: [{name: "registry.example.com/ci/dind-rootless:1", alias: builder}]\n  script: [docker build .]',
      'f:\n  image: docker:24\n  variables: {DOCKER_HOST: "ssh://builder@build-host"}\n  script: [docker build .]',
      'g:\n  image: docker:dind\n  script: ["dockerd-entrypoint.sh &", "sleep 5", docker build .]',
      'h:\n  image: docker:24\n  script: [make]\n  after_script: [docker rm -f app]',
      'i:\n  image: docker:24\n  script: [docker -H tcp://build-host:2375 build .]',
      'j:\n  image: docker:24\n  tags: [$RUNNER_TAG]\n  script: [docker build .]',
    ].join('\n') + '\n'
    expect(await found(clean)).toEqual([])
    expect(await found('a:\n  image: docker:24\n  script: [docker build .]\n', { DOCKER_HOST: 'tcp://10.0.0.5:2375' })).toEqual([])
  })
})
