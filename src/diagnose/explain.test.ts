import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { afterAll, describe, expect, it } from 'vitest'
import { explainCommand } from '../cli/commands/explain.js'
import { memoryIo } from '../cli/io.js'
import { GlrunError } from '../diagnostics/errors.js'

/** `glrun explain`, driven the way main.ts drives every command. */
const dir = mkdtempSync(join(tmpdir(), 'glrun-explain-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const S1 = [
  'Fetching changes with git depth set to 50...',
  'Initialized empty Git repository in /builds/3KymoL1X/0/root/mycicd/.git/',
  'Created fresh repository.',
  "fatal: unable to access 'https://gitlab.mylab.com/root/mycicd.git/': Failed to connect to gitlab.mylab.com port 443: Host is unreachable",
  'ERROR: Job failed: command terminated with exit code 1',
].join('\n')

async function explain(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIo()
  let code = -1
  const program = new Command('glrun').exitOverride()
  explainCommand(program, io, (c) => { code = c })
  await program.parseAsync(['explain', ...args], { from: 'user' })
  return { code, stdout: io.stdout, stderr: io.stderr }
}

function file(name: string, text: string): string {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}

describe('glrun explain', () => {
  it('prints the diagnosis of a pasted S1 log, Kubernetes snippet first', async () => {
    const r = await explain([file('s1.log', S1), '--executor', 'kubernetes'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('Job failed in get_sources (exit code 1)')
    expect(r.stdout).toContain('gitlab_host_unreachable_from_job')
    expect(r.stdout.indexOf('[[runners.kubernetes.host_aliases]]')).toBeLessThan(r.stdout.indexOf('extra_hosts = ["gitlab.mylab.com:'))
  })

  it('prints {phase, exit_code, diagnoses} with --json and reads config.toml and the CI file', async () => {
    const config = file('config.toml', '[[runners]]\n  name = "k8s"\n  url = "https://gitlab.mylab.com"\n  executor = "kubernetes"\n')
    const ci = file('ci.yml', 'build:\n  script: [make]\n')
    const r = await explain([file('s1b.log', S1), '--config', config, '--ci', ci, '--json'])
    const json = JSON.parse(r.stdout) as { phase: string; exit_code: number; diagnoses: { category: string }[] }
    expect(Object.keys(json)).toEqual(['phase', 'exit_code', 'diagnoses'])
    expect(json).toMatchObject({ phase: 'get_sources', exit_code: 1 })
    expect(json.diagnoses[0]?.category).toBe('gitlab_host_unreachable_from_job')
    expect(r.code).toBe(0)
  })

  it('exits 0 and, when nothing matches, names the kind of failure, the relevant lines and a next step', async () => {
    const r = await explain([file('plain.log', '$ make test\nFAIL: 3 tests\nERROR: Job failed: exit code 2\n')])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('No known failure pattern matched')
    expect(r.stdout).toContain('A command of the job script failed')
    expect(r.stdout).toContain('[user_script_failure, confidence 0.30]')
    expect(r.stdout).toMatch(/Fixes:\n {4}1\. /)
    expect(r.stdout).toContain('L2  FAIL: 3 tests')
  })

  it('takes probe results from a JSON file', async () => {
    const probes = file('probes.json', JSON.stringify([{ kind: 'dns', target: 'gitlab.mylab.com', from: 'runner', ok: true, summary: 'ok', detail: { addresses: ['10.0.0.232'] } }]))
    const r = await explain([file('s1c.log', S1), '--executor', 'kubernetes', '--probes', probes])
    expect(r.stdout).toContain('ip = "10.0.0.232"')
  })

  it('reports unreadable input as GLRUN_EXPLAIN_INPUT with a hint', async () => {
    const missing = explain([join(dir, 'nope.log')])
    await expect(missing).rejects.toBeInstanceOf(GlrunError)
    await expect(missing).rejects.toMatchObject({ code: 'GLRUN_EXPLAIN_INPUT', hint: expect.stringContaining('raw') })
    const bad = explain([file('s1d.log', S1), '--config', file('bad.toml', '[[runners]\nname = ')])
    await expect(bad).rejects.toMatchObject({ code: 'GLRUN_EXPLAIN_INPUT', message: expect.stringContaining('not valid TOML') })
  })
})
