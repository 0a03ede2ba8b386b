import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ProbeResult } from '../diagnose/types.js'

/**
 * The failures loopback cannot produce — a name nobody resolves, packets dropped on the way, no
 * route — made in a network namespace this test creates, so nothing leaves the machine:
 * - its resolver is its own loopback (`ip netns exec` puts /etc/netns/<ns>/resolv.conf in place
 *   of /etc/resolv.conf), where nothing answers: lookups fail at once;
 * - 10.254.1.2 sits behind one end of a veth pair with a made-up MAC address: SYNs go out and
 *   nobody takes them (a firewall that drops);
 * - 10.254.2.0/24 has an "unreachable" route (EHOSTUNREACH) and 10.254.3.0/24 no route at all
 *   (ENETUNREACH).
 * The probes run in a node process inside the namespace, from a bundle of the current sources.
 */
const ns = `glrun-probe-${process.pid}`
const dir = mkdtempSync(join(tmpdir(), 'glrun-probe-ns-'))
const bundle = join(dir, 'probe.mjs')
const inNs = (...a: string[]): void => { execFileSync('ip', ['netns', 'exec', ns, ...a], { stdio: 'pipe' }) }

beforeAll(async () => {
  await build({ entryPoints: [new URL('./index.ts', import.meta.url).pathname], bundle: true, platform: 'node', format: 'esm', outfile: bundle, logLevel: 'silent' })
  execFileSync('ip', ['netns', 'add', ns], { stdio: 'pipe' })
  mkdirSync(`/etc/netns/${ns}`, { recursive: true })
  writeFileSync(`/etc/netns/${ns}/resolv.conf`, 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n')
  inNs('ip', 'link', 'set', 'lo', 'up')
  inNs('ip', 'link', 'add', 'glrun0', 'type', 'veth', 'peer', 'name', 'glrun1')
  inNs('ip', 'addr', 'add', '10.254.1.1/24', 'dev', 'glrun0')
  inNs('ip', 'link', 'set', 'glrun0', 'up')
  inNs('ip', 'link', 'set', 'glrun1', 'up')
  inNs('ip', 'neigh', 'add', '10.254.1.2', 'lladdr', '02:00:00:00:00:02', 'dev', 'glrun0', 'nud', 'permanent')
  inNs('ip', 'route', 'add', 'unreachable', '10.254.2.0/24')
})

afterAll(() => {
  spawnSync('ip', ['netns', 'delete', ns])
  rmSync(`/etc/netns/${ns}`, { recursive: true, force: true })
  rmSync(dir, { recursive: true, force: true })
})

/** Runs `calls` ([function name, ...arguments]) in the namespace, all at once; their results in order. */
function probeInNs(...calls: [string, ...unknown[]][]): ProbeResult[] {
  const script = `const m = await import(${JSON.stringify(bundle)});
    const calls = JSON.parse(process.argv[1]);
    console.log(JSON.stringify(await Promise.all(calls.map(([f, ...a]) => m[f](...a)))))`
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', script, JSON.stringify(calls)], { encoding: 'utf8', timeout: 20_000 })
  expect(r.stderr).toBe('')
  return JSON.parse(r.stdout) as ProbeResult[]
}

describe('probes where packets are dropped, routes missing, names unknown', () => {
  it('a name that does not resolve, for DNS and TCP', () => {
    const [dns, tcp] = probeInNs(['probeDns', 'nowhere.glrun.invalid'], ['probeTcp', 'nowhere.glrun.invalid', 443])
    expect(dns).toMatchObject({ kind: 'dns', target: 'nowhere.glrun.invalid', from: 'runner', ok: false })
    expect(['ENOTFOUND', 'EAI_AGAIN']).toContain(dns!.detail?.['error'])
    expect(dns!.summary).toMatch(/^the runner host cannot resolve nowhere\.glrun\.invalid \((ENOTFOUND|EAI_AGAIN): /)
    expect(tcp).toMatchObject({ ok: false, detail: { outcome: 'unresolved' } })
  })

  it('dropped packets time out; the timeout is the caller\'s', () => {
    const started = Date.now()
    const [tcp, tls, registry] = probeInNs(['probeTcp', '10.254.1.2', 443, { timeoutMs: 700 }], ['probeTls', '10.254.1.2', 443, { timeoutMs: 700 }], ['probeRegistry', '10.254.1.2', { timeoutMs: 700 }])
    expect(tcp).toMatchObject({ kind: 'tcp', target: '10.254.1.2:443', ok: false, detail: { outcome: 'timed out', error: 'TIMEOUT', address: '10.254.1.2' } })
    expect(tcp!.summary).toBe('connecting to 10.254.1.2:443 timed out after 0.7 s: a firewall drops the packets, or the host is down')
    expect(tls).toMatchObject({ kind: 'tls', ok: false, detail: { outcome: 'timed out' } })
    expect(registry).toMatchObject({ kind: 'registry', target: '10.254.1.2', ok: false, detail: { outcome: 'timed out' } })
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('no route: EHOSTUNREACH from an unreachable route, ENETUNREACH with no route at all', () => {
    const [host, net, registry] = probeInNs(['probeTcp', '10.254.2.1', 443], ['probeTcp', '10.254.3.1', 22], ['probeRegistry', '10.254.2.1:5000'])
    expect(host).toMatchObject({ ok: false, detail: { outcome: 'unreachable', error: 'EHOSTUNREACH', address: '10.254.2.1' } })
    expect(host!.summary).toMatch(/^10\.254\.2\.1:443 is unreachable \(EHOSTUNREACH\): no route to 10\.254\.2\.1/)
    expect(net).toMatchObject({ ok: false, detail: { outcome: 'unreachable', error: 'ENETUNREACH' } })
    expect(registry).toMatchObject({ ok: false, detail: { outcome: 'unreachable', error: 'EHOSTUNREACH' } })
  })
})
