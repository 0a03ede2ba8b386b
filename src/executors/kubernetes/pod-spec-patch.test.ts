import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ExecutorFailure } from '../failure.js'
import { advancedPodSpec, mergePatch, patchPodSpec } from './pod-spec-patch.js'

const spec = () => ({
  containers: [
    { name: 'build', image: 'alpine', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], volumeMounts: [{ name: 'repo', mountPath: '/builds' }] },
    { name: 'helper', image: 'helper' },
  ],
  volumes: [{ name: 'repo', emptyDir: {} }],
  tolerations: [{ key: 'a', operator: 'Exists' }],
  nodeSelector: { os: 'linux' },
})

describe('pod_spec patches (FF_USE_ADVANCED_POD_SPEC_CONFIGURATION)', () => {
  it('strategic: containers, env and volumes merge by their keys; lists without a key are replaced; null removes', () => {
    const out = patchPodSpec(spec(), [{ name: 's', patch: 'containers:\n  - name: build\n    env:\n      - name: B\n        value: "two"\n      - name: C\n        value: "3"\n  - name: sidecar\n    image: envoy\ntolerations:\n  - key: b\n    operator: Exists\nnodeSelector:\n  os: null\n  disk: ssd\n' }])
    const build = (out['containers'] as { name: string; env?: unknown; image?: string; volumeMounts?: unknown }[])
    expect(build.map((c) => c.name)).toEqual(['build', 'helper', 'sidecar'])
    expect(build[0]?.env).toEqual([{ name: 'A', value: '1' }, { name: 'B', value: 'two' }, { name: 'C', value: '3' }])
    expect(build[0]?.image).toBe('alpine')
    expect(build[0]?.volumeMounts).toEqual([{ name: 'repo', mountPath: '/builds' }])
    expect(out['tolerations']).toEqual([{ key: 'b', operator: 'Exists' }])
    expect(out['nodeSelector']).toEqual({ disk: 'ssd' })
  })

  it('strategic directives: $patch: delete removes a list item, $patch: replace replaces a list or a map', () => {
    const out = patchPodSpec(spec(), [{ name: 'd', patch: JSON.stringify({ containers: [{ name: 'helper', $patch: 'delete' }], volumes: [{ $patch: 'replace' }, { name: 'other', emptyDir: { medium: 'Memory' } }], nodeSelector: { $patch: 'replace', zone: 'a' } }) }])
    expect((out['containers'] as { name: string }[]).map((c) => c.name)).toEqual(['build'])
    expect(out['volumes']).toEqual([{ name: 'other', emptyDir: { medium: 'Memory' } }])
    expect(out['nodeSelector']).toEqual({ zone: 'a' })
  })

  it('merge (RFC 7386): lists are replaced whole, null removes', () => {
    expect(mergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { c: null, d: 3 }, l: [3] })).toEqual({ a: { b: 1, d: 3 }, l: [3] })
    const out = patchPodSpec(spec(), [{ name: 'm', patchType: 'merge', patch: 'containers:\n  - name: only\n    image: x\n' }])
    expect(out['containers']).toEqual([{ name: 'only', image: 'x' }])
  })

  it('json (RFC 6902) from a patch_path file, applied after the others in order; a failing test op refuses', () => {
    const dir = mkdtempSync(join(tmpdir(), 'glrun-podspec-'))
    const file = join(dir, 'patch.yaml')
    writeFileSync(file, '- op: replace\n  path: /containers/0/image\n  value: alpine:3.21\n- op: add\n  path: /containers/0/env/-\n  value: { name: Z, value: "26" }\n- op: remove\n  path: /tolerations\n- op: copy\n  from: /nodeSelector\n  path: /nodeSelectorCopy\n')
    const out = patchPodSpec(spec(), [{ name: 'first', patch: 'nodeSelector:\n  zone: b\n' }, { name: 'j', patchType: 'json', patchPath: file }])
    const build = (out['containers'] as { image: string; env: unknown[] }[])[0]!
    expect(build.image).toBe('alpine:3.21')
    expect(build.env.at(-1)).toEqual({ name: 'Z', value: '26' })
    expect(out['tolerations']).toBeUndefined()
    expect(out['nodeSelectorCopy']).toEqual({ os: 'linux', zone: 'b' })
    expect(() => patchPodSpec(spec(), [{ name: 't', patchType: 'json', patch: '[{"op":"test","path":"/nodeSelector/os","value":"windows"}]' }])).toThrow(/pod_spec "t": test failed at \/nodeSelector\/os/)
  })

  it('mistakes are configuration errors naming the patch', () => {
    const err = (f: () => unknown): ExecutorFailure => {
      try {
        f()
      } catch (e) {
        return e as ExecutorFailure
      }
      throw new Error('no error')
    }
    expect(err(() => patchPodSpec(spec(), [{ name: 'both', patch: 'a: 1', patchPath: '/x' }])).message).toBe('pod_spec "both": patch and patch_path are both set: use one')
    expect(err(() => patchPodSpec(spec(), [{ name: 'file', patchPath: '/nonexistent/patch.yaml' }])).message).toBe('pod_spec "file": cannot read patch_path /nonexistent/patch.yaml: ENOENT')
    expect(err(() => patchPodSpec(spec(), [{ name: 'kind', patchType: 'apply', patch: 'a: 1' }])).failureReason).toBe('runner_configuration_error')
    expect(err(() => patchPodSpec(spec(), [{ name: 'bad', patch: 'a: [1' }])).message).toMatch(/^pod_spec "bad": the patch is not YAML or JSON/)
  })

  it('the flag: [runners.feature_flags] wins when it sets it, else the job variable (Go ParseBool words)', () => {
    const job = (v?: string) => ({ variables: v === undefined ? [] : [{ key: 'FF_USE_ADVANCED_POD_SPEC_CONFIGURATION', value: v, public: true }] })
    expect(advancedPodSpec(job(), {})).toBe(false)
    expect(advancedPodSpec(job(), { FF_USE_ADVANCED_POD_SPEC_CONFIGURATION: true })).toBe(true)
    expect(advancedPodSpec(job('true'), { FF_USE_ADVANCED_POD_SPEC_CONFIGURATION: false })).toBe(false)
    expect(advancedPodSpec(job('1'), {})).toBe(true)
  })

  it('as apimachinery and RFC 6902 do it: a deleted map is empty, list items need their key, test compares deeply, no prototype paths', () => {
    expect(patchPodSpec(spec(), [{ name: 'd', patch: '$patch: delete' }])).toEqual({})
    expect(() => patchPodSpec(spec(), [{ name: 'k', patch: 'containers:\n  - image: x\n' }])).toThrow('pod_spec "k": a list item has no name, the key the list merges by')
    const res = { ...spec(), containers: [{ name: 'build', image: 'a', resources: { limits: { memory: '1Gi', cpu: '1' } } }] }
    expect(() => patchPodSpec(res, [{ name: 't', patchType: 'json', patch: '[{"op":"test","path":"/containers/0/resources/limits","value":{"cpu":"1","memory":"1Gi"}}]' }])).not.toThrow()
    expect(() => patchPodSpec(spec(), [{ name: 'p', patchType: 'json', patch: '[{"op":"add","path":"/__proto__/polluted","value":true}]' }])).toThrow(/invalid path/)
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
    expect(() => patchPodSpec(spec(), [{ name: 'v', patchType: 'json', patch: '[{"op":"add","path":"/hostname"}]' }])).toThrow('pod_spec "v": the add operation at /hostname has no value')
  })
})
