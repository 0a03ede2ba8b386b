import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import { memoryIo } from '../../src/cli/io.js'
import { makeRepo } from '../support/git-repo.js'

/**
 * Golden compile tests: each folder under test/golden/compile/<case>/ holds `repo/` (committed
 * into a fresh git repository with a fixed author and date, so SHAs are stable), optional
 * `args.json` (extra CLI arguments, e.g. ["--variable", "X=1"] or job names), and the expected
 * output of `glrun compile --json` in `expected.json` (or of a failing lint in
 * `expected-lint.txt`). Run with UPDATE_GOLDEN=1 to rewrite the expectations — then review the
 * diff: it is exactly what GitLab would hand a runner.
 */
process.env['SOURCE_DATE_EPOCH'] = '1767323045' // 2026-01-02T03:04:05Z: reproducible CI_PIPELINE_CREATED_AT
const root = new URL('./compile/', import.meta.url).pathname
const cases = readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()
const cleanups: (() => void)[] = []
afterAll(() => cleanups.forEach((c) => c()))

describe('golden: glrun compile', () => {
  it.each(cases)('%s', async (name) => {
    const dir = join(root, name)
    const args: string[] = existsSync(join(dir, 'args.json')) ? JSON.parse(readFileSync(join(dir, 'args.json'), 'utf8')) : []
    const repo = makeRepo({ copyFrom: join(dir, 'repo'), origin: 'https://gitlab.example.com/acme/webapp.git', history: true })
    cleanups.push(repo.cleanup)
    const lintMode = existsSync(join(dir, 'expected-lint.txt'))
    const io = memoryIo()
    const code = lintMode
      ? await main(['node', 'glrun', 'lint', '--cwd', repo.dir, ...args], io)
      : await main(['node', 'glrun', 'compile', '--json', '--cwd', repo.dir, ...args], io)
    if (lintMode) {
      const actual = `exit ${code}\n${io.stderr}${io.stdout}`.replaceAll(repo.dir, '<repo>')
      compareGolden(join(dir, 'expected-lint.txt'), actual)
    } else {
      expect(io.stderr, 'compile wrote errors').toBe('')
      expect(code).toBe(0)
      compareGolden(join(dir, 'expected.json'), `${io.stdout.trim().replaceAll(repo.dir, '<repo>')}\n`)
    }
  })
})

function compareGolden(path: string, actual: string): void {
  if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(path)) {
    if (process.env['CI'] === 'true' && !existsSync(path)) throw new Error(`missing golden file ${path}`)
    writeFileSync(path, actual)
    return
  }
  expect(actual).toBe(readFileSync(path, 'utf8'))
}
