import { createHash } from 'node:crypto'
import { type Server, createServer } from 'node:http'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SourceTexts } from '../../diagnostics/source.js'
import { spanAt } from '../yaml/positions.js'
import { localFiles } from './fetch.js'
import { type IncludeOptions, resolveConfig } from './index.js'

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'glrun-inc-'))
  dirs.push(dir)
  for (const [p, t] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true })
    writeFileSync(join(dir, p), t)
  }
  return dir
}

function resolve(dir: string, extra: Partial<IncludeOptions> = {}) {
  return resolveConfig({ projectDir: dir, vars: (n) => ({ CI_SERVER_FQDN: 'gitlab.example.com', ENV: 'prod' } as Record<string, string>)[n], sources: new SourceTexts(), ...extra })
}

/** A real HTTP server on loopback: remote includes and a fake GitLab files/templates API. */
let server: Server
let base = ''
const hits: { url: string; token?: string }[] = []
beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push({ url: req.url ?? '', ...(req.headers['private-token'] ? { token: String(req.headers['private-token']) } : {}) })
    const url = req.url ?? ''
    if (url === '/ci/remote.yml') return void res.end('remote-job:\n  script: [echo remote]\n')
    if (url === '/ci/broken.yml') return void res.writeHead(500).end('oops')
    if (url.startsWith('/api/v4/projects/group%2Ftemplates/repository/files/ci%2Fbase.yml/raw?ref=v1')) {
      if (req.headers['private-token'] !== 'tok') return void res.writeHead(401).end()
      return void res.end('.base:\n  image: alpine\n')
    }
    if (url.startsWith('/api/v4/templates/gitlab_ci_ymls/Security%2FSAST')) return void res.end(JSON.stringify({ name: 'SAST', content: 'sast:\n  script: [sast]\n' }))
    res.writeHead(404).end()
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((r) => server.close(() => r())))

describe('include', () => {
  it('local: merges under the including file, later includes win, globs sorted, nested includes', async () => {
    const dir = project({
      '.gitlab-ci.yml': 'include:\n  - ci/a.yml\n  - local: "ci/jobs/*.yml"\nvariables: {X: root}\njob: {variables: {B: root}}\n',
      'ci/a.yml': 'include: ci/nested.yml\nvariables: {X: a, Y: a}\njob: {script: [a], variables: {A: a, B: a}}\n',
      'ci/nested.yml': '.n: {tags: [n]}\n',
      'ci/jobs/2.yml': 'two: {script: [two], stage: x}\n',
      'ci/jobs/1.yml': 'one: {script: [one]}\ntwo: {script: [first], stage: y}\n',
    })
    const r = await resolve(dir)
    expect(r.errors).toEqual([])
    expect(r.config).toMatchObject({ variables: { X: 'root', Y: 'a' }, job: { script: ['a'], variables: { A: 'a', B: 'root' } }, '.n': { tags: ['n'] }, two: { script: ['two'], stage: 'x' } })
    expect(r.files).toEqual(['.gitlab-ci.yml', 'ci/a.yml', 'ci/nested.yml', 'ci/jobs/1.yml', 'ci/jobs/2.yml'])
    expect(spanAt(r.config, ['job', 'script'])).toMatchObject({ file: 'ci/a.yml', line: 3 })
  })

  it('local wildcards as GitLab expands them: * one directory, ** anything, **/ at least one subfolder', () => {
    const dir = project({ 'configs/a.yml': '', 'configs/sub/b.yml': '', 'configs/sub/deep/c.yml': '', 'configs/x.yaml': '', 'top.yml': '' })
    expect(localFiles(dir, 'configs/*.yml')).toEqual(['configs/a.yml'])
    expect(localFiles(dir, 'configs/**/*.yml')).toEqual(['configs/sub/b.yml', 'configs/sub/deep/c.yml'])
    expect(localFiles(dir, 'configs/**.yml')).toEqual(['configs/a.yml', 'configs/sub/b.yml', 'configs/sub/deep/c.yml'])
    expect(localFiles(dir, '/configs/*/*.yml')).toEqual(['configs/sub/b.yml'])
    expect(localFiles(dir, '**.yml')).toEqual(['configs/a.yml', 'configs/sub/b.yml', 'configs/sub/deep/c.yml', 'top.yml'])
    expect(localFiles(dir, 'configs/{a,x}*.yml')).toEqual([])
  })

  it('local: missing file and escapes are errors at the include entry', async () => {
    const outside = project({ 'secret.yml': 'x: {script: [x]}\n' })
    const dir = project({ '.gitlab-ci.yml': `include:\n  - nope.yml\n  - ../x.yml\n  - /../../etc/passwd\n  - link.yml\n` })
    symlinkSync(join(outside, 'secret.yml'), join(dir, 'link.yml'))
    const r = await resolve(dir)
    expect(r.errors.map((e) => [e.code, e.where?.line])).toEqual([
      ['GLRUN_INCLUDE_LOCAL_MISSING', 2], ['GLRUN_INCLUDE_OUTSIDE_PROJECT', 3], ['GLRUN_INCLUDE_OUTSIDE_PROJECT', 4], ['GLRUN_INCLUDE_OUTSIDE_PROJECT', 5],
    ])
    expect(r.errors[0]!.message).toBe('Local file `nope.yml` does not exist!')
  })

  it('inputs: defaults, types, options, interpolation keeps the type of a whole value', async () => {
    const dir = project({
      '.gitlab-ci.yml': 'include:\n  - local: t.yml\n    inputs: {env: prod, tags: [a, b]}\n',
      't.yml': 'spec:\n  inputs:\n    env: {options: [dev, prod]}\n    tags: {type: array}\n    n: {type: number, default: 2}\n---\n"deploy-$[[ inputs.env ]]":\n  tags: $[[ inputs.tags ]]\n  parallel: $[[ inputs.n ]]\n  script: ["echo $[[ inputs.env | truncate(0,2) ]]"]\n',
    })
    const r = await resolve(dir)
    expect(r.errors).toEqual([])
    expect(r.config['deploy-prod']).toEqual({ tags: ['a', 'b'], parallel: 2, script: ['echo pr'] })
    const bad = project({ '.gitlab-ci.yml': 'include:\n  - local: t.yml\n    inputs: {env: qa, extra: 1}\n', 't.yml': 'spec:\n  inputs:\n    env: {options: [dev, prod]}\n    need: {}\n---\nx: {script: [x]}\n' })
    const msgs = (await resolve(bad)).errors.map((e) => e.message)
    expect(msgs).toEqual([
      't.yml: unknown input arguments: extra',
      't.yml: `env` input: `qa` cannot be used because it is not in the list of allowed options',
      't.yml: `need` input: required value has not been provided',
    ])
  })

  it('remote: fetched over HTTP, cached for offline runs, integrity checked', async () => {
    const cache = project({})
    const dir = project({ '.gitlab-ci.yml': `include:\n  - remote: ${base}/ci/remote.yml\n` })
    expect((await resolve(dir, { remoteCacheDir: cache })).config).toHaveProperty('remote-job')
    const offline = await resolve(dir, { remoteCacheDir: cache, fetch: () => Promise.reject(new Error('network down')) })
    expect(offline.errors).toEqual([])
    expect(offline.warnings[0]!.message).toMatch(/network down; using the cached copy/)
    const sum = createHash('sha256').update('remote-job:\n  script: [echo remote]\n').digest('base64')
    const good = project({ '.gitlab-ci.yml': `include:\n  - remote: ${base}/ci/remote.yml\n    integrity: sha256-${sum}\n` })
    expect((await resolve(good)).errors).toEqual([])
    const wrong = project({ '.gitlab-ci.yml': `include:\n  - remote: ${base}/ci/remote.yml\n    integrity: sha256-AAAA\n` })
    expect((await resolve(wrong)).errors.map((e) => e.code)).toEqual(['GLRUN_INCLUDE_INTEGRITY'])
    const broken = project({ '.gitlab-ci.yml': `include: ${base}/ci/broken.yml\n` })
    expect((await resolve(broken)).errors[0]!.message).toMatch(/HTTP 500/)
  })

  it('project/template/component from a GitLab instance (token sent), or a local mapping', async () => {
    const dir = project({ '.gitlab-ci.yml': 'include:\n  - project: group/templates\n    ref: v1\n    file: ci/base.yml\n  - template: Security/SAST.gitlab-ci.yml\njob: {extends: .base, script: [x]}\n' })
    const r = await resolve(dir, { gitlab: { url: base, token: 'tok' } })
    expect(r.errors).toEqual([])
    expect(r.config).toMatchObject({ '.base': { image: 'alpine' }, sast: { script: ['sast'] } })
    expect(hits.some((h) => h.token === 'tok')).toBe(true)
    const checkout = project({ 'templates/deploy/template.yml': 'spec:\n  inputs:\n    stage: {default: deploy}\n---\ndeploy:\n  stage: $[[ inputs.stage ]]\n  script: [d]\n' })
    const comp = project({ '.gitlab-ci.yml': 'include:\n  - component: $CI_SERVER_FQDN/group/comps/deploy@1.0\n    inputs: {stage: test}\n' })
    expect((await resolve(comp, { projectMap: { 'group/comps': checkout } })).config).toMatchObject({ deploy: { stage: 'test' } })
  })

  it('unreachable non-local includes name the include, the place and the option that fixes it', async () => {
    const dir = project({ '.gitlab-ci.yml': 'include:\n  - project: group/x\n    file: a.yml\n  - template: Auto-DevOps.gitlab-ci.yml\n  - component: gitlab.example.com/g/c/name@1\n' })
    const r = await resolve(dir)
    expect(r.errors.map((e) => [e.code, e.where?.line, e.hint?.match(/--include-project|--templates-dir|--gitlab-url/)?.[0]])).toEqual([
      ['GLRUN_INCLUDE_UNRESOLVABLE', 2, '--include-project'],
      ['GLRUN_INCLUDE_UNRESOLVABLE', 4, '--templates-dir'],
      ['GLRUN_INCLUDE_UNRESOLVABLE', 5, '--include-project'],
    ])
  })

  it('a cycle stops, and the include limit counts every inclusion', async () => {
    const cyc = project({ '.gitlab-ci.yml': 'include: a.yml\nx: {script: [x]}\n', 'a.yml': 'include: b.yml\n', 'b.yml': 'include: a.yml\n' })
    expect((await resolve(cyc)).errors.map((e) => e.code)).toEqual(['GLRUN_INCLUDE_CYCLE'])
    const many = project({ '.gitlab-ci.yml': `include: [${Array.from({ length: 5 }, () => 'a.yml').join(', ')}]\n`, 'a.yml': 'a: {script: [a]}\n' })
    expect((await resolve(many, { maxIncludes: 3 })).errors.map((e) => e.message)).toEqual(['Maximum of 3 nested includes are allowed!'])
  })
})
