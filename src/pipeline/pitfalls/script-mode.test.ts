import { afterAll, describe, expect, it } from 'vitest'
import { compileYaml } from '../../../test/support/compile-yaml.js'
import { git, makeRepo } from '../../../test/support/git-repo.js'

const cleanups: (() => void)[] = []
afterAll(() => cleanups.forEach((c) => c()))

/** A repository holding deploy.sh without and ok.sh with the executable bit in git's index. */
function repo(): string {
  const r = makeRepo({ files: { 'deploy.sh': '#!/bin/sh\n', 'ok.sh': '#!/bin/sh\n', 'sub/x.sh': '#!/bin/sh\n' } })
  cleanups.push(r.cleanup)
  git(r.dir, 'update-index', '--chmod=+x', 'ok.sh')
  return r.dir
}

async function found(yaml: string, projectDir: string): Promise<[number | undefined, string][]> {
  const p = await compileYaml(yaml, { projectDir })
  expect(p.errors.map((e) => e.message)).toEqual([])
  return p.warnings.filter((w) => w.code === 'GLRUN_SCRIPT_NOT_EXECUTABLE').map((w) => [w.where?.line, w.message])
}

describe('GLRUN_SCRIPT_NOT_EXECUTABLE', () => {
  const dir = repo()
  it('a tracked 100644 file run as a program, in script or after_script, at its line', async () => {
    const w = await found('deploy:\n  script:\n    - ./ok.sh\n    - ./deploy.sh --prod\n  after_script: [sub/x.sh]\n', dir)
    expect(w).toEqual([
      [4, expect.stringMatching(/^deploy: runs \.\/deploy\.sh, which git stores without the executable bit \(mode 100644\)/)],
      [5, expect.stringMatching(/^deploy: runs sub\/x\.sh/)],
    ])
  })
  it('near misses: executable, run through a shell or sourced, chmod or cd first, untracked, variables, outside git', async () => {
    const clean = [
      'a:\n  script: [./ok.sh, sh ./deploy.sh, bash sub/x.sh, . ./deploy.sh, "echo ./deploy.sh"]',
      'b:\n  script: [chmod +x deploy.sh, ./deploy.sh]',
      'c:\n  script: [cd sub, ./deploy.sh]',
      'd:\n  script: [./build/generated.sh, $SCRIPTS/deploy.sh, /usr/local/bin/x.sh]',
      'e:\n  script: ["git update-index --chmod=+x deploy.sh && ./deploy.sh"]',
    ].join('\n') + '\n'
    expect(await found(clean, dir)).toEqual([])
    expect(await found('a:\n  script: [./deploy.sh]\n', '/nonexistent/dir')).toEqual([])
  })
})
