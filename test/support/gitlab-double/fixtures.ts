import type { JobPayload } from '../../../src/payload/types.js'
import { compileYaml } from '../compile-yaml.js'

/** A two-job pipeline (build uploads an archive, test needs it), compiled by glrun as `glrun compile` does. */
export const PIPELINE = `
stages: [build, test]
build:
  stage: build
  script: [echo built > out.txt]
  artifacts: { paths: [out.txt], expire_in: 1 week }
test:
  stage: test
  needs: [build]
  script: [cat out.txt]
`

export async function compiledPayloads(): Promise<{ build: JobPayload; test: JobPayload }> {
  const pipeline = await compileYaml(PIPELINE)
  const find = (name: string): JobPayload => {
    const job = pipeline.jobs.find((j) => j.name === name)
    if (!job) throw new Error(`no job ${name} in the fixture pipeline`)
    return job.payload
  }
  return { build: find('build'), test: find('test') }
}
