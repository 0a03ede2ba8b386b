import { describe, expect, it } from 'vitest'
import { BOLD_CYAN, BOLD_GREEN, BOLD_RED, CLEAR, RESET, YELLOW, sectionEnd, sectionStart } from '../trace/ansi.js'
import { parseTrace } from './trace.js'

const title = (t: string): string => `${CLEAR}${BOLD_CYAN}${t}${RESET}${RESET}`
const green = (t: string): string => `${BOLD_GREEN}${t}${RESET}`

/** A docker job that fails in step_script, written byte for byte as the runner does. */
function dockerLog(): string {
  return [
    `${CLEAR}Running with gitlab-runner 17.5.0 (c6eae8ea)${RESET}`,
    `${sectionStart(100, 'prepare_executor')}${title('Preparing the "docker" executor')}`,
    `${CLEAR}Using Docker executor with image alpine:3.19 ...${RESET}`,
    `${sectionEnd(101, 'prepare_executor')}${sectionStart(101, 'get_sources')}${title('Getting source from Git repository')}`,
    green('Fetching changes with git depth set to 20...'),
    `${sectionEnd(102, 'get_sources')}${sectionStart(102, 'step_script')}${title('Executing "step_script" stage of the job script')}`,
    `${sectionStart(102, 'section_script_step_0', 'hide_duration=true,collapsed=true')}${green('$ make')}`,
    'make: *** [all] Error 2',
    `${sectionEnd(103, 'section_script_step_0')}${sectionEnd(103, 'step_script')}${sectionStart(103, 'upload_artifacts_on_failure')}${title('Uploading artifacts for failed job')}`,
    `${YELLOW}WARNING: dist/: no matching files${RESET}`,
    `${sectionEnd(104, 'upload_artifacts_on_failure')}${sectionStart(104, 'cleanup_file_variables')}${title('Cleaning up project directory and file based variables')}`,
    `${sectionEnd(105, 'cleanup_file_variables')}${BOLD_RED}ERROR: Job failed: exit code 2${RESET}`,
    '',
  ].join('\n')
}

describe('parseTrace', () => {
  it('strips colours and recognises section markers on the line they prefix', () => {
    const t = parseTrace(dockerLog())
    expect(t.lines[1]).toEqual({ n: 2, text: 'Preparing the "docker" executor', section: 'prepare_executor' })
    expect(t.lines[4]).toEqual({ n: 5, text: 'Fetching changes with git depth set to 20...', section: 'get_sources' })
    // The user-level script section nests inside step_script; lines keep the runner stage.
    expect(t.lines[6]).toEqual({ n: 7, text: '$ make', section: 'step_script' })
    expect(t.lines[11]).toEqual({ n: 12, text: 'ERROR: Job failed: exit code 2' })
    expect(t.sections.map((s) => [s.name, s.startLine, s.endLine])).toEqual([
      ['prepare_executor', 2, 4], ['get_sources', 4, 6], ['step_script', 6, 9], ['section_script_step_0', 7, 9],
      ['upload_artifacts_on_failure', 9, 11], ['cleanup_file_variables', 11, 12],
    ])
  })

  it('finds the failed phase, skipping the stages that only run because of the failure', () => {
    const t = parseTrace(dockerLog())
    expect(t).toMatchObject({ failed: true, succeeded: false, exitCode: 2, failedPhase: 'step_script' })
  })

  it('reads the exit code in every executor wording', () => {
    expect(parseTrace('ERROR: Job failed: exit status 127\n').exitCode).toBe(127)
    expect(parseTrace('ERROR: Job failed: command terminated with exit code 137\n').exitCode).toBe(137)
    const system = parseTrace('ERROR: Job failed (system failure): prepare environment: waiting for pod running\n')
    expect(system).toMatchObject({ failed: true, failedPhase: 'prepare_executor' })
    expect(system.exitCode).toBeUndefined()
  })

  it('keeps the last \\r rewrite of a progress line', () => {
    const t = parseTrace('$ curl -O https://x/y\n  0 of 100\r 50 of 100\r100 of 100\r\nJob succeeded\n')
    expect(t.lines.map((l) => l.text)).toEqual(['$ curl -O https://x/y', '100 of 100', 'Job succeeded'])
    expect(t).toMatchObject({ failed: false, succeeded: true })
  })

  it('ignores a trailing blank rewrite and handles CRLF logs', () => {
    const t = parseTrace('Sending build context 1kB\rSending build context 2MB\r\r\r\nstep two\r\n')
    expect(t.lines.map((l) => l.text)).toEqual(['Sending build context 2MB', 'step two'])
  })

  it('strips FF_TIMESTAMPS prefixes, including continuations after a section marker', () => {
    const ts = (n: number, cont = false): string => `2025-01-01T00:00:0${n}.123456Z 00O${cont ? '+' : ' '}`
    const raw = [
      `${ts(1)}${CLEAR}Running with gitlab-runner 18.7.0 (abc)${RESET}`,
      `${ts(2)}${sectionStart(1, 'get_sources')}${ts(2, true)}${title('Getting source from Git repository')}`,
      `${ts(3).replace('00O', '01O')}fatal: could not read from remote`,
      `${ts(4)}${sectionEnd(2, 'get_sources')}${ts(4, true)}${BOLD_RED}ERROR: Job failed: exit code 128${RESET}`,
    ].join('\n')
    const t = parseTrace(raw)
    expect(t.lines.map((l) => l.text)).toEqual([
      'Running with gitlab-runner 18.7.0 (abc)', 'Getting source from Git repository', 'fatal: could not read from remote', 'ERROR: Job failed: exit code 128',
    ])
    expect(t.lines[2]?.section).toBe('get_sources')
    expect(t).toMatchObject({ failedPhase: 'get_sources', exitCode: 128 })
  })

  it('infers phases from the stage titles of a log without markers', () => {
    const t = parseTrace([
      'Running with gitlab-runner 16.11.0 (91a27b2a)',
      'Preparing the "kubernetes" executor',
      'Using Kubernetes namespace: ci',
      'Preparing environment',
      'Running on runner-abc via gitlab-runner-0...',
      'Getting source from Git repository',
      "fatal: unable to access 'https://gitlab.example.com/a/b.git/': Could not resolve host: gitlab.example.com",
      'Cleaning up project directory and file based variables',
      'ERROR: Job failed: command terminated with exit code 1',
    ].join('\n'))
    expect(t.lines.map((l) => l.section)).toEqual([undefined, 'prepare_executor', 'prepare_executor', 'prepare_script', 'prepare_script', 'get_sources', 'get_sources', 'cleanup_file_variables', undefined])
    expect(t.sections.map((s) => [s.name, s.startLine, s.endLine])).toEqual([['prepare_executor', 2, 3], ['prepare_script', 4, 5], ['get_sources', 6, 7], ['cleanup_file_variables', 8, 9]])
    expect(t).toMatchObject({ failedPhase: 'get_sources', exitCode: 1, failed: true })
  })

  it('falls back to weaker hints for a few pasted lines', () => {
    const t = parseTrace([
      'Fetching changes with git depth set to 50...',
      'Initialized empty Git repository in /builds/x/.git/',
      "fatal: unable to access 'https://gitlab.mylab.com/root/mycicd.git/': Failed to connect to gitlab.mylab.com port 443: Host is unreachable",
      'ERROR: Job failed: command terminated with exit code 1',
    ].join('\n'))
    expect(t.failedPhase).toBe('get_sources')
    const s = parseTrace('$ npm test\nnpm ERR! Test failed.\nERROR: Job failed: exit code 1\n')
    expect(s.failedPhase).toBe('step_script')
  })

  it('does not let a `$ ` echo in after_script reopen step_script', () => {
    const t = parseTrace('Executing "step_script" stage of the job script\n$ make\nRunning after_script\nRunning after script...\n$ echo done\nERROR: Job failed: exit code 1\n')
    expect(t.lines[4]?.section).toBe('after_script')
    expect(t.failedPhase).toBe('step_script')
  })

  it('treats a job page without any runner output as neither failed nor succeeded', () => {
    const t = parseTrace("This job is stuck because you don't have any active runners online or available with any of these tags assigned to them: gpu\n")
    expect(t).toMatchObject({ failed: false, succeeded: false })
    expect(t.failedPhase).toBeUndefined()
  })
})
