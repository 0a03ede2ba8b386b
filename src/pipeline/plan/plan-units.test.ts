import { describe, expect, it } from 'vitest'
import { compileYaml } from '../../../test/support/compile-yaml.js'
import type { GlrunError } from '../../diagnostics/errors.js'
import { parseDuration } from '../model/duration.js'
import { environmentSlug } from '../payload/environment.js'
import { expandCollection, expandExisting } from '../variables/expand.js'
import { expandParallel } from './matrix.js'
import { findNeedsCycle } from './needs.js'

describe('parallel expansion', () => {
  it('names parallel:N instances "job i/N" with CI_NODE_INDEX/TOTAL', () => {
    const out = expandParallel('test', 3, undefined, [])
    expect(out.map((i) => i.name)).toEqual(['test 1/3', 'test 2/3', 'test 3/3'])
    expect(out[1]!.variables).toEqual([{ key: 'CI_NODE_INDEX', value: '2' }, { key: 'CI_NODE_TOTAL', value: '3' }])
  })
  it('expands parallel: 1 to "job 1/1" (GitLab\'s NumberStrategy has no special case for 1)', () => {
    expect(expandParallel('test', 1, undefined, [])).toEqual([
      { name: 'test 1/1', variables: [{ key: 'CI_NODE_INDEX', value: '1' }, { key: 'CI_NODE_TOTAL', value: '1' }] },
    ])
  })
  it('gives a job without parallel CI_NODE_TOTAL=1 and no CI_NODE_INDEX', async () => {
    expect(expandParallel('test', undefined, undefined, [])).toEqual([{ name: 'test', variables: [{ key: 'CI_NODE_TOTAL', value: '1' }] }])
    const p = await compileYaml('plain:\n  script: [echo]\n  rules:\n    - if: $CI_NODE_TOTAL == "1"\n')
    expect(p.errors).toEqual([])
    const vars = p.jobs[0]!.payload.variables.filter((v) => v.key.startsWith('CI_NODE_'))
    expect(vars).toEqual([{ key: 'CI_NODE_TOTAL', value: '1', public: true, masked: false }])
  })
  it('names matrix instances like GitLab, values in written order', () => {
    const out = expandParallel('deploystacks', { matrix: [{ PROVIDER: 'aws', STACK: ['monitoring', 'app1'] }, { PROVIDER: ['gcp'], STACK: 'data' }] }, undefined, [])
    expect(out.map((i) => i.name)).toEqual(['deploystacks: [aws, monitoring]', 'deploystacks: [aws, app1]', 'deploystacks: [gcp, data]'])
  })
  it('rejects more than 200 instances', () => {
    const errors: GlrunError[] = []
    expandParallel('x', { matrix: [{ A: Array.from({ length: 15 }, (_, i) => `${i}`), B: Array.from({ length: 15 }, (_, i) => `${i}`) }] }, undefined, errors)
    expect(errors.map((e) => e.code)).toEqual(['GLRUN_PARALLEL_RANGE'])
  })
})

describe('durations', () => {
  it.each([
    ['1h 30m', 5400], ['3 hours 30 minutes', 12600], ['1 minute', 60], ['90', 90], ['2 days', 172800], ['1:30:00', 5400], ['30 minutes', 1800],
  ])('%s → %i s', (text, secs) => expect(parseDuration(text)).toBe(secs))
  it('rejects non-durations', () => expect(parseDuration('soon')).toBeUndefined())
})

describe('variable expansion (GitLab side)', () => {
  it('expands $VAR, ${VAR} and %VAR%, keeps unknown references', () => {
    const vars = (n: string) => ({ A: 'a', B: 'b' })[n]
    expect(expandExisting('$A-${B}-%A%-$NOPE', vars)).toBe('a-b-a-$NOPE')
  })
  it('follows references between variables, leaves raw ones and cycles alone', () => {
    const m = expandCollection([
      { key: 'BASE', value: 'x' }, { key: 'URL', value: 'https://$HOST/$BASE' }, { key: 'HOST', value: 'h.$BASE' },
      { key: 'RAW', value: '$BASE', raw: true }, { key: 'L1', value: '$L2' }, { key: 'L2', value: '$L1' },
    ])
    expect(m.get('URL')).toBe('https://h.x/x')
    expect(m.get('RAW')).toBe('$BASE')
    expect(m.get('L1')).toMatch(/^\$L[12]$/)
  })
})

describe('environment slug', () => {
  it.each([['production', 'production'], ['review/feature-x', 'review-feature-x'], ['Review/Fix_Bug_With_A_Long_Name', 'review-fix-bug-wi']])('%s', (name, prefix) => {
    const slug = environmentSlug(name)
    expect(slug.startsWith(prefix)).toBe(true)
    expect(slug.length).toBeLessThanOrEqual(24)
    expect(slug).toMatch(/^[a-z][a-z0-9-]*[a-z0-9]$/)
  })
})

describe('needs cycles', () => {
  it('finds the loop with its path', () => {
    expect(findNeedsCycle(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', []]]))).toEqual(['a', 'b', 'c', 'a'])
    expect(findNeedsCycle(new Map([['a', ['b']], ['b', []]]))).toBeUndefined()
  })
})

describe('needs (compiled)', () => {
  it('a need with artifacts: false is not downloaded even when dependencies names it', async () => {
    const p = await compileYaml(`
stages: [build, test]
build: {stage: build, script: [make], artifacts: {paths: [out/]}}
lib: {stage: build, script: [make lib], artifacts: {paths: [lib/]}}
test:
  stage: test
  needs: [{job: build, artifacts: false}, lib]
  dependencies: [build, lib]
  script: [make test]
`)
    expect(p.errors).toEqual([])
    const test = p.jobs.find((j) => j.name === 'test')!
    expect(test.dependencies).toEqual(['lib'])
    expect(test.payload.dependencies.map((d) => d.name)).toEqual(['lib'])
  })
  it('an optional needs:parallel:matrix selector that matches no instance is ignored', async () => {
    const yaml = (optional: boolean): string => `
stages: [build, test]
build:
  stage: build
  script: [make]
  parallel:
    matrix:
      - OS: [linux, mac]
test:
  stage: test
  script: [make test]
  needs:
    - job: build
      optional: ${optional}
      parallel:
        matrix:
          - OS: windows
    - job: build
      parallel:
        matrix:
          - OS: linux
`
    const p = await compileYaml(yaml(true))
    expect(p.errors).toEqual([])
    expect(p.jobs.find((j) => j.name === 'test')!.needs!.map((n) => n.job)).toEqual(['build: [linux]'])
    expect((await compileYaml(yaml(false))).errors.map((e) => e.code)).toEqual(['GLRUN_NEEDS_MATRIX'])
  })
  it('$[[ matrix.MY-VAR ]] (a hyphen in the name) is this job\'s own matrix value', async () => {
    const p = await compileYaml(`
stages: [build, test]
build:
  stage: build
  script: [make]
  parallel:
    matrix:
      - MY-VAR: [linux, mac]
test:
  stage: test
  script: [make test]
  parallel:
    matrix:
      - MY-VAR: [linux, mac]
  needs:
    - job: build
      parallel:
        matrix:
          - MY-VAR: $[[ matrix.MY-VAR ]]
`)
    expect(p.errors).toEqual([])
    expect(p.jobs.filter((j) => j.stage === 'test').map((j) => [j.name, j.needs!.map((n) => n.job)])).toEqual([
      ['test: [linux]', ['build: [linux]']],
      ['test: [mac]', ['build: [mac]']],
    ])
  })
})
