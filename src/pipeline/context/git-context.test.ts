import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { GlrunError, GlrunErrors } from '../../diagnostics/errors.js'
import { git, makeRepo } from '../../../test/support/git-repo.js'
import { loadPipelineContext } from './git-context.js'
import { parseRemote } from './remote-url.js'
import { slugify } from './slug.js'

const cleanups: (() => void)[] = []
afterAll(() => cleanups.forEach((c) => c()))
function repo(opts: Parameters<typeof makeRepo>[0] = {}): string {
  const r = makeRepo({ history: true, ...opts })
  cleanups.push(r.cleanup)
  return r.dir
}
const v = (ctx: { predefined: readonly { key: string; value: string }[] }, key: string): string | undefined =>
  ctx.predefined.find((x) => x.key === key)?.value

describe('pipeline context from git', () => {
  it('derives commit, ref, project and user variables', async () => {
    const dir = repo({ origin: 'git@gitlab.mylab.com:root/mycicd.git', files: { 'a.txt': 'x' } })
    const ctx = await loadPipelineContext({ cwd: dir })
    const head = git(dir, 'rev-parse', 'HEAD').trim()
    expect(ctx.sha).toBe(head)
    expect(v(ctx, 'CI_COMMIT_SHORT_SHA')).toBe(head.slice(0, 8))
    expect(v(ctx, 'CI_COMMIT_BEFORE_SHA')).toBe(git(dir, 'rev-parse', 'HEAD^').trim())
    expect(v(ctx, 'CI_COMMIT_BRANCH')).toBe('main')
    expect(v(ctx, 'CI_COMMIT_TAG')).toBeUndefined()
    expect(v(ctx, 'CI_COMMIT_TITLE')).toBe('Add pipeline')
    expect(v(ctx, 'CI_COMMIT_DESCRIPTION')).toBe('The body of the commit message.')
    expect(v(ctx, 'CI_COMMIT_AUTHOR')).toBe('Ada Lovelace <ada@example.com>')
    expect(v(ctx, 'CI_PROJECT_PATH')).toBe('root/mycicd')
    expect(v(ctx, 'CI_SERVER_URL')).toBe('https://gitlab.mylab.com')
    expect(v(ctx, 'CI_REGISTRY_IMAGE')).toBe('registry.gitlab.mylab.com/root/mycicd')
    expect(v(ctx, 'GITLAB_USER_LOGIN')).toBe('ada')
    expect(v(ctx, 'CI_PIPELINE_SOURCE')).toBe('push')
    expect(v(ctx, 'CI_COMMIT_REF_PROTECTED')).toBe('true')
  })

  it('a tag checkout is a tag pipeline with no before sha', async () => {
    const dir = repo()
    git(dir, 'tag', 'v1.2.3')
    git(dir, 'checkout', '-q', '--detach', 'v1.2.3')
    const ctx = await loadPipelineContext({ cwd: dir })
    expect([ctx.refType, ctx.ref, v(ctx, 'CI_COMMIT_TAG'), v(ctx, 'CI_COMMIT_BRANCH')]).toEqual(['tag', 'v1.2.3', 'v1.2.3', undefined])
    expect(ctx.beforeSha).toMatch(/^0{40}$/)
    expect(ctx.changedFiles()).toBeNull()
  })

  it('--ref and user variables override what git says, consistently', async () => {
    const dir = repo()
    const ctx = await loadPipelineContext({ cwd: dir, ref: 'Feature/ABC_123', variables: { CI_PIPELINE_SOURCE: 'schedule' } })
    expect([ctx.ref, v(ctx, 'CI_COMMIT_REF_SLUG'), ctx.pipelineSource]).toEqual(['Feature/ABC_123', 'feature-abc-123', 'schedule'])
    expect(ctx.changedFiles()).toBeNull()
  })

  it('without origin uses documented defaults', async () => {
    const dir = repo()
    const ctx = await loadPipelineContext({ cwd: dir })
    expect(ctx.projectPath).toMatch(/^local\/glrun-repo-/)
    expect(ctx.serverUrl).toBe('https://gitlab.example.com')
  })

  it('changes: committed diff plus uncommitted and untracked files; compare_to', async () => {
    const dir = repo({ files: { 'src/a.ts': 'a' } })
    writeFileSync(join(dir, 'README.md'), 'edited\n')
    writeFileSync(join(dir, 'new.txt'), 'untracked\n')
    const ctx = await loadPipelineContext({ cwd: dir })
    expect([...ctx.changedFiles()!].sort()).toEqual(['README.md', 'new.txt', 'src/a.ts'])
    expect(ctx.treeFiles()).toContain('new.txt')
    expect(() => ctx.changedFiles('no-such-branch')).toThrow(GlrunError)
  })

  it('variables file: plain, masked, file and raw entries; errors with positions', async () => {
    const dir = repo({ files: { '.glrun/variables.yml': 'PLAIN: 1\nSECRET: { value: s3cr3t-value, masked: true }\nCERT: { value: pem, file: true }\n' } })
    const ctx = await loadPipelineContext({ cwd: dir, maskedVariables: { TOKEN: 'abcdefgh' } })
    expect(ctx.userVariables).toEqual([
      { key: 'PLAIN', value: '1' }, { key: 'SECRET', value: 's3cr3t-value', masked: true }, { key: 'CERT', value: 'pem', file: true },
      { key: 'TOKEN', value: 'abcdefgh', masked: true },
    ])
    const bad = repo({ files: { 'vars.yml': 'OK: 1\nBAD: { valu: 2 }\n' } })
    const err = await loadPipelineContext({ cwd: bad, variablesFile: join(bad, 'vars.yml') }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(GlrunErrors)
    expect((err as GlrunErrors).errors[0]).toMatchObject({ code: 'GLRUN_VARIABLES_FILE_ENTRY', where: { line: 2 } })
  })

  it('outside a repository or before the first commit: a clear error', async () => {
    await expect(loadPipelineContext({ cwd: '/' })).rejects.toMatchObject({ code: 'GLRUN_NOT_A_GIT_REPO' })
    const empty = makeRepo({ files: { '.gitlab-ci.yml': 'job: { script: [x] }\n' } })
    cleanups.push(empty.cleanup)
    git(empty.dir, 'update-ref', '-d', 'HEAD')
    await expect(loadPipelineContext({ cwd: empty.dir })).rejects.toMatchObject({ code: 'GLRUN_NO_COMMIT' })
    // Reading the file only (lint, list, compile): the zero SHA, no parent, rules:changes true.
    const ctx = await loadPipelineContext({ cwd: empty.dir, commitOptional: true })
    expect(ctx).toMatchObject({ sha: '0'.repeat(40), beforeSha: '0'.repeat(40), ref: 'main', refType: 'branch' })
    expect(ctx.changedFiles()).toBeNull()
    expect(ctx.treeFiles()).toContain('.gitlab-ci.yml')
  })
})

describe('remote URLs', () => {
  it.each([
    ['https://gitlab.com/group/sub/proj.git', 'https://gitlab.com', 'group/sub/proj'],
    ['https://user:glpat-xyz@gitlab.example.com:8443/g/p', 'https://gitlab.example.com:8443', 'g/p'],
    ['git@gitlab.mylab.com:root/mycicd.git', 'https://gitlab.mylab.com', 'root/mycicd'],
    ['ssh://git@gitlab.example.com:2222/group/proj.git', 'https://gitlab.example.com', 'group/proj'],
    ['http://localhost:8080/a/b.git', 'http://localhost:8080', 'a/b'],
  ])('%s', (url, server, path) => {
    expect(parseRemote(url)).toMatchObject({ serverUrl: server, projectPath: path })
  })
  it('is undefined for local paths', () => expect(parseRemote('/srv/repos/x.git')).toBeUndefined())
})

describe('slugify', () => {
  it.each([
    ['Feature/ABC_123', 'feature-abc-123'], ['main', 'main'], ['-x-', 'x'], ['ünïcode', 'n-code'],
    [`${'a'.repeat(70)}`, 'a'.repeat(63)], [`${'a'.repeat(62)}/b`, 'a'.repeat(62)],
  ])('%s → %s', (input, out) => expect(slugify(input)).toBe(out))
})
