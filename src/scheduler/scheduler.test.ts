import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { JobOutcome } from '../job/outcome.js'
import type { PlannedJob } from '../pipeline/plan/types.js'
import { runPipeline } from './scheduler.js'

function job(name: string, stageIndex: number, extra: Partial<PlannedJob> = {}): PlannedJob {
  return {
    name, stage: `s${stageIndex}`, stageIndex, when: 'on_success', allowFailure: false, needs: null, dependencies: [],
    retry: { max: 0, when: [], exitCodes: [] }, interruptible: false, timeoutSeconds: 60, reason: '', commands: [], payload: undefined as never, span: undefined, ...extra,
  }
}
const ok = (): JobOutcome => ({ status: 'success', durationMs: 1 })
const fail = (code = 1): JobOutcome => ({ status: 'failed', reason: 'script_failure', exitCode: code, allowedToFail: false, message: `exit status ${code}`, durationMs: 1 })
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 1))

describe('scheduler', () => {
  it('stages in order, needs start early, needs: [] at once', async () => {
    const order: string[] = []
    const jobs = [job('build', 0), job('slow', 0), job('test', 1, { needs: [{ job: 'build', artifacts: true, optional: false }] }), job('lint', 1, { needs: [] }), job('deploy', 2)]
    await runPipeline(jobs, async (j) => {
      order.push(`start ${j.name}`)
      await new Promise((r) => setTimeout(r, j.name === 'slow' ? 60 : 5))
      order.push(`end ${j.name}`)
      return ok()
    }, { concurrency: 4, signal: new AbortController().signal })
    expect(order.indexOf('start test')).toBeLessThan(order.indexOf('end slow'))
    expect(order.indexOf('start lint')).toBeLessThan(order.indexOf('end build'))
    expect(order.indexOf('start deploy')).toBeGreaterThan(order.indexOf('end slow'))
  })

  it('when, allow_failure (exit codes), retry, skipped dependents', async () => {
    let attempts = 0
    const jobs = [
      job('a', 0), job('flaky', 0, { retry: { max: 2, when: ['script_failure'], exitCodes: [] } }), job('allowed', 0, { allowFailure: { exitCodes: [3] } }),
      job('b', 1), job('on-fail', 1, { when: 'on_failure' }), job('always', 1, { when: 'always' }), job('manual', 1, { when: 'manual' }),
    ]
    const out = await runPipeline(jobs, async (j) => {
      if (j.name === 'a') return fail()
      if (j.name === 'flaky') return ++attempts < 3 ? fail() : ok()
      if (j.name === 'allowed') return fail(3)
      return ok()
    }, { concurrency: 2, signal: new AbortController().signal })
    const by = Object.fromEntries(out.results.map((r) => [r.name, r]))
    expect(out.status).toBe('failed')
    expect(by['flaky']).toMatchObject({ attempts: 3, outcome: { status: 'success' } })
    expect(by['allowed']!.outcome).toMatchObject({ status: 'failed', allowedToFail: true })
    expect(by['b']!.outcome).toMatchObject({ status: 'skipped', because: 'needs-failed' })
    expect(by['on-fail']!.outcome.status).toBe('success')
    expect(by['always']!.outcome.status).toBe('success')
    expect(by['manual']!.outcome).toMatchObject({ status: 'skipped', because: 'manual' })
  })

  it('resource_group runs one job of a group at a time; cancel skips what has not started', async () => {
    let inGroup = 0
    let maxInGroup = 0
    const ac = new AbortController()
    const jobs = [job('d1', 0, { resourceGroup: 'prod' }), job('d2', 0, { resourceGroup: 'prod' }), job('later', 1)]
    const out = await runPipeline(jobs, async (j, _n, signal) => {
      maxInGroup = Math.max(maxInGroup, ++inGroup)
      await new Promise((r) => setTimeout(r, 20))
      inGroup--
      if (j.name === 'd2') ac.abort()
      return signal.aborted ? { status: 'canceled', durationMs: 1 } : ok()
    }, { concurrency: 4, signal: ac.signal })
    expect(maxInGroup).toBe(1)
    expect(out.status).toBe('canceled')
    expect(out.results.find((r) => r.name === 'later')!.outcome).toMatchObject({ status: 'skipped', because: 'canceled' })
  })

  it('property: never starts a job before its prerequisites end, never exceeds concurrency, always ends', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({ stage: fc.nat(3), needs: fc.option(fc.array(fc.nat(20), { maxLength: 3 }), { nil: undefined }), fails: fc.boolean() }), { minLength: 1, maxLength: 15 }),
      fc.integer({ min: 1, max: 4 }),
      async (specs, concurrency) => {
        const jobs = specs.map((s, i) => job(`j${i}`, s.stage))
        jobs.forEach((j, i) => {
          const need = specs[i]!.needs
          if (need) Object.assign(j, { needs: need.map((n) => jobs[n % jobs.length]!).filter((o) => o.stageIndex <= j.stageIndex && o !== j && Number(o.name.slice(1)) < i).map((o) => ({ job: o.name, artifacts: true, optional: false })) })
        })
        const ended = new Set<string>()
        let running = 0
        let peak = 0
        const out = await runPipeline(jobs, async (j) => {
          const pre = j.needs ? j.needs.map((n) => n.job) : jobs.filter((o) => o.stageIndex < j.stageIndex).map((o) => o.name)
          for (const p of pre) expect(ended.has(p) || !jobs.some((o) => o.name === p)).toBe(true)
          peak = Math.max(peak, ++running)
          await tick()
          running--
          ended.add(j.name)
          return specs[Number(j.name.slice(1))]!.fails ? fail() : ok()
        }, { concurrency, signal: new AbortController().signal, onEvent: (e) => { if (e.type === 'job-skipped') ended.add(e.job) } })
        expect(peak).toBeLessThanOrEqual(concurrency)
        expect(out.results).toHaveLength(jobs.length)
      },
    ), { numRuns: 60 })
  })
})
