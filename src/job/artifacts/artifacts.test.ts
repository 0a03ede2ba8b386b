import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { zipSync } from 'fflate'
import { HostDirFiles } from '../files/host-files.js'
import { readTar } from '../files/tar-entries.js'
import { collectToZip } from './collect.js'
import { parseDotenv } from './dotenv.js'
import { zipToTar } from './zip.js'

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

/** What collectToZip puts into a zip, as names, read back through zipToTar. */
async function collect(d: string, paths: string[], exclude: string[] = [], tracked?: Set<string>): Promise<{ files: string[]; warnings: string[] }> {
  const zip = join(tree({}), 'out.zip')
  const r = await collectToZip(new HostDirFiles(d), { paths, exclude, untracked: tracked !== undefined, projectDir: d, ...(tracked ? { tracked: async () => tracked } : {}) }, zip)
  const files: string[] = []
  await readTar(await zipToTar(zip), async (e) => { files.push(e.name) })
  expect(files).toHaveLength(r.count)
  return { files: files.sort(), warnings: r.warnings }
}

describe('artifact paths', () => {
  const d = tree({ 'dist/app.js': 'a', 'dist/app.js.map': 'm', 'dist/sub/x.bin': 'x', 'out/a/b/c.bin': 'c', 'README.md': 'r', '.env': 'e', 'new\nline.txt': 'n' })
  it('directories, globs with ** and exclude', async () => {
    expect((await collect(d, ['dist/', 'out/**/*.bin'], ['dist/**/*.map'])).files).toEqual(['dist/app.js', 'dist/sub/x.bin', 'out/a/b/c.bin'])
    expect((await collect(d, ['*.md', '.env'])).files).toEqual(['.env', 'README.md'])
  })
  it('a name with a newline is an artifact like any other', async () => {
    expect((await collect(d, ['new*'])).files).toEqual(['new\nline.txt'])
  })
  it('warns like the runner for a path with no match, and refuses paths outside the project', async () => {
    const r = await collect(d, ['nope/', '../etc/passwd'])
    expect(r.files).toEqual([])
    expect(r.warnings[0]).toMatch(/not a subpath of project directory/)
    expect(r.warnings[1]).toMatch(/^nope\/: no matching files\. Ensure that the artifact path is relative to the working directory/)
  })
  it('untracked: the files not in the tracked list (given by the runner, not read from the job\'s .git)', async () => {
    const g = tree({ 'tracked.txt': 't', 'new.log': 'n', '.git/config': '[core]\n\tfsmonitor = touch /tmp/pwned\n' })
    expect((await collect(g, [], [], new Set(['tracked.txt']))).files).toEqual(['new.log'])
  })
})

describe('zip', () => {
  it('round-trips contents, modes and symlinks', async () => {
    const d = tree({ 'bin/run.sh': '#!/bin/sh\necho hi\n', 'data/x.txt': 'x' })
    chmodSync(join(d, 'bin/run.sh'), 0o755)
    symlinkSync('x.txt', join(d, 'data/link'))
    const zip = join(tree({}), 'a.zip')
    await collectToZip(new HostDirFiles(d), { paths: ['bin', 'data'], exclude: [], untracked: false, projectDir: d }, zip)
    const out = tree({})
    await new HostDirFiles(out).put(await zipToTar(zip))
    expect(readFileSync(join(out, 'bin/run.sh'), 'utf8')).toBe('#!/bin/sh\necho hi\n')
    expect(statSync(join(out, 'bin/run.sh')).mode & 0o777).toBe(0o755)
    expect(lstatSync(join(out, 'data/link')).isSymbolicLink()).toBe(true)
    expect(readlinkSync(join(out, 'data/link'))).toBe('x.txt')
  })
  it('refuses entries that escape the target (zip slip)', async () => {
    const d = tree({})
    const zip = join(d, 'evil.zip')
    writeFileSync(zip, zipSync({ '../../escaped.txt': Buffer.from('x') }))
    const target = join(d, 'target')
    mkdirSync(target)
    await expect(async () => new HostDirFiles(target).put(await zipToTar(zip))).rejects.toThrow(/refused/)
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
