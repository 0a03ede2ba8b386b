import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadYaml } from './load.js'
import { keySpan, spanAt, spanOf } from './positions.js'
import { YamlReference } from './reference.js'

/** A cached parse must be indistinguishable from a fresh one: values, tags and every position. */
const dir = mkdtempSync(join(tmpdir(), 'glrun-parse-cache-'))
const saved = process.env['XDG_CACHE_HOME']
beforeAll(() => { process.env['XDG_CACHE_HOME'] = dir })
afterAll(() => {
  if (saved === undefined) delete process.env['XDG_CACHE_HOME']
  else process.env['XDG_CACHE_HOME'] = saved
  rmSync(dir, { recursive: true, force: true })
})

const text = `
.base: &base
  image: alpine
  variables: {A: 1, B: "two"}
job:
  <<: *base
  script:
    - echo one
    - !reference [.base, image]
  rules: [{if: $X, when: manual}]
dup: 1
dup: 2
---
second: {x: [1, 2.5, null, true]}
`

function walk(v: unknown, path: (string | number)[], out: string[]): void {
  out.push(`${path.join('.')} = ${JSON.stringify(spanAt(v === undefined ? null : root, path))}`)
  if (v instanceof YamlReference) out.push(`${path.join('.')} ref ${JSON.stringify(v.path)} ${JSON.stringify(v.span)}`)
  else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i], out))
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) {
    out.push(`${[...path, k].join('.')} key ${JSON.stringify(keySpan(valueAt(path), k))}`)
    walk(x, [...path, k], out)
  }
}
let root: unknown
function valueAt(path: (string | number)[]): unknown {
  let cur = root
  for (const p of path) cur = (cur as Record<string | number, unknown>)[p]
  return cur
}
function describeResult(r: ReturnType<typeof loadYaml>): string[] {
  const out: string[] = [JSON.stringify(r.warnings.map((w) => [w.code, w.message, w.where]))]
  for (const d of r.documents) {
    root = d.value
    out.push(JSON.stringify(d.value), JSON.stringify(d.span), JSON.stringify(spanOf(d.value)))
    walk(d.value, [], out)
  }
  return out
}

describe('parse cache', () => {
  it('gives back exactly what a fresh parse gives', () => {
    process.env['GLRUN_NO_PARSE_CACHE'] = '1'
    const fresh = describeResult(loadYaml(text, 'ci.yml'))
    delete process.env['GLRUN_NO_PARSE_CACHE']
    const first = describeResult(loadYaml(text, 'ci.yml')) // parses and writes the cache
    const cached = describeResult(loadYaml(text, 'ci.yml')) // reads it back
    expect(first).toEqual(fresh)
    expect(cached).toEqual(fresh)
  })

  it('does not cache a file with errors', () => {
    const bad = 'a: [1, 2\n'
    expect(loadYaml(bad, 'bad.yml').errors.length).toBe(1)
    expect(loadYaml(bad, 'bad.yml').errors.length).toBe(1)
  })
})
