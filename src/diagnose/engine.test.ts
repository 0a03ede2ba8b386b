import { describe, expect, it } from 'vitest'
import { diagnose, renderReport, reportJson } from './engine.js'
import { parseTrace } from './trace.js'
import type { Diagnosis, Evidence, Rule } from './types.js'

const ev = (log: string, extra: Partial<Evidence> = {}): Evidence => ({ trace: parseTrace(log), ...extra })

const CLONE_FAILS = [
  'Preparing the "docker" executor',
  'Using Docker executor with image alpine:3.19 ...',
  'Getting source from Git repository',
  'Fetching changes with git depth set to 20...',
  "fatal: unable to access 'https://gitlab.example.com/acme/app.git/': Could not resolve host: gitlab.example.com",
  'Cleaning up project directory and file based variables',
  'ERROR: Job failed: exit code 1',
].join('\n')

const SCRIPT_CLONE_FAILS = [
  'Preparing the "docker" executor',
  'Getting source from Git repository',
  'Fetching changes with git depth set to 20...',
  'Checking out 1a2b3c4d as detached HEAD (ref is main)...',
  'Executing "step_script" stage of the job script',
  '$ git clone https://github.com/acme/vendored.git',
  "Cloning into 'vendored'...",
  "fatal: unable to access 'https://github.com/acme/vendored.git/': Could not resolve host: github.com",
  'ERROR: Job failed: exit code 128',
].join('\n')

function fixed(category: string, confidence: number, line: number): Diagnosis {
  return { category, title: category, cause: 'c', evidence: [{ line, text: 'x' }], fixes: [{ text: 'f' }], confidence }
}

describe('diagnose', () => {
  it('returns no diagnosis for a job that succeeded', () => {
    const r = diagnose(ev('$ npm test\nok\nJob succeeded\n'))
    expect(r.diagnoses).toEqual([])
    expect(r.relevant).toBeUndefined()
  })

  it('is phase-aware: a lookup failure of the clone is about the job network to GitLab', () => {
    const clone = diagnose(ev(CLONE_FAILS))
    expect(clone.phase).toBe('get_sources')
    expect(clone.diagnoses[0]?.category).toBe('gitlab_host_unreachable_from_job')
    const script = diagnose(ev(SCRIPT_CLONE_FAILS))
    expect(script.phase).toBe('step_script')
    expect(script.diagnoses.map((d) => d.category)).toEqual(['dns_resolution_failure'])
  })

  it('ignores the `$ command` echo: words in a command line are not output', () => {
    const r = diagnose(ev('Executing "step_script" stage of the job script\n$ echo "Could not resolve host: example.com"\nERROR: Job failed: exit code 1\n'))
    expect(r.diagnoses.map((d) => d.category)).toEqual(['user_script_failure'])
  })

  it('keeps the best diagnosis per category and ranks by confidence', () => {
    const rules: Rule[] = [
      { id: 'a', categories: ['x', 'y'], match: () => [fixed('x', 0.4, 2), fixed('y', 0.6, 2)] },
      { id: 'b', categories: ['x'], match: () => [fixed('x', 0.7, 2)] },
    ]
    const r = diagnose(ev('$ make\nboom\nERROR: Job failed: exit code 2\n'), rules)
    expect(r.diagnoses.map((d) => [d.category, d.confidence])).toEqual([['x', 0.75], ['y', 0.65]])
  })

  it('weighs evidence from the failed stage above evidence from stages after it', () => {
    const log = ['Executing "step_script" stage of the job script', '$ make', 'make: *** Error 2', 'Uploading artifacts for failed job', 'WARNING: something odd', 'ERROR: Job failed: exit code 2'].join('\n')
    const rules: Rule[] = [{ id: 't', categories: ['early', 'late'], match: () => [fixed('late', 0.8, 5), fixed('early', 0.7, 3)] }]
    const r = diagnose(ev(log), rules)
    expect(r.diagnoses.map((d) => [d.category, d.confidence])).toEqual([['early', 0.75], ['late', 0.65]])
  })

  it('does not guess a cause on an unknown failure: it names the kind of failure, weakly, with the relevant lines', () => {
    const log = [
      'Executing "step_script" stage of the job script',
      '$ npm ci', 'added 12 packages', '$ npm test', '> jest', 'FAIL src/a.test.ts', 'Tests: 1 failed, 3 passed',
      'Cleaning up project directory and file based variables', 'ERROR: Job failed: exit code 1',
    ].join('\n')
    const r = diagnose(ev(log))
    expect(r.diagnoses.map((d) => [d.category, d.confidence])).toEqual([['user_script_failure', 0.3]])
    expect(r.diagnoses[0]?.evidence.map((e) => e.line)).toEqual([6, 7])
    expect(r.relevant?.map((l) => l.line)).toEqual([4, 6, 7, 9])
    expect(renderReport(r, { color: false })).toContain('No known failure pattern matched')
  })

  it('uses probe results: the IP the runner host resolves goes into the snippets', () => {
    const r = diagnose(ev(CLONE_FAILS, {
      executor: 'kubernetes',
      probes: [
        { kind: 'dns', target: 'gitlab.example.com', from: 'runner', ok: true, summary: 'resolves to 10.0.0.232', detail: { addresses: ['10.0.0.232'] } },
        { kind: 'dns', target: 'gitlab.example.com', from: 'job', ok: false, summary: 'no such host' },
      ],
    }))
    const top = r.diagnoses[0]
    expect(top?.cause).toContain('10.0.0.232')
    expect(top?.fixes[0]?.snippet).toBe('[[runners.kubernetes.host_aliases]]\n  ip = "10.0.0.232"\n  hostnames = ["gitlab.example.com"]')
    expect(top?.fixes.some((f) => f.snippet === '[runners.docker]\n  extra_hosts = ["gitlab.example.com:10.0.0.232"]')).toBe(true)
  })
})

describe('reportJson and renderReport', () => {
  it('gives exactly phase, exit_code and diagnoses, with null for unknowns and no empty snippet', () => {
    const j = reportJson(diagnose(ev(CLONE_FAILS)))
    expect(Object.keys(j)).toEqual(['phase', 'exit_code', 'diagnoses'])
    expect(Object.keys(j.diagnoses[0] ?? {})).toEqual(['category', 'title', 'cause', 'evidence', 'fixes', 'confidence'])
    expect(j.diagnoses.flatMap((d) => d.fixes).every((f) => Object.keys(f).every((k) => k === 'text' || k === 'snippet'))).toBe(true)
    expect(reportJson({ diagnoses: [] })).toEqual({ phase: null, exit_code: null, diagnoses: [] })
  })

  it('renders the phase, the top diagnosis with numbered evidence and fixes, and the alternatives', () => {
    const text = renderReport(diagnose(ev(CLONE_FAILS)), { color: false })
    expect(text.split('\n')[0]).toBe('Job failed in get_sources (exit code 1)')
    expect(text).toContain('The job cannot resolve the GitLab host gitlab.example.com  [gitlab_host_unreachable_from_job')
    expect(text).toContain("   L5  fatal: unable to access 'https://gitlab.example.com/acme/app.git/'")
    expect(text).toMatch(/\n {4}1\. Docker executor: .*\n {9}\[runners\.docker\]\n {9} {2}extra_hosts = \["gitlab\.example\.com:<IP of gitlab\.example\.com>"\]/)
    expect(text).toContain('Other possible causes:\n    - Cannot resolve gitlab.example.com [dns_resolution_failure')
    expect(text).not.toContain('\x1b[')
    expect(renderReport(diagnose(ev(CLONE_FAILS)), { color: true })).toContain('\x1b[')
    expect(renderReport(diagnose(ev('Job succeeded\n')), { color: false })).toBe('No failure found in this log.\n')
  })
})

describe('one Scan per diagnosis', () => {
  it('is shared by every rule during one diagnose() and built again for the next call', async () => {
    const { Scan } = await import('./scan.js')
    const seen: unknown[] = []
    const probe: Rule = { id: 'probe', categories: [], match: (e) => { seen.push(Scan.of(e)); return [] } }
    const e = ev(CLONE_FAILS)
    diagnose(e, [probe, probe, probe])
    expect(seen).toHaveLength(3)
    expect(new Set(seen).size).toBe(1)
    // Evidence changed between calls is seen: the shared Scan lives only for one call.
    e.executor = 'kubernetes'
    diagnose(e, [probe])
    expect(seen[3]).not.toBe(seen[0])
    expect((seen[3] as InstanceType<typeof Scan>).family).toBe('kubernetes')
    expect(Scan.of(e)).not.toBe(seen[3])
  })
})
