import { describe, expect, it } from 'vitest'
import type { GlrunError } from '../../diagnostics/errors.js'
import { compileYaml } from '../../../test/support/compile-yaml.js'
import { loadYaml } from '../yaml/load.js'
import { spanAt } from '../yaml/positions.js'
import { applyDefaults } from './defaults.js'
import { resolveExtends } from './extends.js'
import { resolveReferences } from './references.js'

function load(text: string): Record<string, unknown> {
  const r = loadYaml(text, 'ci.yml')
  expect(r.errors).toEqual([])
  return r.documents[0]!.value as Record<string, unknown>
}

function normalize(text: string): { config: Record<string, unknown>; errors: GlrunError[] } {
  const errors: GlrunError[] = []
  const config = resolveReferences(resolveExtends(load(text), errors), errors)
  return { config, errors }
}

describe('extends', () => {
  it('deep-merges hashes, replaces arrays, later parents win, the job wins over all', () => {
    const { config, errors } = normalize(`
.a: {variables: {A: a, B: a}, script: [a], tags: [a]}
.b: {variables: {B: b, C: b}, tags: [b1, b2]}
job: {extends: [.a, .b], variables: {C: job}, script: [job]}
`)
    expect(errors).toEqual([])
    expect(config['job']).toEqual({ variables: { A: 'a', B: 'b', C: 'job' }, script: ['job'], tags: ['b1', 'b2'], extends: ['.a', '.b'] })
  })

  it('follows chains and keeps the position of inherited keys', () => {
    const { config } = normalize('.base:\n  image: alpine\n.mid:\n  extends: .base\njob:\n  extends: .mid\n  script: [x]\n')
    expect((config['job'] as Record<string, unknown>)['image']).toBe('alpine')
    expect(spanAt(config, ['job', 'image'])).toMatchObject({ line: 2, col: 10 })
  })

  it('reports an unknown parent in GitLab wording with a did-you-mean', () => {
    const { errors } = normalize('.setup: {script: [x]}\njob:\n  extends: .stup\n  script: [y]\n')
    expect(errors.map((e) => [e.code, e.message, e.hint, e.where?.line])).toEqual([
      ['GLRUN_EXTENDS_UNKNOWN', 'job: unknown keys in `extends` (.stup)', 'did you mean ".setup"?', 3],
    ])
  })

  it('detects cycles and too deep nesting', () => {
    expect(normalize('a: {extends: b, script: [x]}\nb: {extends: a, script: [x]}\n').errors.map((e) => e.code)).toContain('GLRUN_EXTENDS_CYCLE')
    const chain = Array.from({ length: 13 }, (_, i) => `.l${i}: {extends: .l${i + 1}}`).join('\n') + '\n.l13: {script: [x]}\njob: {extends: .l0}\n'
    // 13 levels: GitLab allows a job 10 ancestors deep, so the 12th level is the first refused.
    expect(normalize(chain).errors.map((e) => e.message)).toEqual(['.l11: nesting too deep in `extends`'])
    const ok = Array.from({ length: 10 }, (_, i) => `.l${i}: {extends: .l${i + 1}}`).join('\n') + '\n.l10: {script: [x]}\njob: {extends: .l0}\n'
    expect(normalize(ok).errors).toEqual([])
  })
})

describe('!reference', () => {
  it('resolves after extends, nested references included, without flattening', () => {
    const { config, errors } = normalize(`
.vars: {variables: {URL: http://x}}
.setup:
  script: [echo one, echo two]
.tpl:
  extends: .setup
  after_script: [!reference [.setup, script]]
job:
  script:
    - !reference [.tpl, after_script]
    - echo three
  variables:
    URL: !reference [.vars, variables, URL]
`)
    expect(errors).toEqual([])
    expect(config['job']).toEqual({ script: [[['echo one', 'echo two']], 'echo three'], variables: { URL: 'http://x' } })
  })

  it('reports a missing target at the tag', () => {
    const { errors } = normalize('job:\n  script: !reference [.nope, script]\n')
    expect(errors[0]).toMatchObject({ code: 'GLRUN_REFERENCE_NOT_FOUND', message: '!reference [".nope", "script"] could not be found' })
    expect(errors[0]!.where).toMatchObject({ line: 2, col: 11 })
  })

  it('stops on a circular chain', () => {
    const { errors } = normalize('a:\n  script: !reference [b, script]\nb:\n  script: !reference [a, script]\n')
    expect(errors.some((e) => e.code === 'GLRUN_REFERENCE_CYCLE' || e.code === 'GLRUN_REFERENCE_TOO_DEEP')).toBe(true)
  })
})

describe('defaults', () => {
  const config = load(`
image: legacy
default: {image: node, before_script: [b], retry: 2}
`)
  it('applies default: over legacy top-level keys, job values win', () => {
    expect(applyDefaults({ script: ['x'] }, config)).toEqual({ script: ['x'], image: 'node', before_script: ['b'], retry: 2 })
    expect(applyDefaults({ script: ['x'], before_script: [] }, config)).toMatchObject({ before_script: [] })
  })
  it('honours inherit:default false and lists', () => {
    expect(applyDefaults({ script: ['x'], inherit: { default: false } }, config)).toEqual({ script: ['x'], inherit: { default: false } })
    expect(applyDefaults({ script: ['x'], inherit: { default: ['retry'] } }, config)).toEqual({ script: ['x'], inherit: { default: ['retry'] }, retry: 2 })
  })
})

describe('nested scripts (GitLab flattens script, before_script and after_script up to 10 levels)', () => {
  const nest = (levels: number, cmd: string): string => `${'['.repeat(levels)}${cmd}${']'.repeat(levels)}`
  it('a !reference to a script that holds a !reference, and lists of lists, run flat', async () => {
    const p = await compileYaml(`
.a: {script: [echo a]}
.b: {script: [!reference [.a, script], echo b]}
.c: {after_script: [[!reference [.b, script]], echo c]}
default:
  before_script: [[[echo default]]]
job:
  script:
    - !reference [.b, script]
    - [echo x, [echo y, [echo z]]]
    - ${nest(9, 'echo nine')}
  after_script: [!reference [.c, after_script]]
`)
    expect(p.errors).toEqual([])
    const steps = p.jobs[0]!.payload.steps
    expect(steps[0]!.script).toEqual(['echo default', 'echo a', 'echo b', 'echo x', 'echo y', 'echo z', 'echo nine'])
    expect(steps.find((s) => s.name === 'after_script')!.script).toEqual(['echo a', 'echo b', 'echo c'])
  })
  it('top-level before_script nests too', async () => {
    const p = await compileYaml(`before_script: [[[echo top]]]\njob: {script: [[[echo job]]]}\n`)
    expect(p.errors).toEqual([])
    expect(p.jobs[0]!.payload.steps[0]!.script).toEqual(['echo top', 'echo job'])
  })
  it('more than 10 levels is an error', async () => {
    expect((await compileYaml(`job: {script: ${nest(10, 'echo ten')}}\n`)).errors).toEqual([])
    const p = await compileYaml(`job: {script: ${nest(11, 'echo eleven')}}\n`)
    expect(p.errors.map((e) => e.message)).toEqual(['jobs:job:script config should be a string or a nested array of strings up to 10 levels deep'])
  })
})
