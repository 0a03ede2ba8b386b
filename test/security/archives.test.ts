import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { zipSync } from 'fflate'
import { afterAll, describe, expect, it } from 'vitest'
import { zipToTar } from '../../src/job/artifacts/zip.js'
import { HostDirFiles } from '../../src/job/files/host-files.js'

/**
 * Hostile archives (an artifact or cache made by anyone but glrun): whatever they hold, nothing
 * is written outside the target, through a link, or as a device.
 */
const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))
const tmp = (p: string): string => {
  const d = mkdtempSync(join(tmpdir(), p))
  dirs.push(d)
  return d
}
const attrs = (mode: number): { os: number; attrs: number } => ({ os: 3, attrs: (mode << 16) >>> 0 })

async function extract(entries: Parameters<typeof zipSync>[0]): Promise<{ target: string; error?: Error }> {
  const d = tmp('glrun-zip-')
  const zip = join(d, 'a.zip')
  writeFileSync(zip, zipSync(entries))
  const target = join(d, 'target')
  try {
    await new HostDirFiles(target).put(await zipToTar(zip))
    return { target }
  } catch (e) {
    return { target, error: e as Error }
  }
}

describe('hostile archives', () => {
  it('zip slip: ../ names are refused, nothing lands outside', async () => {
    const r = await extract({ '../../escaped.txt': Buffer.from('x') })
    expect(r.error?.message).toMatch(/GLRUN_ZIP_REFUSED|refused/)
    expect(existsSync(join(r.target, '..', '..', 'escaped.txt'))).toBe(false)
  })

  it('absolute names are refused', async () => {
    const victim = tmp('glrun-victim-')
    const r = await extract({ [`${victim}/x`]: Buffer.from('x') })
    expect(r.error?.message).toMatch(/refused/)
    expect(existsSync(join(victim, 'x'))).toBe(false)
  })

  it('a link and then a file through it in the same archive: refused, the link target untouched', async () => {
    const victim = tmp('glrun-victim-')
    const r = await extract({
      'out/link': [Buffer.from(victim), attrs(0o120777)],
      'out/link/pwned.txt': [Buffer.from('x'), attrs(0o100644)],
    })
    expect(r.error?.message).toMatch(/through the symlink out\/link/)
    expect(readdirSync(victim)).toEqual([])
  })

  it('device and fifo entries are not created', async () => {
    const r = await extract({
      'dev/null-ish': [Buffer.from(''), attrs(0o020666)],
      'dev/fifo': [Buffer.from(''), attrs(0o010644)],
      'ok.txt': [Buffer.from('ok'), attrs(0o100644)],
    })
    expect(r.error).toBeUndefined()
    expect(lstatSync(join(r.target, 'ok.txt')).isFile()).toBe(true)
    expect(existsSync(join(r.target, 'dev/null-ish'))).toBe(false)
    expect(existsSync(join(r.target, 'dev/fifo'))).toBe(false)
  })
})
