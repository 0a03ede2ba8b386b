import { type Server, createServer } from 'node:http'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SourceTexts } from '../../src/diagnostics/source.js'
import { resolveConfig } from '../../src/pipeline/include/index.js'

/**
 * A remote include is text from a server the pipeline names: it is read with the same cap as a
 * local file, so a server that keeps sending cannot fill glrun's memory.
 */
let server: Server
let base = ''
const dirs: string[] = []

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url !== '/endless.yml') return void res.writeHead(404).end()
    // No Content-Length: chunks of YAML comments until the client hangs up (at most 16 MiB, so
    // that a regressed glrun fails this test instead of reading for ever).
    res.writeHead(200, { 'content-type': 'text/plain' })
    const chunk = Buffer.from(`# ${'x'.repeat(1021)}\n`.repeat(64))
    let sent = 0
    const pump = (): void => {
      while (sent < 16 * 1024 * 1024) {
        sent += chunk.length
        if (!res.write(chunk)) return void res.once('drain', pump)
      }
      res.end('job:\n  script: [echo]\n')
    }
    res.on('close', () => { sent = Infinity })
    pump()
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }))
  await new Promise((r) => server.close(r))
})

describe('include:remote', () => {
  it('a server that keeps sending: refused past the read limit, with the include as the place', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glrun-remote-'))
    dirs.push(dir)
    writeFileSync(join(dir, '.gitlab-ci.yml'), `include:\n  - remote: ${base}/endless.yml\n`)
    const r = await resolveConfig({ projectDir: dir, vars: () => undefined, sources: new SourceTexts(), remoteCacheDir: join(dir, 'cache') })
    expect(r.errors.map((e) => e.code)).toEqual(['GLRUN_INCLUDE_TOO_BIG'])
    expect(r.errors[0]!.message).toBe(`${base}/endless.yml answered more than 4194304 bytes`)
    expect(r.errors[0]!.where).toMatchObject({ file: '.gitlab-ci.yml', line: 2 })
  })
})
