import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { zipSync } from 'fflate'
import { collectPaths } from './collect.js'
import { parseDotenv } from './dotenv.js'
import { extractZip, writeZip } from './zip.js'

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))
function tree(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'glrun-art-'))
  dirs.push(d)
  for (const [p, t] of Object.entries(files)) {
    mkdirSync(dirname(join(d, p)), { recursive: true })
    writeFileSync(join(d, p), t)
  }
  return d
}

describe('artifact paths', () => {
  const d = tree({ 'dist/app.js': 'a', 'dist/app.js.map': 'm', 'dist/sub/x.bin': 'x', 'out/a/b/c.bin': 'c', 'README.md': 'r', '.env': 'e' })
  it('directories, globs with ** and exclude', () => {
    expect(collectPaths(d, ['dist/', 'out/**/*.bin'], ['dist/**/*.map'], false).files).toEqual(['dist/app.js', 'dist/sub/x.bin', 'out/a/b/c.bin'])
    expect(collectPaths(d, ['*.md', '.env'], [], false).files).toEqual(['.env', 'README.md'])
  })
  it('warns like the runner for a path with no match, and refuses paths outside the project', () => {
    const r = collectPaths(d, ['nope/', '../etc/passwd'], [], false)
    expect(r.files).toEqual([])
    expect(r.warnings[0]).toMatch(/^nope\/: no matching files\. Ensure that the artifact path is relative to the working directory/)
    expect(r.warnings[1]).toMatch(/not a subpath of project directory/)
  })
  it('untracked: the files git does not track', () => {
    const g = tree({ 'tracked.txt': 't' })
    execFileSync('git', ['init', '-q'], { cwd: g })
    execFileSync('git', ['add', 'tracked.txt'], { cwd: g })
    writeFileSync(join(g, 'new.log'), 'n')
    expect(collectPaths(g, [], [], true).files).toEqual(['new.log'])
  })
})

describe('zip', () => {
  it('round-trips contents, modes and symlinks', () => {
    const d = tree({ 'bin/run.sh': '#!/bin/sh\necho hi\n', 'data/x.txt': 'x' })
    chmodSync(join(d, 'bin/run.sh'), 0o755)
    symlinkSync('x.txt', join(d, 'data/link'))
    const zip = join(d, '..', `${Date.now()}-a.zip`)
    dirs.push(zip)
    writeZip(d, ['bin/run.sh', 'data/x.txt', 'data/link'], zip)
    const out = tree({})
    expect(extractZip(zip, out).sort()).toEqual(['bin/run.sh', 'data/link', 'data/x.txt'])
    expect(readFileSync(join(out, 'bin/run.sh'), 'utf8')).toBe('#!/bin/sh\necho hi\n')
    expect(statSync(join(out, 'bin/run.sh')).mode & 0o777).toBe(0o755)
    expect(lstatSync(join(out, 'data/link')).isSymbolicLink()).toBe(true)
    expect(readlinkSync(join(out, 'data/link'))).toBe('x.txt')
  })
  it('refuses entries that escape the target (zip slip)', () => {
    const d = tree({})
    const zip = join(d, 'evil.zip')
    writeFileSync(zip, zipSync({ '../../escaped.txt': Buffer.from('x') }))
    const target = join(d, 'target')
    mkdirSync(target)
    expect(() => extractZip(zip, target)).toThrow(/outside the target directory/)
    expect(existsSync(join(d, '..', 'escaped.txt'))).toBe(false)
  })
})

describe('dotenv', () => {
  it('KEY=VALUE lines, comments and blanks skipped, quotes removed', () => {
    expect(parseDotenv('A=1\n# c\n\nB="two words"\nC=\'3\'\nD=x=y\n')).toEqual({ variables: [{ key: 'A', value: '1' }, { key: 'B', value: 'two words' }, { key: 'C', value: '3' }, { key: 'D', value: 'x=y' }], errors: [] })
  })
  it('reports bad lines and the limits', () => {
    expect(parseDotenv('1BAD=x\nexport A=1\n').errors).toHaveLength(2)
    expect(parseDotenv(Array.from({ length: 21 }, (_, i) => `V${i}=x`).join('\n')).errors[0]).toMatch(/limit is 20/)
    expect(parseDotenv(`A=${'x'.repeat(6000)}`).errors[0]).toMatch(/larger than 5120 bytes/)
  })
})
