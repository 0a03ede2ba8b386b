import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

/** `glrun config check` through the real binary: exit codes as the README states, nothing lost. */
const bin = new URL('../../bin/glrun.js', import.meta.url).pathname
const dir = mkdtempSync(join(tmpdir(), 'glrun-config-check-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function check(name: string, toml: string): { code: number | null; out: string; err: string } {
  const file = join(dir, name)
  writeFileSync(file, toml)
  const r = spawnSync(process.execPath, [bin, 'config', 'check', file], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } })
  return { code: r.status, out: r.stdout.replaceAll(dir, '<dir>'), err: r.stderr.replaceAll(dir, '<dir>') }
}

describe('glrun config check', () => {
  it('valid with warnings: exit 0; invalid: exit 2, with its errors and its warnings all at once', () => {
    const ok = check('ok.toml', '[[runners]]\n  name = "r"\n  executor = "docker"\n  [runners.docker]\n    imgae = "alpine"\n')
    expect(ok.code).toBe(0)
    expect(ok.out).toBe('<dir>/ok.toml: 1 runner (docker), 1 warning, 0 errors\n')
    expect(ok.err).toMatch(/^warning\[GLRUN_CONFIG_UNKNOWN_KEY\]: unknown key "runners\.docker\.imgae"/m)
    const r = check('bad.toml', '[[runners]]\n  name = "r"\n  executor = "dokcer"\n  pre_clone_script = "echo hi"\n  [runners.docker]\n    imgae = "alpine"\n')
    expect(r.code).toBe(2)
    expect(r.out).toBe('<dir>/bad.toml: 1 error, 2 warnings\n')
    expect(r.err).toMatch(/^error\[GLRUN_CONFIG_VALUE\]: executor "dokcer" is not one of gitlab-runner's executors$/m)
    expect(r.err).toMatch(/^warning\[GLRUN_CONFIG_UNKNOWN_KEY\]: unknown key "runners\.docker\.imgae"/m)
    expect(r.err).toMatch(/^warning\[GLRUN_CONFIG_DEPRECATED\]: pre_clone_script is deprecated/m)
  })

  it('not TOML at all: exit 2', () => {
    const r = check('syntax.toml', 'concurrent = [\n')
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/^error\[GLRUN_CONFIG_SYNTAX\]: .*syntax\.toml is not valid TOML/m)
  })
})
