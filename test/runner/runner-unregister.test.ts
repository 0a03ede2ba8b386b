import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { glrunAsync as glrun } from '../support/glrun-async.js'
import { type GitLabDouble, startGitLabDouble } from '../support/gitlab-double/server.js'

/**
 * `glrun unregister` and `glrun verify --delete` against the GitLab double, on a config.toml an
 * operator wrote by hand: the entry goes, everything else stays byte for byte — comments, the
 * comment above the next runner, keys glrun does not know, sub-tables, blank lines.
 */
const root = mkdtempSync(join(tmpdir(), 'glrun-runner-unregister-'))
let gl: GitLabDouble
beforeAll(async () => { gl = await startGitLabDouble() })
afterAll(async () => {
  await gl?.close()
  rmSync(root, { recursive: true, force: true })
})

/** The file in pieces: the head, then one piece per runner (with the comment above it). */
function pieces(tokens: [string, string, string]): [string, string, string, string] {
  return [
    '# managed by hand — keep this comment\nconcurrent = 4\ncheck_interval = 3\nlog_level = "info"\n\n[session_server]\n  session_timeout = 1800\n\n',
    `# the docker runner (staging)\n[[runners]]\n  name = "staging"\n  url = "${gl.url}"\n  token = "${tokens[0]}"\n  executor = "docker"\n  [runners.docker]\n    image = "alpine:3.19"   # pinned\n    volumes = ["/cache"]\n  [runners.cache]\n    Type = "s3"\n\n`,
    `# the shell runner on this host\n[[runners]]\n  name = "shell"\n  url = "${gl.url}"\n  token = "${tokens[1]}"\n  limit = 2\n  executor = "shell"\n  environment = ["A=1"]\n\n`,
    `[[runners]]\n  name = "last"\n  url = "${gl.url}"\n  token = "${tokens[2]}"\n  executor = "shell"\n`,
  ]
}

function configFile(name: string, text: string): string {
  const path = join(root, `${name}.toml`)
  writeFileSync(path, text, { mode: 0o600 })
  return path
}

describe('glrun unregister / verify --delete', () => {
  it('unregister --name deletes the runner in GitLab and only its entry from config.toml', async () => {
    const t = [gl.state.addRunner().token, gl.state.addRunner().token, gl.state.addRunner().token] as [string, string, string]
    const [head, staging, shell, last] = pieces(t)
    const path = configFile('unregister', head + staging + shell + last)
    const r = await glrun(['unregister', '--config', path, '--name', 'shell'])
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/Unregistering runner "shell"\.\.\. succeeded/)
    expect(readFileSync(path, 'utf8')).toBe(head + staging + last)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(gl.state.runners.has(t[1])).toBe(false)
    expect(gl.state.runners.has(t[0]) && gl.state.runners.has(t[2])).toBe(true)
    const deletes = gl.recorder.all.filter((q) => q.route === 'unregister')
    expect(deletes.map((q) => [(q.params as { token: string }).token, q.status])).toEqual([[t[1], 204]])

    // The first runner too: the comment above it goes with it, the file's head stays.
    expect((await glrun(['unregister', '--config', path, '--name', 'staging'])).code).toBe(0)
    expect(readFileSync(path, 'utf8')).toBe(head + last)
  }, 60_000)

  it('verify --delete drops the entries GitLab no longer knows; plain verify only reports them', async () => {
    const t = [gl.state.addRunner().token, gl.state.addRunner().token, gl.state.addRunner().token] as [string, string, string]
    gl.state.revokeRunner(t[0])
    gl.state.revokeRunner(t[2])
    const [head, staging, shell, last] = pieces(t)
    const original = head + staging + shell + last
    const path = configFile('verify', original)

    const plain = await glrun(['verify', '--config', path])
    expect(plain.code).toBe(1)
    expect(plain.out).toMatch(/is not valid {3}runner=staging/)
    expect(plain.out).toMatch(/is valid {3}runner=shell/)
    expect(readFileSync(path, 'utf8')).toBe(original)

    const del = await glrun(['verify', '--config', path, '--delete'])
    expect(del.err).toBe('')
    expect(del.code).toBe(0)
    expect(del.out).toMatch(/Removed 2 runner\(s\)/)
    expect(readFileSync(path, 'utf8')).toBe(head + shell)
    expect(statSync(path).mode & 0o777).toBe(0o600)
  }, 60_000)
})
