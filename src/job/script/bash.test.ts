import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { expandAll, expandValue } from '../variables/runner-expand.js'
import { ansiQuote, bashScript } from './bash.js'

function runBash(script: string): { code: number | null; out: string } {
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' })
  return { code: r.status, out: r.stdout + r.stderr }
}

describe('runner-side expansion (os.Expand)', () => {
  const vars = (n: string) => ({ A: 'a', B: '$A', EMPTY: '' } as Record<string, string>)[n]
  it.each([
    ['$A-${A}', 'a-a'], ['$$A', '$A'], ['$B', '$A'], ['$NOPE.', '.'], ['$1$@x', 'x'], ['cost: 5$', 'cost: 5$'], ['${A', ''], ['a $ b', 'a $ b'],
  ])('%s → %s', (input, out) => expect(expandValue(input, vars)).toBe(out))
  it('raw values stay, file variables expand to their path, last definition wins', () => {
    const out = expandAll([{ key: 'X', value: '1' }, { key: 'X', value: '2' }, { key: 'R', value: '$X', raw: true }, { key: 'F', value: 'pem', file: true }, { key: 'U', value: '$F/$X' }], (k) => `/tmp/${k}`)
    expect(out).toEqual([{ key: 'X', value: '2' }, { key: 'R', value: '$X', raw: true }, { key: 'F', value: 'pem', file: true }, { key: 'U', value: '/tmp/F/2' }])
  })
})

describe('bash script', () => {
  it('quotes any string so bash gives it back unchanged', () => {
    for (const s of ["it's", 'a\\b', '$HOME `x` "q"', 'line1\nline2\ttab', 'é✓\x01']) {
      expect(runBash(`printf '%s' ${ansiQuote(s)}`).out).toBe(s)
    }
  })

  it('echoes commands in green, exports variables without re-expanding them, stops at the first failure', () => {
    const dir = mkdtempSync(join(tmpdir(), 'glrun-bash-'))
    try {
      const script = bashScript({
        projectDir: dir, echo: true,
        variables: [{ key: 'GREETING', value: 'Hello, $USER' }, { key: 'CERT', value: 'pem-data', file: true }],
        commands: ['echo "$GREETING"', 'cat "$CERT"; echo', 'for i in 1 2; do\n  echo "n$i"\ndone', 'false', 'echo never'],
      })
      const r = runBash(script)
      expect(r.code).toBe(1)
      expect(r.out).toBe([
        '\x1b[32;1m$ echo "$GREETING"\x1b[0;m', 'Hello, $USER',
        '\x1b[32;1m$ cat "$CERT"; echo\x1b[0;m', 'pem-data',
        '\x1b[32;1m$ for i in 1 2; do # collapsed multi-line command\x1b[0;m', 'n1', 'n2',
        '\x1b[32;1m$ false\x1b[0;m', '',
      ].join('\n'))
    } finally {
      rmSync(dir, { recursive: true, force: true })
      rmSync(`${dir}.tmp`, { recursive: true, force: true })
    }
  })
})
