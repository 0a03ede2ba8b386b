import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { expectLinear, sized } from '../../test/support/linear-time.js'
import { cats, run, step, top } from '../../test/support/diagnose-log.js'
import { FALLBACK_CATEGORIES } from './fallback.js'
import { SYMPTOM_CATEGORIES, symptomDiagnoses } from './symptoms.js'

// Tools no rule knows (frob, quux-fetch, …) saying common things: the broad tier offers the class
// behind the words as an alternative, after the kind-of-failure answer, never instead of a rule.
const broad = (line: string): string[] => cats(step('$ ./ci/build.sh', line))
const word = (text: string): string | undefined => symptomDiagnoses([{ line: 1, text }])[0]?.category

describe('symptom tier: the words of the last error line', () => {
  it.each([
    ['frob: write failed on /var/cache/frob: No space left on device (28)', 'no_space_left_on_device'],
    ['quux-fetch: peer certificate has expired (downloads.example.org)', 'tls_certificate_expired'],
    ['quux-fetch: cannot verify downloads.example.org: self-signed certificate in chain', 'tls_untrusted_ca'],
    ['frob-link: out of memory while mapping section .text', 'oom_killed'],
    ['quux-fetch: failed to resolve downloads.example.org (no data)', 'dns_resolution_failure'],
    ['quux-fetch: https://downloads.example.org/frob-1.2.tar.gz: Connection refused', 'upstream_service_unavailable'],
    ['quux-fetch: https://downloads.example.org/frob-1.2.tar.gz: 503 Service Unavailable', 'upstream_service_unavailable'],
    ['quux-fetch: https://gitlab.example.com/group/frob.git: Connection refused', 'gitlab_host_unreachable_from_job'],
    ['quux-fetch: downloads.example.org:443: Connection timed out', 'egress_blocked_firewall'],
    ['quux-fetch: transfer from downloads.example.org: Connection reset', 'transient_failure'],
    ['frob: cannot run ./tools/gen: exec format error', 'image_wrong_architecture'],
    ['frob-pkg: No package frobnicator available.', 'package_not_found'],
    ['frob: executable file not found: "genfrob"', 'command_not_found'],
    ['frob-image: mount of /mnt/root failed: Operation not permitted', 'unprivileged_container_build'],
    ['frob-image: mknod /dev/frob0 failed: Operation not permitted', 'container_device_unavailable'],
    ['frob: cannot open /builds/group/frob/out/frob.o for writing: Permission denied', 'permission_denied_builds_dir'],
    ['frob: this project requires quux version 3.2 or newer (found 2.9)', 'toolchain_version_too_old'],
    ['frob: symbol lookup error: ./frob: undefined symbol: quux_init_v3', 'binary_loader_missing'],
    ['frob-test: step timed out after 3600 s', 'job_timeout'],
    ['frob-sync: Argument list too long', 'job_environment_too_large'],
    ['frob-sandbox: clone3: Function not implemented', 'seccomp_blocks_new_syscalls'],
  ])('%s', (line, category) => {
    expect(word(line)).toBe(category)
  })

  it.each([
    ['frob-link: out of memory while mapping section .text', 'oom_killed'],
    ['frob: executable file not found: "genfrob"', 'command_not_found'],
    ['frob: this project requires quux version 3.2 or newer (found 2.9)', 'toolchain_version_too_old'],
    ['frob-test: step timed out after 3600 s', 'job_timeout'],
  ])('in a job log no rule explains: %s', (line, category) => {
    const got = broad(line)
    expect(FALLBACK_CATEGORIES.has(got[0] ?? '')).toBe(true)
    expect(got.slice(1, 3)).toContain(category)
  })

  it('says it is a broad match, shows the line, and ranks below the kind of failure', () => {
    const r = run(step('$ ./ci/build.sh', 'frob-link: out of memory while mapping section .text'))
    const guess = r.diagnoses.find((d) => d.category === 'oom_killed')
    expect(guess?.title).toMatch(/broad match/)
    expect(guess?.evidence.map((e) => e.text)).toEqual(['frob-link: out of memory while mapping section .text'])
    expect(guess?.confidence).toBeLessThan(r.diagnoses[0]?.confidence ?? 0)
  })

  it('never replaces or repeats a rule\'s answer', () => {
    const d = cats(step('$ apt-get install -y frob', 'E: Unable to locate package frob'))
    expect(d[0]).toBe('package_not_found')
    expect(d.filter((c) => c === 'package_not_found')).toHaveLength(1)
  })

  it('offers at most two classes, the one nearest the failure first', () => {
    const g = symptomDiagnoses([
      { line: 1, text: 'frob: https://downloads.example.org/a: Connection refused' },
      { line: 2, text: 'frob: out of memory' },
      { line: 3, text: 'frob: No space left on device' },
    ])
    expect(g.map((d) => [d.category, d.confidence])).toEqual([['no_space_left_on_device', 0.25], ['oom_killed', 0.2]])
  })
})

describe('symptom tier: stays quiet where the words do not mean the environment', () => {
  it('a test runner\'s verdict: the test failed, whatever its message says', () => {
    expect(broad('FAILED tests/test_fetch.py::test_refused - ConnectionRefusedError: https://api.example.org: Connection refused')).not.toContain('upstream_service_unavailable')
  })
  it('a connection with no host named, or to loopback or a private address', () => {
    expect(broad('frob: could not connect to frobd')).not.toContain('upstream_service_unavailable')
    expect(broad('frob: http://localhost:8080/health: Connection refused')).not.toContain('upstream_service_unavailable')
    expect(broad('frob: http://10.1.2.3:8080/health: Connection refused')).not.toContain('upstream_service_unavailable')
  })
  it('a server the job started itself on loopback closing the connection', () => {
    expect(cats(step('$ ./frobd & ./smoke http://127.0.0.1:9000/', 'smoke: Remote end closed connection without response'))).not.toContain('transient_failure')
  })
  it('a source file\'s file:line:column is not a host and port', () => {
    expect(broad("/builds/g/p/spec/support/frob_setup.rb:218:in `try_connect!': could not connect to frobd (RuntimeError)")).not.toContain('upstream_service_unavailable')
  })
  it('"Permission denied" outside the checkout', () => {
    expect(broad('frob: cannot open /srv/frob/lock: Permission denied')).not.toContain('permission_denied_builds_dir')
  })
  it('the runner\'s warnings', () => {
    expect(broad('WARNING: Failed to load system CertPool: crypto/x509: system root pool is not available on Windows')).not.toContain('tls_untrusted_ca')
  })
  it('a job that succeeded gets nothing', () => {
    expect(run(['$ frob', 'frob: Connection refused (retrying) https://downloads.example.org/', 'Job succeeded'].join('\n')).diagnoses).toEqual([])
  })
})

describe('symptom tier: its classes and its cost', () => {
  it('answers only taxonomy ids', () => {
    const taxonomy = new Set([...readFileSync(new URL('../../docs/failure-taxonomy.md', import.meta.url), 'utf8').matchAll(/^### `([a-z0-9_]+)`/gm)].map((m) => m[1]))
    expect([...SYMPTOM_CATEGORIES].filter((c) => !taxonomy.has(c))).toEqual([])
  })
  it('reads 80 000-character lines of repeated words in linear time', () => {
    for (const word of ['certificate ', 'command ', 'requires ', 'Included file ', 'Killed ', 'frob.org:', 'version `', 'jobs:a ']) {
      expectLinear((k) => {
        const text = word.repeat(Math.ceil(sized(80_000, k) / word.length))
        return () => symptomDiagnoses([{ line: 1, text }, { line: 2, text }, { line: 3, text }, { line: 4, text }])
      }, word)
    }
  })
  it('the first answer of a log only this tier reads stays the kind of failure', () => {
    expect(top(step('$ ./ci/build.sh', 'frob-test: step timed out after 3600 s'))?.category).toBe('user_script_failure')
  })
})
