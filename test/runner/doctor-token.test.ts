import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { doctorCommand } from '../../src/cli/commands/doctor.js'
import { memoryIo } from '../../src/cli/io.js'
import type { Finding } from '../../src/doctor/index.js'
import { type GitLabDouble, startGitLabDouble } from '../support/gitlab-double/server.js'

/**
 * `glrun doctor` asks GitLab whether it still knows each runner's token (POST /runners/verify),
 * against the GitLab double: a valid token, one revoked (the runner deleted or its token reset).
 */
const root = mkdtempSync(join(tmpdir(), 'glrun-doctor-token-'))
let gl: GitLabDouble
beforeAll(async () => { gl = await startGitLabDouble() })
afterAll(async () => {
  await gl?.close()
  rmSync(root, { recursive: true, force: true })
})

async function doctor(runners: { name: string; token: string }[], json: boolean): Promise<{ code: number; out: string }> {
  const config = join(root, `${runners.map((r) => r.name).join('-')}.toml`)
  writeFileSync(config, `concurrent = 1\n${runners.map((r) => `\n[[runners]]\n  name = "${r.name}"\n  url = "${gl.url}"\n  token = "${r.token}"\n  executor = "shell"\n`).join('')}`)
  const io = memoryIo()
  let code = -1
  const program = new Command('glrun').exitOverride()
  doctorCommand(program, io, (c) => { code = c })
  await program.parseAsync(['node', 'glrun', 'doctor', '--cwd', root, '--config', config, ...(json ? ['--json'] : [])])
  return { code, out: io.stdout }
}

describe('glrun doctor: the runner token', () => {
  it('a token GitLab knows is ok; a revoked one FAILs with "register again" and the commands that fix it', async () => {
    const good = gl.state.addRunner()
    const gone = gl.state.addRunner()
    gl.state.revokeRunner(gone.token)
    const runners = [{ name: 'good', token: good.token }, { name: 'gone', token: gone.token }]
    const r = await doctor(runners, false)
    expect(r.code).toBe(1)
    expect(r.out).toMatch(new RegExp(`^runner "good"\\n(?: {2}ok .*\\n)*? {2}ok {4}token +GitLab knows this runner's token \\(runner #${good.id}\\)$`, 'm'))
    expect(r.out).toMatch(/^ {2}FAIL {2}token +GitLab does not know this runner's token \(403\): register again$/m)
    expect(r.out).toMatch(/^ {8}fix: The runner was deleted in GitLab or its token was reset/m)
    expect(r.out).toContain(`          glrun register --url ${gl.url} --token <new glrt-… token> --executor shell --name "gone"`)
    expect(r.out).toMatch(/^ {10}glrun verify --delete$/m)

    const j = JSON.parse((await doctor(runners, true)).out) as { findings: Finding[] }
    const tokens = j.findings.filter((f) => f.check === 'token').map((f) => [f.scope, f.status])
    expect(tokens).toEqual([['runner "good"', 'ok'], ['runner "gone"', 'fail']])
    // It asked with each runner's own token, as gitlab-runner verify does.
    // (runners are checked side by side: the order between them is not fixed)
    const asked = gl.recorder.all.filter((q) => q.route === 'verify').map((q) => `${(q.params as { token: string }).token} ${q.status}`).sort()
    expect(asked).toEqual([`${good.token} 200`, `${good.token} 200`, `${gone.token} 403`, `${gone.token} 403`].sort())
  }, 30_000)
})
