import { describe, expect, it } from 'vitest'
import type { PipelineContext } from '../context/types.js'
import { type RuleEnv, evaluateIncludeRules, evaluateOnlyExcept, evaluateRules, evaluateWorkflow } from './index.js'

function env(over: Partial<PipelineContext> = {}, vars: Record<string, string> = {}, changed: string[] | null = ['src/app.ts', 'docs/a.md'], tree: string[] = ['package.json', 'src/app.ts', '.hidden/x.yml']): RuleEnv {
  const ctx: PipelineContext = {
    projectDir: '/p', sha: 'a'.repeat(40), beforeSha: 'b'.repeat(40), ref: 'main', refType: 'branch', defaultBranch: 'main',
    pipelineSource: 'push', projectPath: 'group/proj', projectName: 'proj', projectNamespace: 'group', serverUrl: 'https://g',
    repoUrl: 'https://g/group/proj.git', pipelineId: 1, pipelineIid: 1, projectId: 1, userId: 1, predefined: [], userVariables: [],
    changedFiles: (compareTo) => (compareTo === 'other' ? ['only-on-other.txt'] : changed), treeFiles: () => tree, ...over,
  }
  const all: Record<string, string> = { CI_COMMIT_BRANCH: ctx.ref, CI_DEFAULT_BRANCH: 'main', ...vars }
  return { ctx, vars: (n) => all[n], expand: (s) => s.replace(/\$([A-Z_]+)/g, (_m, n: string) => all[n] ?? '') }
}

describe('rules:', () => {
  it('first matching rule wins and sets when/allow_failure/variables/needs', () => {
    const m = evaluateRules([
      { if: '$CI_COMMIT_BRANCH == "dev"', when: 'never' },
      { if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH', when: 'manual', allow_failure: true, variables: { MODE: 'release', N: 3 }, needs: ['a'] },
      { when: 'always' },
    ], env())
    expect(m).toMatchObject({ matched: true, ruleIndex: 1, when: 'manual', allowFailure: true, variables: { MODE: 'release', N: '3' }, needs: ['a'] })
  })
  it('no matching rule: job not added; when: never excludes', () => {
    expect(evaluateRules([{ if: '$NOPE' }], env()).matched).toBe(false)
    expect(evaluateRules([{ if: '$CI_COMMIT_BRANCH', when: 'never' }], env())).toMatchObject({ matched: false, reason: expect.stringMatching(/when: never/) })
  })
  it('nested lists from !reference are flattened', () => {
    expect(evaluateRules([[{ if: '$NOPE' }], [{ when: 'on_success' }]], env()).ruleIndex).toBe(1)
  })
  it('clauses are ANDed', () => {
    expect(evaluateRules([{ if: '$CI_COMMIT_BRANCH', changes: ['*.md'] }], env()).matched).toBe(false)
    expect(evaluateRules([{ if: '$CI_COMMIT_BRANCH', changes: ['docs/*.md'] }], env()).matched).toBe(true)
  })
  it('changes: * stays in one directory, ** crosses; compare_to; no push context means true', () => {
    expect(evaluateRules([{ changes: ['*.ts'] }], env()).matched).toBe(false)
    expect(evaluateRules([{ changes: ['**/*.ts'] }], env()).matched).toBe(true)
    expect(evaluateRules([{ changes: ['{src,lib}/*.ts'] }], env()).matched).toBe(true)
    expect(evaluateRules([{ changes: { paths: ['only-on-other.txt'], compare_to: 'other' } }], env()).matched).toBe(true)
    expect(evaluateRules([{ changes: ['nothing'] }], env({}, {}, null)).matched).toBe(true)
  })
  it('exists: globs over the tree, dotfiles included, variables expanded', () => {
    expect(evaluateRules([{ exists: ['package.json'] }], env()).matched).toBe(true)
    expect(evaluateRules([{ exists: ['**/*.yml'] }], env()).matched).toBe(true)
    expect(evaluateRules([{ exists: ['$DIR/app.ts'] }], env({}, { DIR: 'src' })).matched).toBe(true)
    expect(evaluateRules([{ exists: ['Gemfile'] }], env()).matched).toBe(false)
  })
  it('exists: an empty or odd path matches nothing and never throws (GitLab compares a wildcard-free path exactly)', () => {
    for (const exists of [[''], ['/'], '', { paths: [''] }, { paths: '' }, ['$EMPTY'], ['[unclosed'], ['a{b'], ['!(x)'], ['\\'], ['///'], [' ']]) {
      expect(evaluateRules([{ exists }], env({}, { EMPTY: '' })).matched, JSON.stringify(exists)).toBe(false)
    }
    expect(evaluateRules([{ changes: [''] }, { changes: ['[unclosed'] }], env()).matched).toBe(false)
  })
  it('exists: past 10,000 patterned comparisons GitLab assumes a match', () => {
    const tree = Array.from({ length: 10_001 }, (_, i) => `f${i}.txt`)
    expect(evaluateRules([{ exists: ['*.none'] }], env({}, {}, null, tree)).matched).toBe(true)
    expect(evaluateRules([{ exists: ['*.none'] }], env({}, {}, null, tree.slice(0, 10_000))).matched).toBe(false)
  })
  it('changes: dir/** is one level (Ruby fnmatch), shell extglobs are literal', () => {
    expect(evaluateRules([{ changes: ['docs/**'] }], env({}, {}, ['docs/a/b.md'])).matched).toBe(false)
    expect(evaluateRules([{ changes: ['docs/**/*'] }], env({}, {}, ['docs/a/b.md'])).matched).toBe(true)
    expect(evaluateRules([{ changes: ['!(README.md)'] }], env({}, {}, ['src/a.ts'])).matched).toBe(false)
  })
  it('an invalid if never matches', () => {
    expect(evaluateRules([{ if: '$A = "1"' }, { when: 'manual' }], env()).when).toBe('manual')
  })
})

describe('only/except', () => {
  it('defaults to branches and tags (no merge request pipelines)', () => {
    expect(evaluateOnlyExcept(undefined, undefined, env()).matched).toBe(true)
    expect(evaluateOnlyExcept(undefined, undefined, env({ pipelineSource: 'merge_request_event' })).matched).toBe(false)
  })
  it('refs: keywords, names, regexes, @project', () => {
    expect(evaluateOnlyExcept(['tags'], undefined, env()).matched).toBe(false)
    expect(evaluateOnlyExcept(['/^ma/'], undefined, env()).matched).toBe(true)
    expect(evaluateOnlyExcept(['main@group/proj'], undefined, env()).matched).toBe(true)
    expect(evaluateOnlyExcept(['main@other/proj'], undefined, env()).matched).toBe(false)
    expect(evaluateOnlyExcept(['schedules'], undefined, env({ pipelineSource: 'schedule' })).matched).toBe(true)
    expect(evaluateOnlyExcept(['pushes'], undefined, env()).matched).toBe(true)
    expect(evaluateOnlyExcept(['merge_requests'], undefined, env({ pipelineSource: 'merge_request_event' })).matched).toBe(true)
  })
  it('except wins over only; keys are ANDed, variables ORed', () => {
    expect(evaluateOnlyExcept(['branches'], ['main'], env()).matched).toBe(false)
    expect(evaluateOnlyExcept({ refs: ['branches'], variables: ['$NOPE', '$CI_COMMIT_BRANCH == "main"'] }, undefined, env()).matched).toBe(true)
    expect(evaluateOnlyExcept({ refs: ['tags'], variables: ['$CI_COMMIT_BRANCH'] }, undefined, env()).matched).toBe(false)
    expect(evaluateOnlyExcept({ kubernetes: 'active' }, undefined, env()).matched).toBe(false)
  })
})

describe('workflow:rules and include:rules', () => {
  it('no workflow: created; no matching rule: not created; rule variables and name', () => {
    expect(evaluateWorkflow(undefined, env()).matched).toBe(true)
    expect(evaluateWorkflow({ rules: [{ if: '$NOPE' }] }, env()).matched).toBe(false)
    expect(evaluateWorkflow({ name: 'P', rules: [{ if: '$CI_COMMIT_BRANCH', variables: { X: '1' } }] }, env())).toMatchObject({ matched: true, name: 'P', variables: { X: '1' } })
  })
  it('include rules', () => {
    expect(evaluateIncludeRules([{ if: '$CI_COMMIT_BRANCH' }], env())).toBe(true)
    expect(evaluateIncludeRules([{ if: '$CI_COMMIT_BRANCH', when: 'never' }], env())).toBe(false)
    expect(evaluateIncludeRules([{ exists: ['nope'] }], env())).toBe(false)
  })
})
