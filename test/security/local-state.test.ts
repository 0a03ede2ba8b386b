import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { git, makeRepo } from '../support/git-repo.js'

/** Local state: runs do not disturb each other, nothing outlives glrun, nothing is lost. */
const bin = new URL('../../bin/glrun.js', import.meta.url).pathname
const cleanups: (() => void)[] = []
afterAll(() => cleanups.forEach((c) => c()))

function repo(files: Record<string, string>): string {
  const r = makeRepo({ files, origin: 'https://gitlab.example.com/acme/app.git' })
  cleanups.push(r.cleanup)
  return r.dir
}

function runSync(dir: string, ...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, 'run', '--cwd', dir, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

function start(dir: string, ...args: string[]): { child: ChildProcess; out: () => string; done: Promise<number | null> } {
  const child = spawn(process.execPath, [bin, 'run', '--cwd', dir, ...args], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr!.on('data', (d: Buffer) => { out += d.toString() })
  const done = new Promise<number | null>((resolve) => child.on('close', (code, sig) => resolve(code ?? (sig ? -1 : null))))
  return { child, out: () => out, done }
}

async function until(what: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 50))
  }
}

const running = (pattern: string): boolean => spawnSync('pgrep', ['-f', pattern]).status === 0
/** Sleep lengths no other process has: a leftover of another run cannot pass for this test's job. */
const unique = (): number => 100_000 + Math.floor(Math.random() * 800_000)

describe('local state', () => {
  it('a second run in the same repository refuses while the first runs, and says who holds it', async () => {
    const dir = repo({ '.gitlab-ci.yml': 'slow:\n  script: [sleep 3]\n' })
    const first = start(dir)
    await until(() => /slow +│ \$ sleep 3/.test(first.out()))
    const second = runSync(dir)
    expect(second.code).not.toBe(0)
    expect(second.err).toMatch(/GLRUN_RUN_BUSY.*another glrun run \(pid \d+/)
    expect(await first.done).toBe(0)
    expect(runSync(dir).code).toBe(0)
  })

  it('jobs "x y" and "x-y" keep their own traces and artifacts', () => {
    const dir = repo({ '.gitlab-ci.yml': `"x y":\n  script: [echo space > f.txt, echo job-with-space]\n  artifacts: { paths: [f.txt] }\nx-y:\n  script: [echo dash > f.txt, echo job-with-dash]\n  artifacts: { paths: [f.txt] }\n` })
    expect(runSync(dir).code).toBe(0)
    const jobs = readdirSync(join(dir, '.glrun/jobs')).sort()
    expect(jobs).toHaveLength(2)
    const traces = jobs.map((j) => readFileSync(join(dir, '.glrun/jobs', j, 'trace.log'), 'utf8'))
    expect(traces.filter((t) => /job-with-space/.test(t))).toHaveLength(1)
    expect(traces.filter((t) => /job-with-dash/.test(t))).toHaveLength(1)
    expect(readdirSync(join(dir, '.glrun/artifacts'))).toHaveLength(2)
  })

  it('SIGTERM cancels like Ctrl-C: after_script runs, the trace is kept, exit 143', async () => {
    const n = unique()
    const dir = repo({ '.gitlab-ci.yml': `long:\n  script: [sleep ${n}]\n  after_script: [echo after-ran > after.txt, echo after-ran]\n` })
    const r = start(dir)
    await until(() => running(`^sleep ${n}$`))
    r.child.kill('SIGTERM')
    expect(await r.done).toBe(143)
    expect(r.out()).toMatch(/long +│ after-ran/)
    expect(readFileSync(join(dir, '.glrun/jobs/long/trace.log'), 'utf8')).toMatch(/after-ran/)
    expect(running(`^sleep ${n}$`)).toBe(false)
  })

  it('after kill -9 the job is ended by the next run before it reuses the directories, and no script with variables is left', async () => {
    const [a, b] = [unique(), unique()]
    const dir = repo({ '.gitlab-ci.yml': `orphan:\n  script: [sleep ${a} & sleep ${b}]\nquick:\n  script: [echo quick]\n` })
    const r = start(dir, 'orphan', '--variable', 'SECRET_IN_SCRIPT=v4r-value-9137')
    await until(() => running(`^sleep ${b}$`))
    r.child.kill('SIGKILL')
    await r.done
    expect(running(`^sleep ${b}$`)).toBe(true)
    const leftScripts = spawnSync('grep', ['-rl', 'v4r-value-9137', join(dir, '.glrun/builds')], { encoding: 'utf8' })
    expect(leftScripts.stdout).toBe('')
    const next = runSync(dir, 'quick')
    expect(next.err).toMatch(/ended 1 job process group left running by a glrun that was killed/)
    expect(running(`^sleep ${a}$`)).toBe(false)
    expect(running(`^sleep ${b}$`)).toBe(false)
  }, 30_000)

  it('output without a newline reaches the trace and the console within about a second', async () => {
    // One command: the `$ sleep` echo of a second one would end the line for it.
    const dir = repo({ '.gitlab-ci.yml': 'prompt:\n  script: [\'printf "waiting-for-input"; sleep 4; echo " done"\']\n' })
    const r = start(dir)
    const trace = join(dir, '.glrun/jobs/prompt/trace.log')
    await until(() => running('^sleep 4$'))
    const t0 = Date.now()
    await until(() => existsSync(trace) && /waiting-for-input/.test(readFileSync(trace, 'utf8')) && /prompt +│ waiting-for-input/.test(r.out()), 3000)
    expect(Date.now() - t0).toBeLessThan(2500)
    expect(await r.done).toBe(0)
  })

  it('a character split across two writes reaches the console whole', () => {
    // One command, so no `$ command` echo comes between the two halves of the character.
    const dir = repo({ '.gitlab-ci.yml': "utf8:\n  script: [\"printf 'caf\\\\303'; sleep 0.3; printf '\\\\251 ok\\\\n'\"]\n" })
    const r = runSync(dir)
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/utf8 +│ café ok/)
    expect(r.out).not.toMatch(/\uFFFD/)
  })

  it('a file whose name is not valid UTF-8 does not break get_sources', () => {
    const dir = repo({ '.gitlab-ci.yml': 'list:\n  script: [ls]\n' })
    spawnSync('sh', ['-c', `printf x > "$(printf '${dir}/caf\\351.txt')"`])
    git(dir, 'add', '-A')
    git(dir, 'commit', '-q', '-m', 'latin-1 name')
    spawnSync('sh', ['-c', `printf y > "$(printf '${dir}/untracked-\\377.txt')"`])
    const r = runSync(dir)
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/Job succeeded/)
    expect(statSync(join(dir, '.gitlab-ci.yml')).isFile()).toBe(true)
  })
})
