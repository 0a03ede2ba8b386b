import { afterAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import { memoryIo } from '../../src/cli/io.js'
import { makeRepo } from '../support/git-repo.js'
import { readFileSync } from 'node:fs'

/** The field scenarios' pipelines (test/fixtures/scenarios) must compile like GitLab compiles them. */
const scenarios = new URL('../fixtures/scenarios/', import.meta.url).pathname
const cleanups: (() => void)[] = []
afterAll(() => cleanups.forEach((c) => c()))

async function compile(file: string, extra: Record<string, string> = {}): Promise<{ pipeline: { stages: string[]; jobs: { name: string; stage: string; needs: unknown }[] }; payloads: { job_info: { name: string }; variables: { key: string; value: string }[]; image: { name: string } | null; services: { name: string; command?: string[] }[] }[] }> {
  const repo = makeRepo({ files: { '.gitlab-ci.yml': readFileSync(scenarios + file, 'utf8'), ...extra }, origin: 'https://gitlab.mylab.com/root/mycicd.git', history: true })
  cleanups.push(repo.cleanup)
  const io = memoryIo()
  const code = await main(['node', 'glrun', 'compile', '--json', '--cwd', repo.dir], io)
  expect(io.stderr).toBe('')
  expect(code).toBe(0)
  return JSON.parse(io.stdout)
}

const varOf = (p: { variables: { key: string; value: string }[] }, key: string): string | undefined =>
  p.variables.filter((v) => v.key === key).at(-1)?.value

describe('S2: glrun lint finds the Dockerfile pitfall before anything runs', () => {
  async function lint(dockerfile: string): Promise<{ code: number; warnings: { code: string; message: string; file?: string; line?: number; hint?: string }[] }> {
    const repo = makeRepo({ files: { '.gitlab-ci.yml': readFileSync(scenarios + 's2-gitlab-ci.yml', 'utf8'), Dockerfile: readFileSync(scenarios + dockerfile, 'utf8') }, origin: 'https://gitlab.mylab.com/root/mycicd.git' })
    cleanups.push(repo.cleanup)
    const io = memoryIo()
    const code = await main(['node', 'glrun', 'lint', '--json', '--cwd', repo.dir], io)
    return { code, warnings: JSON.parse(io.stdout).warnings }
  }
  it('flags s2-Dockerfile.broken: both variables of FROM, with the ARG + --build-arg fix', async () => {
    const r = await lint('s2-Dockerfile.broken')
    const found = r.warnings.filter((w) => w.code === 'GLRUN_DOCKERFILE_ARG')
    expect(found.map((w) => [w.file, w.line, w.message.split(',')[0]])).toEqual([
      ['Dockerfile', 1, 'FROM uses $CI_REGISTRY_IMAGE'], ['Dockerfile', 1, 'FROM uses $CI_COMMIT_BEFORE_SHA'],
    ])
    expect(found[0]!.hint).toMatch(/ARG CI_REGISTRY_IMAGE.*--build-arg CI_REGISTRY_IMAGE=\$CI_REGISTRY_IMAGE.*Docker ignores build args the Dockerfile does not declare/)
  })
  it('accepts s2-Dockerfile.fixed', async () => {
    const r = await lint('s2-Dockerfile.fixed')
    expect(r.code).toBe(0)
    expect(r.warnings.filter((w) => w.code === 'GLRUN_DOCKERFILE_ARG')).toEqual([])
  })
})

describe('field scenarios compile', () => {
  it('s3: build → test (two jobs side by side) → deploy', async () => {
    const out = await compile('s3-gitlab-ci.yml')
    expect(out.pipeline.stages).toEqual(['build', 'test', 'deploy'])
    expect(out.pipeline.jobs.map((j) => [j.name, j.stage, j.needs])).toEqual([
      ['build-job', 'build', null], ['test-job1', 'test', null], ['test-job2', 'test', null], ['deploy-prod', 'deploy', null],
    ])
    const build = out.payloads[0]!
    expect(varOf(build, 'GITLAB_USER_LOGIN')).toBe('ada')
    expect(varOf(build, 'CI_COMMIT_BRANCH')).toBe('main')
    expect(build.image?.name).toBe('busybox:latest')
  })

  it('s4: build → test', async () => {
    const out = await compile('s4-gitlab-ci.yml')
    expect(out.pipeline.stages).toEqual(['build', 'test'])
    expect(out.pipeline.jobs.map((j) => [j.name, j.stage])).toEqual([['build-job', 'build'], ['test-job1', 'test']])
    expect(varOf(out.payloads[0]!, 'GITLAB_USER_LOGIN')).toBe('ada')
  })

  it('s2: the predefined variables its docker build uses exist, and the dind service keeps its command', async () => {
    const out = await compile('s2-gitlab-ci.yml', { Dockerfile: readFileSync(scenarios + 's2-Dockerfile.fixed', 'utf8') })
    const job = out.payloads[0]!
    expect(varOf(job, 'CI_REGISTRY_IMAGE')).toBe('registry.gitlab.mylab.com/root/mycicd')
    expect(varOf(job, 'CI_COMMIT_SHA')).toMatch(/^[0-9a-f]{40}$/)
    expect(varOf(job, 'CI_COMMIT_BEFORE_SHA')).toMatch(/^[0-9a-f]{40}$/)
    expect(job.services[0]).toMatchObject({ name: 'docker:19.03.13-dind', command: ['--insecure-registry=registry.mylab.com'] })
  })
})
