import { describe, expect, it } from 'vitest'
import { all, cats, step, top } from '../../test/support/diagnose-log.js'

// The eighteenth rule pass (batch 18's development logs), and where its wordings must not reach.

const stage = (...lines: string[]): string => ['Preparing the "docker" executor', 'Using docker image sha256:7bb1 for ghcr.io/acme/tool:1.2 with digest ghcr.io/acme/tool@sha256:c1a9 ...', 'Executing "step_script" stage of the job script', '00:01', ...lines, 'ERROR: Job failed: exit code 1'].join('\n')

describe('an image\'s ENTRYPOINT ran instead of the script', () => {
  it('tools\' own refusals of the runner\'s "sh"', () => {
    expect(top(stage('goreleaser: error: unexpected sh, try --help'))?.category).toBe('image_entrypoint_override')
    expect(top(stage('Failed to parse CLI arguments; Failed to load `sh`: File not found'))?.confidence).toBeGreaterThan(0.8)
  })
  it('a script stage that printed and failed without any "$ command" is a weaker answer', () => {
    const d = top(stage('2021-02-13T00:47:29.178Z\tERROR\tmultiple targets cannot be specified', '2021/02/13 00:47:29 failed to initialize options: arguments error'))
    expect(d?.category).toBe('image_entrypoint_override')
    expect(d?.confidence).toBeLessThan(0.7)
    expect(all(d)).toContain('entrypoint: [""]')
  })
  it('not when a command was echoed', () => {
    expect(cats(stage('$ make test', 'make: *** [Makefile:3: test] Error 2'))).not.toContain('image_entrypoint_override')
  })
  it('not when the stage printed nothing of its own', () => {
    expect(cats(stage())).not.toContain('image_entrypoint_override')
  })
  it('not for an image without a shell (its own class)', () => {
    expect(top(stage('exec: "sh": executable file not found in $PATH'))?.category).not.toBe('image_entrypoint_override')
  })
})

describe('glibc-built binaries under musl', () => {
  it('musl\'s relocation errors name the files', () => {
    const d = top(step('$ npm i -g asciidoctor', 'Error relocating /usr/lib/libstdc++.so.6: __fprintf_chk: symbol not found', 'Error relocating /usr/bin/node: _ZNSt7__cxx1118basic_stringstreamIcSt11char_traitsIcESaIcEEC1Ev: symbol not found'))
    expect(d?.category).toBe('binary_loader_missing')
    expect(d?.title).toContain('/usr/lib/libstdc++.so.6')
  })
})

describe('a registry login that fell back to a password prompt', () => {
  it('docker login in a pasted excerpt', () => {
    expect(top('Error: Cannot perform an interactive login from a non TTY device')?.category).toBe('protected_variable_unavailable')
  })
  it('skopeo with the variable on its command line', () => {
    const d = top(step('$ skopeo login -u "$REGISTRY_USERNAME" -p "$REGISTRY_PASSWORD" "$REGISTRY_HOST"', 'Password: time="2025-07-08T16:09:18Z" level=fatal msg="getting username and password: reading password: inappropriate ioctl for device"'))
    expect(d?.category).toBe('protected_variable_unavailable')
    expect(d?.title).toContain('$REGISTRY_PASSWORD')
  })
  it('an excerpt with other empty-argument wordings and no command stays unanswered', () => {
    expect(cats('error: flag needs an argument: -t')).not.toContain('protected_variable_unavailable')
  })
})

describe('docker buildx and dind\'s TLS variables', () => {
  it('its own class first, the TLS setup second', () => {
    const d = cats(step('$ docker buildx create --name multiarch --driver docker-container --use', 'could not create a builder instance with TLS data loaded from environment. Please use `docker context create <context-name>` to create a context for current environment and then create a builder instance with `docker buildx create <context-name>`'))
    expect(d.slice(0, 2)).toEqual(['dind_buildx_context_missing', 'dind_tls_mismatch'])
  })
})
