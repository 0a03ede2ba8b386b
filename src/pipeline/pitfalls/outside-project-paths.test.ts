import { describe, expect, it } from 'vitest'
import { compileYaml } from '../../../test/support/compile-yaml.js'
import { outside } from './outside-project-paths.js'

async function found(yaml: string): Promise<[string, number | undefined, string][]> {
  const p = await compileYaml(yaml)
  expect(p.errors.map((e) => e.message)).toEqual([])
  return p.warnings.filter((w) => /OUTSIDE_PROJECT$/.test(w.code)).map((w) => [w.code, w.where?.line, w.message])
}

describe('GLRUN_ARTIFACTS_OUTSIDE_PROJECT / GLRUN_CACHE_OUTSIDE_PROJECT', () => {
  it('absolute, home and climbing paths in artifacts:paths, reports and cache:paths, each at its line', async () => {
    const w = await found([
      'test:',
      '  script: [make test]',
      '  artifacts:',
      '    paths:',
      '      - out/',
      '      - /tmp/coverage',
      '    reports:',
      '      junit: [report.xml, ../junit.xml]',
      '      coverage_report: {coverage_format: cobertura, path: /tmp/cobertura.xml}',
      '  cache:',
      '    - key: npm',
      '      paths: [~/.npm, node_modules/]',
    ].join('\n') + '\n')
    expect(w.map(([c, l, m]) => [c, l, m.split(' is ')[0]])).toEqual([
      ['GLRUN_ARTIFACTS_OUTSIDE_PROJECT', 6, 'test: artifacts:paths "/tmp/coverage"'],
      ['GLRUN_ARTIFACTS_OUTSIDE_PROJECT', 8, 'test: artifacts:reports:junit "../junit.xml"'],
      ['GLRUN_ARTIFACTS_OUTSIDE_PROJECT', 9, 'test: artifacts:reports:coverage_report:path "/tmp/cobertura.xml"'],
      ['GLRUN_CACHE_OUTSIDE_PROJECT', 12, 'test: cache:paths "~/.npm"'],
    ])
  })
  it('expands job variables first', async () => {
    expect((await found('variables: {OUT: /var/tmp/out}\nt:\n  script: [x]\n  artifacts: {paths: [$OUT/]}\n')).map(([c, l]) => [c, l])).toEqual([['GLRUN_ARTIFACTS_OUTSIDE_PROJECT', 4]])
  })
  it('near misses: relative, $CI_PROJECT_DIR, unknown variables, /builds/, globs that stay inside', () => {
    const vars = { variable: (n: string) => ({ DIST: 'dist' } as Record<string, string>)[n] }
    for (const p of ['out/', 'a/../b', '$CI_PROJECT_DIR/out', '${CI_PROJECT_DIR}/x', '$CI_PROJECT_DIR', '$HOME_DIR/x', '/builds/group/proj/out', '**/*.xml', '$DIST/app', 'C:\\out']) {
      expect(outside(p, vars), p).toBe(false)
    }
    for (const p of ['/tmp/x', '~/.cache', '..', '../x', '$CI_PROJECT_DIR/../x', 'a/../../x']) expect(outside(p, vars), p).toBe(true)
  })
})
