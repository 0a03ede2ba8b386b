import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ATTACH_MAIN, StageOutput, executionStrategy, newNonce, stageCommand } from './attach-stage.js'

/**
 * The attach protocol against a real shell: ATTACH_MAIN reading commands from its stdin, as the
 * build container's main process does, and stages written to it one after the other.
 */
function mainShell(): { send: (s: string) => void; stdout: NodeJS.ReadableStream; stop: () => void } {
  const sh = spawn('sh', ['-c', ATTACH_MAIN], { stdio: ['pipe', 'pipe', 'inherit'] })
  return { send: (s) => sh.stdin.write(s), stdout: sh.stdout, stop: () => sh.kill('SIGTERM') }
}

function stage(m: ReturnType<typeof mainShell>, path: string, script: string, log = join(dirname(path), 'output.log'), nonce = newNonce()): Promise<{ out: string; code: number }> {
  const chunks: Buffer[] = []
  return new Promise((resolve) => {
    const output = new StageOutput(nonce, { write: (c) => chunks.push(Buffer.from(c)) }, (code) => {
      m.stdout.unpipe(output)
      resolve({ out: Buffer.concat(chunks).toString(), code })
    })
    m.stdout.pipe(output)
    m.send(stageCommand(path, script, nonce, log))
  })
}

describe('the attach strategy\'s stage protocol', () => {
  it('runs stages one after another on one shell: output as written, exit codes, scripts with quotes, $ and here-document words', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glrun-attach-'))
    const m = mainShell()
    try {
      expect(await stage(m, join(dir, 'p.tmp', 's.sh'), 'echo "it\'s $((1 + 1))"\necho to-stderr >&2\n')).toEqual({ out: "it's 2\nto-stderr\n", code: 0 })
      expect(await stage(m, join(dir, 'p.tmp', 's.sh'), "cat <<'EOF'\nGLRUN_x\nEOF\nprintf no-newline\nexit 3")).toEqual({ out: 'GLRUN_x\nno-newline', code: 3 })
      // A command reading stdin gets the end of the here-document, not the next stage.
      expect(await stage(m, join(dir, 'p.tmp', 's.sh'), 'read -r line || echo "stdin is empty"\n')).toEqual({ out: 'stdin is empty\n', code: 0 })
      expect(await stage(m, join(dir, 'p.tmp', 's.sh'), 'echo still here\n')).toEqual({ out: 'still here\n', code: 0 })
    } finally {
      m.stop()
    }
  })

  it('the log file holds each stage after its begin line: a broken session resumes from it where it stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glrun-attach-log-'))
    const log = join(dir, 'output.log')
    writeFileSync(log, '')
    const m = mainShell()
    const nonce = newNonce()
    try {
      await stage(m, join(dir, 'p.tmp', 's.sh'), 'echo first stage\n', log)
      expect(await stage(m, join(dir, 'p.tmp', 's.sh'), 'echo one; echo two; exit 4\n', log, nonce)).toEqual({ out: 'one\ntwo\n', code: 4 })
    } finally {
      m.stop()
    }
    // As if the session had broken after "one\n": the rest, and the status, from the file.
    const seen: Buffer[] = []
    let code: number | undefined
    const resumed = new StageOutput(nonce, { write: (c) => seen.push(Buffer.from(c)) }, (c) => { code = c }, { skip: 4 })
    const text = readFileSync(log)
    for (let i = 0; i < text.length; i += 7) resumed.write(text.subarray(i, i + 7))
    expect(Buffer.concat(seen).toString()).toBe('two\n')
    expect(code).toBe(4)

    // A session that broke inside the status line: nothing of it was shown, the file has it whole.
    const shown: Buffer[] = []
    const first = new StageOutput(nonce, { write: (c) => shown.push(Buffer.from(c)) }, () => { throw new Error('no status on a broken line') })
    first.end(Buffer.from(`one\ntwo\n\n${nonce} `))
    await new Promise((r) => first.on('finish', r))
    expect(Buffer.concat(shown).toString()).toBe('one\ntwo\n')
    let again: number | undefined
    const rest: Buffer[] = []
    new StageOutput(nonce, { write: (c) => rest.push(Buffer.from(c)) }, (c) => { again = c }, { skip: first.passed }).end(readFileSync(log))
    expect(Buffer.concat(rest).toString()).toBe('')
    expect(again).toBe(4)
  })

  it('a stage canceled before the reading shell got to it never starts; it reports 137 and the next stage runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glrun-attach-cancel-'))
    const path = join(dir, 'p.tmp', 's.sh')
    mkdirSync(dirname(path))
    const nonce = newNonce()
    // What killStageCommand leaves when it runs first.
    writeFileSync(`${path}.${nonce}.canceled`, '')
    const m = mainShell()
    try {
      expect(await stage(m, path, `touch ${join(dir, 'ran')}\n`, join(dir, 'output.log'), nonce)).toEqual({ out: '', code: 137 })
      expect(existsSync(join(dir, 'ran'))).toBe(false)
      expect(await stage(m, path, 'echo next\n')).toEqual({ out: 'next\n', code: 0 })
      // Removed right after the status line, so looked for once the next stage has run.
      expect(existsSync(`${path}.${nonce}.canceled`)).toBe(false)
    } finally {
      m.stop()
    }
  })

  it('StageOutput holds back what could start the status line, across chunks, and takes only its own', () => {
    const seen: string[] = []
    const codes: number[] = []
    const o = new StageOutput('N0NCE', { write: (c) => seen.push(c.toString()) }, (c) => codes.push(c))
    for (const part of ['abc\nN0N', 'CE is not it\n', '\nN0', 'NCE 4', '2\nafter']) o.write(Buffer.from(part))
    expect(seen.join('')).toBe('abc\nN0NCE is not it\n')
    expect(codes).toEqual([42])
  })

  it('FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY: config.toml wins when it sets the flag, else the job variable (gitlab-runner populateFeatureFlags); attach by default', () => {
    const job = (v?: string) => ({ variables: v === undefined ? [] : [{ key: 'FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY', value: v, public: true }] }) as never
    expect(executionStrategy(job(), {})).toBe('attach')
    expect(executionStrategy(job(), { FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY: true })).toBe('exec')
    expect(executionStrategy(job('true'), {})).toBe('exec')
    expect(executionStrategy(job('false'), { FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY: true })).toBe('exec')
    expect(executionStrategy(job('true'), { FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY: false })).toBe('attach')
    // Go's ParseBool: "yes" is not a boolean (the flag keeps its default), " true" neither.
    expect(executionStrategy(job('yes'), {})).toBe('attach')
    expect(executionStrategy(job(' true'), {})).toBe('attach')
    // The last definition wins (project variables come after the YAML's), expanded.
    const two = { variables: [{ key: 'FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY', value: 'true', public: true }, { key: 'WANT', value: 'false', public: true }, { key: 'FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY', value: '$WANT', public: true }] } as never
    expect(executionStrategy(two, {})).toBe('attach')
  })
})
