import { describe, expect, it } from 'vitest'
import { ciFacts, floatingTag } from './ci-facts.js'
import { diagnose } from './engine.js'
import { parseTrace } from './trace.js'

const DAEMON = [
  'Executing "step_script" stage of the job script',
  '$ docker info',
  'Cannot connect to the Docker daemon at tcp://docker:2375. Is the docker daemon running?',
  'ERROR: Job failed: exit code 1',
].join('\n')

describe('hypotheses from the job YAML (--ci)', () => {
  it('reads images, entrypoints, services and variables across jobs, leniently', () => {
    const f = ciFacts('variables:\n  DOCKER_TLS_CERTDIR: ""\nbuild:\n  image:\n    name: gcr.io/kaniko-project/executor:v1.23.0\n    entrypoint: [""]\n  services:\n    - name: docker:dind\n      alias: docker\n')
    expect(f?.images).toEqual([{ name: 'gcr.io/kaniko-project/executor:v1.23.0', entrypoint: [''] }])
    expect(f?.services).toEqual([{ name: 'docker:dind', alias: 'docker' }])
    expect(f?.variables['DOCKER_TLS_CERTDIR']).toBe('')
    expect(ciFacts('- not\n- a mapping\n')).toBeUndefined()
    expect([floatingTag('docker:dind'), floatingTag('docker:24.0.5-dind'), floatingTag('docker:latest')]).toEqual([true, false, true])
  })

  it('a daemon the job cannot reach, with a dind service on a moving tag: a dind release is a hypothesis', () => {
    const floating = diagnose({ trace: parseTrace(DAEMON), ciYaml: 'build:\n  services:\n    - docker:dind\n  script: [docker info]\n' })
    const regression = floating.diagnoses.find((d) => d.category === 'dind_image_regression')
    expect(regression?.cause).toContain('docker:dind')
    const pinned = diagnose({ trace: parseTrace(DAEMON), ciYaml: 'build:\n  services:\n    - docker:24.0.5-dind\n  script: [docker info]\n' })
    expect(pinned.diagnoses.map((d) => d.category)).not.toContain('dind_image_regression')
  })

  it('a tool image without entrypoint: [""] whose script never ran (not a line of output) is an entrypoint override', () => {
    const log = ['Using Docker executor with image hashicorp/terraform:1.9 ...', 'Executing "step_script" stage of the job script', 'ERROR: Job failed: exit code 1'].join('\n')
    const r = diagnose({ trace: parseTrace(log), ciYaml: 'plan:\n  image: hashicorp/terraform:1.9\n  script: [terraform plan]\n' })
    expect(r.diagnoses[0]?.category).toBe('image_entrypoint_override')
    const cleared = diagnose({ trace: parseTrace(log), ciYaml: 'plan:\n  image:\n    name: hashicorp/terraform:1.9\n    entrypoint: [""]\n  script: [terraform plan]\n' })
    expect(cleared.diagnoses.map((d) => d.cause).join(' ')).not.toContain('without `entrypoint: [""]`')
  })
})
