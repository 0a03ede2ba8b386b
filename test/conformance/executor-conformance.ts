import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, describe, expect, it } from 'vitest'
import { TarWriter, readSmall, readTar } from '../../src/job/files/tar-entries.js'
import { collectToZip } from '../../src/job/artifacts/collect.js'
import type { Executor, ExecutorSession, TraceOutput } from '../../src/executors/types.js'
import { localStores } from '../../src/job/artifacts/stores.js'
import { bashScript } from '../../src/job/script/bash.js'
import { runJob } from '../../src/job/run-job.js'
import type { JobPayload } from '../../src/payload/types.js'
import { Masker } from '../../src/trace/masker.js'
import { MemorySink } from '../../src/trace/sinks/memory-sink.js'
import { TraceWriter } from '../../src/trace/trace-writer.js'

/**
 * The one suite every executor must pass (gitlab-runner's common/buildtest, in spirit): exit
 * codes, output order, masking across chunks, timeout and cancel leaving no process behind,
 * after_script after a failure, file variables, artifacts. Call it from each executor's test;
 * `skip` (a reason) skips the suite where the executor's backend is missing.
 */
export function describeExecutorConformance(name: string, make: () => Executor, skip?: string): void {
  const dirs: string[] = []
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))
  const buildsDir = (): string => {
    const d = mkdtempSync(join(tmpdir(), `glrun-conf-${name}-`))
    dirs.push(d)
    return d
  }
  const collect = (): TraceOutput & { text: () => string } => {
    let s = ''
    return { write: (c) => { s += c.toString() }, text: () => s }
  }
  async function session(): Promise<ExecutorSession> {
    return make().open(payload(['true']), { buildsDir: buildsDir(), out: collect(), signal: new AbortController().signal })
  }
  const script = (s: ExecutorSession, commands: string[], vars: { key: string; value: string; file?: boolean }[] = []): string =>
    bashScript({ projectDir: s.projectDir, variables: vars, commands, echo: false })

  describe.skipIf(skip)(`executor conformance: ${name}`, () => {
    it('reports exit codes as values', async () => {
      const s = await session()
      for (const code of [0, 1, 42]) {
        expect(await s.run({ stage: 'step_script', script: script(s, [`exit ${code}`]) }, collect(), new AbortController().signal)).toEqual({ kind: 'exited', code })
      }
      await s.close()
    })

    it('streams stdout and stderr in the order they were written', async () => {
      const s = await session()
      const out = collect()
      await s.run({ stage: 'step_script', script: script(s, ['echo one', 'echo two >&2', 'sleep 0.1', 'echo three', 'echo four >&2']) }, out, new AbortController().signal)
      expect(out.text()).toBe('one\ntwo\nthree\nfour\n')
      await s.close()
    })

    it('delivers 10 MB of output intact', async () => {
      const s = await session()
      let bytes = 0
      await s.run({ stage: 'step_script', script: script(s, ['head -c 10485760 /dev/zero | tr "\\0" x']) }, { write: (c) => { bytes += c.length } }, new AbortController().signal)
      expect(bytes).toBe(10485760)
      await s.close()
    })

    it('a value masked in the trace stays masked when the process prints it in pieces', async () => {
      const s = await session()
      const sink = new MemorySink()
      const trace = new TraceWriter({ masker: new Masker(['s3cr3t-value-123']), sinks: [sink] })
      await s.run({ stage: 'step_script', script: script(s, ['printf "s3cr3t-"', 'sleep 0.05', 'printf "value-123\\n"']) }, trace, new AbortController().signal)
      await trace.close()
      expect(sink.text()).toBe('[MASKED]\n')
      await s.close()
    })

    it('times out: kills the whole process tree and says so', async () => {
      const s = await session()
      const marker = `glrun-conf-${Date.now()}`
      const started = Date.now()
      const st = await s.run({ stage: 'step_script', script: script(s, [`(sleep 300; echo ${marker}) &`, 'sleep 300']), timeoutMs: 500 }, collect(), new AbortController().signal)
      expect(st).toEqual({ kind: 'timed-out' })
      expect(Date.now() - started).toBeLessThan(10_000)
      await new Promise((r) => setTimeout(r, 200))
      expect(spawnSync('pgrep', ['-f', '^sleep 300$']).status).not.toBe(0)
      await s.close()
    })

    it('cancel stops the stage and leaves no process behind', async () => {
      const s = await session()
      const ac = new AbortController()
      setTimeout(() => ac.abort(), 300)
      const st = await s.run({ stage: 'step_script', script: script(s, ['sleep 301 & sleep 301']) }, collect(), ac.signal)
      expect(st).toEqual({ kind: 'canceled' })
      await new Promise((r) => setTimeout(r, 200))
      expect(spawnSync('pgrep', ['-f', '^sleep 301$']).status).not.toBe(0)
      await s.close()
    })

    it('file variables: the job sees a path to a file with the value; close() removes it', async () => {
      const s = await session()
      const out = collect()
      const withVar = await s.run({ stage: 'step_script', script: script(s, ['cat "$CERT"'], [{ key: 'CERT', value: 'pem-data', file: true }]) }, out, new AbortController().signal)
      expect(withVar).toEqual({ kind: 'exited', code: 0 })
      expect(out.text()).toMatch(/pem-data$/)
      await s.close()
      // The shell executor's directory is on this machine; a container's goes with its volume.
      if (name === 'shell') expect(existsSync(`${s.projectDir}.tmp/CERT`)).toBe(false)
    })

    it('job files: put() unpacks where the job runs, get() returns it with links as links', async () => {
      const s = await session()
      const w = new TarWriter()
      const now = new Date()
      void (async () => {
        await w.add({ name: 'in/data.txt', kind: 'file', mode: 0o640, size: 5, mtime: now }, Readable.from([Buffer.from('hello')]))
        await w.add({ name: 'in/link', kind: 'symlink', mode: 0o777, size: 0, mtime: now, linkname: '../in/data.txt' })
        w.finish()
      })()
      await s.files.put(w.stream)
      const out = collect()
      expect(await s.run({ stage: 'step_script', script: script(s, ['cat in/data.txt', 'echo', 'cat in/link', 'mkdir -p made && echo job > made/file']) }, out, new AbortController().signal)).toEqual({ kind: 'exited', code: 0 })
      expect(out.text()).toBe('hello\nhello')
      const got: Record<string, string> = {}
      for (const path of ['in', 'made/file']) {
        const tar = await s.files.get(path)
        expect(tar).toBeDefined()
        await readTar(tar!, async (e, content) => {
          got[e.name] = e.kind === 'symlink' ? `-> ${e.linkname}` : e.kind === 'file' ? (await readSmall(content, 100)) ?? '' : 'dir'
        })
      }
      expect(got).toEqual({ in: 'dir', 'in/data.txt': 'hello', 'in/link': '-> ../in/data.txt', 'made/file': 'job\n' })
      expect(await s.files.get('nothing-here')).toBeUndefined()
      await s.close()
    })

    it('job files: a name that is not UTF-8 is left out of an archive with a word, the rest goes in', async () => {
      const s = await session()
      await s.run({ stage: 'step_script', script: script(s, ["mkdir -p out && printf x > out/ok.txt && printf y > \"out/caf$(printf '\\351').txt\""]) }, collect(), new AbortController().signal)
      const zip = join(buildsDir(), 'names.zip')
      const r = await collectToZip(s.files, { paths: ['out/'], exclude: [], untracked: false, projectDir: s.projectDir }, zip)
      expect(r.count).toBe(1)
      expect(r.warnings.join('\n')).toMatch(/out\/caf.*\.txt: not archived: its name is not valid UTF-8/)
      await s.close()
    })

    it('job files: put() never writes on this machine through a link the job made', async () => {
      const victim = mkdtempSync(join(tmpdir(), 'glrun-victim-'))
      dirs.push(victim)
      const s = await session()
      await s.run({ stage: 'step_script', script: script(s, [`mkdir -p out && ln -s ${victim} out/link`]) }, collect(), new AbortController().signal)
      const w = new TarWriter()
      void (async () => {
        await w.add({ name: 'out/link/pwned.txt', kind: 'file', mode: 0o644, size: 1, mtime: new Date() }, Readable.from([Buffer.from('x')]))
        w.finish()
      })()
      await s.files.put(w.stream).catch(() => undefined)
      expect(existsSync(join(victim, 'pwned.txt'))).toBe(false)
      await s.close()
    })

    it('a whole job: after_script runs after a failure with CI_JOB_STATUS=failed; artifacts on failure are kept', async () => {
      const sink = new MemorySink()
      const trace = new TraceWriter({ masker: new Masker([]), sinks: [sink] })
      const job = payload(['echo partial > result.txt', 'exit 7'], ['echo "status=$CI_JOB_STATUS"'])
      job.artifacts = [{ name: 'artifacts', untracked: false, paths: ['result.txt'], exclude: [], when: 'on_failure', artifact_type: 'archive', artifact_format: 'zip', expire_in: '' }]
      const stores = localStores(buildsDir())
      const o = await runJob({ job, executor: make(), trace, buildsDir: buildsDir(), ...stores, signal: new AbortController().signal })
      await trace.close()
      expect(o).toMatchObject({ status: 'failed', reason: 'script_failure', exitCode: 7 })
      expect(sink.text()).toMatch(/status=failed/)
      expect(sink.text()).toMatch(/section_start:\d+:upload_artifacts_on_failure/)
      expect(existsSync(stores.artifacts.artifactZip('conformance'))).toBe(true)
      expect(sink.text()).toMatch(/ERROR: Job failed: exit (status|code) 7/)
    })
  })
}

/** A minimal job payload, as GitLab would send it. */
export function payload(script: string[], after: string[] = []): JobPayload {
  return {
    id: 1, token: 'glcbt-conformance-token', allow_git_fetch: true,
    job_info: { name: 'conformance', stage: 'test', pipeline_id: 1, project_id: 1, project_name: 'conf', project_full_path: 'group/conf' },
    git_info: { repo_url: '', ref: 'main', sha: '0'.repeat(40), before_sha: '0'.repeat(40), ref_type: 'branch', refspecs: [], depth: 0 },
    runner_info: { timeout: 60 },
    variables: [{ key: 'GIT_STRATEGY', value: 'none', public: true }],
    steps: [{ name: 'script', script, timeout: 60, when: 'on_success', allow_failure: false }, ...(after.length ? [{ name: 'after_script', script: after, timeout: 60, when: 'always' as const, allow_failure: true }] : [])],
    image: null, services: [], artifacts: null, cache: null, credentials: [], dependencies: [],
    features: { trace_sections: true, failure_reasons: [] },
  }
}
