import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Pod } from 'kubernetes-models/v1'
import { afterAll, describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { main } from '../../src/cli/main.js'
import { memoryIo } from '../../src/cli/io.js'
import { makeRepo } from '../support/git-repo.js'
import { kindOf } from '../support/k8s-double/kinds.js'
import { decode, validate } from '../support/k8s-double/validate.js'

/**
 * Golden Pod manifests: each folder under test/golden/pod/<case>/ holds `repo/` (its
 * .gitlab-ci.yml), `config.toml` (the runner's [runners.kubernetes]), optional `args.json` (job
 * names) and `expected.yaml`, the output of `glrun compile --pod`. Every manifest must also be a
 * valid Pod for Kubernetes' own schema (kubernetes-models, generated from the OpenAPI spec) and
 * for the API double's apiserver rules (strict decoding, semantic validation), and
 * `--json` must print the same objects. UPDATE_GOLDEN=1 rewrites the expectations: review the diff.
 */
process.env['SOURCE_DATE_EPOCH'] = '1767323045'
const root = new URL('./pod/', import.meta.url).pathname
const cases = readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()
const cleanups: (() => void)[] = []
afterAll(() => cleanups.forEach((c) => c()))

async function compilePod(dir: string, json: boolean): Promise<{ code: number; out: string; err: string }> {
  const args: string[] = existsSync(join(dir, 'args.json')) ? JSON.parse(readFileSync(join(dir, 'args.json'), 'utf8')) : []
  const repo = makeRepo({ copyFrom: join(dir, 'repo'), origin: 'https://gitlab.example.com/acme/webapp.git', history: true })
  cleanups.push(repo.cleanup)
  const io = memoryIo()
  const code = await main(['node', 'glrun', 'compile', '--pod', ...(json ? ['--json'] : []), '--config', join(dir, 'config.toml'), '--cwd', repo.dir, ...args], io)
  return { code, out: io.stdout, err: io.stderr }
}

describe('golden: glrun compile --pod', () => {
  it.each(cases)('%s', async (name) => {
    const dir = join(root, name)
    const r = await compilePod(dir, false)
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    const golden = join(dir, 'expected.yaml')
    if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(golden)) {
      if (process.env['CI'] === 'true' && !existsSync(golden)) throw new Error(`missing golden file ${golden}`)
      writeFileSync(golden, r.out)
    } else {
      expect(r.out).toBe(readFileSync(golden, 'utf8'))
    }
    const pods = parseAllDocuments(r.out).map((d) => d.toJS() as Record<string, unknown>)
    expect(pods.length).toBeGreaterThan(0)
    for (const p of pods) {
      expect(() => new Pod(p as never).validate()).not.toThrow()
      // And what an apiserver checks beyond the schema (names, mounts, quantities, DNS policy…), strictly: no unknown field.
      expect(() => validate(kindOf('', 'pods')!, decode(kindOf('', 'pods')!, p, 'Strict'))).not.toThrow()
    }
    const j = await compilePod(dir, true)
    const parsed = JSON.parse(j.out) as { kind: string; items?: unknown[] }
    expect(parsed.kind === 'List' ? parsed.items : [parsed]).toEqual(pods)
  })
})

describe('compile --pod: what the schema check catches', () => {
  it('a pod with a non-boolean stdin is refused by the schema the goldens are held to', () => {
    expect(() => new Pod({ metadata: { name: 'p' }, spec: { containers: [{ name: 'build', image: 'x', stdin: 'yes' as never }] } }).validate()).toThrow(/stdin/)
  })
})
