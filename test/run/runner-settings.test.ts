import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { makeRepo } from '../support/git-repo.js'

/** config.toml's runner settings in `glrun run`: honoured, or said not to be. Never silently ignored. */
const bin = new URL('../../bin/glrun.js', import.meta.url).pathname
const cleanups: (() => void)[] = []
afterAll(() => cleanups.forEach((c) => c()))

describe('glrun run --config: runner settings', () => {
  it('output_limit, cache_dir and concurrent/limit are honoured; builds_dir and feature flags are reported as not used', () => {
    const r0 = makeRepo({ files: { '.gitlab-ci.yml': `a:\n  script: ['for i in $(seq 1 200); do echo line-$i-0123456789; done', sleep 1]\n  cache: { key: k1, paths: [c.txt] }\n  before_script: [echo c > c.txt]\nb:\n  script: [sleep 1]\n` } })
    cleanups.push(r0.cleanup)
    const cacheDir = mkdtempSync(join(tmpdir(), 'glrun-cache-dir-'))
    cleanups.push(() => rmSync(cacheDir, { recursive: true, force: true }))
    const config = join(cacheDir, 'config.toml')
    writeFileSync(config, `concurrent = 4
[[runners]]
  name = "local"
  url = "https://gitlab.example.com"
  token = "glrt-xxxxxxxxxxxxxxxxxxxx"
  executor = "shell"
  limit = 1
  output_limit = 1
  builds_dir = "/srv/builds"
  cache_dir = "${cacheDir}/store"
  [runners.feature_flags]
    FF_USE_FASTZIP = true
`)
    const t0 = Date.now()
    const r = spawnSync(process.execPath, [bin, 'run', '--cwd', r0.dir, '--config', config], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 })
    const took = Date.now() - t0
    expect(r.status).toBe(0)
    expect(r.stderr).toMatch(/warning\[GLRUN_CONFIG_UNSUPPORTED\]: builds_dir of runner "local" is not used by glrun run/)
    expect(r.stderr).toMatch(/warning\[GLRUN_CONFIG_UNSUPPORTED\]: \[runners\.feature_flags\] FF_USE_FASTZIP of runner "local"/)
    const trace = readFileSync(join(r0.dir, '.glrun/jobs/a/trace.log'), 'utf8')
    expect(trace).toMatch(/Job's log exceeded limit of 1024 bytes\./)
    expect(trace).not.toMatch(/line-200-/)
    expect(readdirSync(join(cacheDir, 'store', 'cache'))).toEqual(['k1-protected'])
    expect(existsSync(join(r0.dir, '.glrun/cache'))).toBe(false)
    // limit = 1: the two one-second jobs ran one after the other.
    expect(took).toBeGreaterThan(2000)
  })
})
