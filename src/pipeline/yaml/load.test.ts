import { describe, expect, it } from 'vitest'
import { loadYaml } from './load.js'
import { keySpan, spanAt } from './positions.js'
import { YamlReference } from './reference.js'

describe('loadYaml', () => {
  it('reads YAML 1.1 like Psych: on/yes booleans, merge keys, octal', () => {
    const r = loadYaml('a: &x {k: 1, j: 1}\nb:\n  <<: *x\n  j: 2\nc: yes\nd: 012\n', 'f.yml')
    expect(r.documents[0]!.value).toEqual({ a: { k: 1, j: 1 }, b: { k: 1, j: 2 }, c: true, d: 10 })
  })

  it('keeps !reference tags as data with their position', () => {
    const r = loadYaml('job:\n  script:\n    - !reference [.a, script]\n', 'f.yml')
    const ref = ((r.documents[0]!.value as Record<string, Record<string, unknown[]>>)['job']!['script']![0]) as YamlReference
    expect(ref).toBeInstanceOf(YamlReference)
    expect(ref.path).toEqual(['.a', 'script'])
    expect(ref.span).toMatchObject({ file: 'f.yml', line: 3, col: 7 })
  })

  it('records positions of keys and values', () => {
    const doc = loadYaml('build:\n  stage: test\n  script:\n    - make\n', 'f.yml').documents[0]!.value
    expect(keySpan(doc, 'build')).toMatchObject({ line: 1, col: 1 })
    expect(spanAt(doc, ['build', 'stage'])).toMatchObject({ line: 2, col: 10 })
    expect(spanAt(doc, ['build', 'script', 0])).toMatchObject({ line: 4, col: 7 })
  })

  it('warns about duplicate keys and keeps the last one, like GitLab', () => {
    const r = loadYaml('a: 1\na: 2\n', 'f.yml')
    expect(r.documents[0]!.value).toEqual({ a: 2 })
    expect(r.warnings.map((w) => [w.code, w.where?.line])).toEqual([['GLRUN_YAML_DUPLICATE_KEY', 2]])
  })

  it('reports syntax errors with a position', () => {
    const r = loadYaml('a:\n  - x\n b: y\n', 'f.yml')
    expect(r.errors[0]).toMatchObject({ code: 'GLRUN_YAML_SYNTAX' })
    expect(r.errors[0]!.where?.file).toBe('f.yml')
  })

  it('never touches the prototype chain', () => {
    const v = loadYaml('__proto__: {polluted: true}\n', 'f.yml').documents[0]!.value as Record<string, unknown>
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
    expect(Object.keys(v)).toEqual(['__proto__'])
  })

  it('refuses alias bombs instead of exploding', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for (let i = 0; i < 8; i++) lines.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`)
    const started = Date.now()
    const r = loadYaml(lines.join('\n') + '\n', 'bomb.yml')
    expect(r.errors.map((e) => e.code)).toContain('GLRUN_YAML_TOO_LARGE')
    expect(Date.now() - started).toBeLessThan(20_000)
  })
})

describe('Psych compatibility', () => {
  it('y and n are strings, like in GitLab; yes/no/on/off are booleans; dates stay strings', () => {
    const v = loadYaml('a: [y, n, Y, N, yes, no, on, off]\nd: 2024-01-02\n', 'f.yml').documents[0]!.value
    expect(v).toEqual({ a: ['y', 'n', 'Y', 'N', true, false, true, false], d: '2024-01-02' })
  })
})
