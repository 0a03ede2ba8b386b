import { cpSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import { memoryIo } from '../../src/cli/io.js'
import { makeRepo } from '../support/git-repo.js'

/**
 * The real projects' pipelines in test/fixtures/corpus. Each must either compile, or stop only with
 * the clear "include cannot be reached" error (one per non-local include); and with those
 * includes mapped to the small local stand-ins in test/fixtures/corpus-stubs/, each compiles
 * with no error at all.
 */
const corpus = new URL('../fixtures/corpus/pipelines/', import.meta.url).pathname
const stubs = new URL('../fixtures/corpus-stubs/', import.meta.url).pathname
const projects = readdirSync(corpus).sort()
const cleanups: (() => void)[] = []
afterAll(() => cleanups.forEach((c) => c()))

const projectMaps = [
  'components/dependency-scanning', 'components/sast', 'gitlab-org/components/danger-review', 'components/code-intelligence',
  'gitlab-com/gl-security/security-operations/infrastructure-security-public/oidc-modules',
  'GNOME/citemplates', 'freedesktop/ci-templates', 'Infrastructure/freedesktop-ci-templates',
].flatMap((p) => ['--include-project', `${p}=${join(stubs, 'projects', p)}`])

function repoFor(name: string): string {
  const repo = makeRepo({ origin: `https://gitlab.example.com/${name.replace('__', '/')}.git` })
  cpSync(join(corpus, name), repo.dir, { recursive: true })
  cleanups.push(repo.cleanup)
  return repo.dir
}

const expectedUnresolvable = (name: string): number => {
  const manifest = JSON.parse(readFileSync(join(corpus, '..', 'manifest.json'), 'utf8')) as { slug: string; remote_or_external_includes: string[] }[]
  return manifest.find((m) => m.slug === name.replace('__', '+'))?.remote_or_external_includes.length ?? 0
}

describe('corpus: real pipelines', () => {
  it.each(projects)('%s: compiles, or names every unreachable include', async (name) => {
    const dir = repoFor(name)
    const io = memoryIo()
    const code = await main(['node', 'glrun', 'lint', '--json', '--cwd', dir], io)
    const out = JSON.parse(io.stdout) as { valid: boolean; errors: { code: string; message: string; hint?: string; file?: string; line?: number }[] }
    if (code === 0) {
      expect(out.valid).toBe(true)
      return
    }
    expect(out.errors.map((e) => e.code).filter((c) => c !== 'GLRUN_INCLUDE_UNRESOLVABLE')).toEqual([])
    expect(out.errors.length).toBeLessThanOrEqual(expectedUnresolvable(name))
    for (const e of out.errors) {
      expect(e.file).toBeDefined()
      expect(e.line).toBeGreaterThan(0)
      expect(e.hint).toMatch(/--include-project|--templates-dir|--gitlab-url/)
    }
  })

  it.each(projects)('%s: compiles with non-local includes mapped to local stand-ins', async (name) => {
    const dir = repoFor(name)
    const io = memoryIo()
    const code = await main(['node', 'glrun', 'compile', '--json', '--cwd', dir, ...projectMaps, '--templates-dir', join(stubs, 'templates')], io)
    expect(io.stderr).toBe('')
    expect(code).toBe(0)
    const out = JSON.parse(io.stdout) as { pipeline: { workflow: { created: boolean } }; payloads: unknown[] }
    expect(out.pipeline).toBeDefined()
  })
})
