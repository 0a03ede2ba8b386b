import { describe, expect, it } from 'vitest'
import { compileYaml } from '../../../test/support/compile-yaml.js'

async function found(yaml: string): Promise<{ code: string; line?: number; col?: number; message: string; hint?: string }[]> {
  const p = await compileYaml(yaml)
  expect(p.errors.map((e) => e.message)).toEqual([])
  return p.warnings.filter((w) => /^GLRUN_IMAGE_/.test(w.code)).map((w) => ({
    code: w.code, message: w.message, ...(w.where ? { line: w.where.line, col: w.where.col } : {}), ...(w.hint ? { hint: w.hint } : {}),
  }))
}

describe('GLRUN_IMAGE_ENTRYPOINT / GLRUN_IMAGE_NO_SHELL', () => {
  it('a tool image used as job image without entrypoint: [""], pointing at the image name', async () => {
    const w = await found('plan:\n  image: hashicorp/terraform:1.6\n  script: [terraform plan]\n')
    expect(w).toEqual([expect.objectContaining({ code: 'GLRUN_IMAGE_ENTRYPOINT', line: 2, col: 10 })])
    expect(w[0]!.message).toMatch(/^plan: image hashicorp\/terraform:1\.6 starts terraform \(its ENTRYPOINT\), not a shell/)
    expect(w[0]!.hint).toContain('`image: {name: "hashicorp/terraform:1.6", entrypoint: [""]}`')
  })
  it('kaniko: the hint names the debug tag; a non-debug tag has no shell even with entrypoint [""]', async () => {
    const [plain] = await found('build:\n  image: gcr.io/kaniko-project/executor:v1.23.2\n  script: [/kaniko/executor --help]\n')
    expect(plain).toMatchObject({ code: 'GLRUN_IMAGE_ENTRYPOINT', hint: expect.stringContaining('`image: {name: "gcr.io/kaniko-project/executor:v1.23.2-debug", entrypoint: [""]}`') })
    const [cleared] = await found('build:\n  image:\n    name: gcr.io/kaniko-project/executor:latest\n    entrypoint: [""]\n  script: [x]\n')
    expect(cleared).toMatchObject({ code: 'GLRUN_IMAGE_NO_SHELL', line: 3, col: 11, hint: expect.stringContaining('executor:debug') })
  })
  it('an explicit entrypoint that is a tool or a bare interpreter, pointing at entrypoint:', async () => {
    const w = await found('a:\n  image:\n    name: alpine:3.20\n    entrypoint: ["kubectl"]\n  script: [x]\nb:\n  image: {name: "python:3.12", entrypoint: [python3]}\n  script: [x]\n')
    expect(w.map((x) => [x.code, x.line, x.message.split(':')[0]])).toEqual([['GLRUN_IMAGE_ENTRYPOINT', 4, 'a'], ['GLRUN_IMAGE_ENTRYPOINT', 7, 'b']])
  })
  it('distroless images have no shell except their debug tags', async () => {
    expect((await found('a:\n  image: gcr.io/distroless/static-debian12:nonroot\n  script: [x]\n')).map((x) => x.code)).toEqual(['GLRUN_IMAGE_NO_SHELL'])
    expect(await found('a:\n  image: {name: "gcr.io/distroless/base:debug", entrypoint: [""]}\n  script: [x]\n')).toEqual([])
  })
  it('one warning for a default image many jobs inherit, naming the jobs', async () => {
    const w = await found('default:\n  image: bitnami/kubectl:1.30\na:\n  script: [x]\nb:\n  script: [y]\n')
    expect(w).toEqual([expect.objectContaining({ line: 2, message: expect.stringMatching(/^a, b: image bitnami\/kubectl:1\.30/) })])
  })
  it('near misses: cleared entrypoint, debug kaniko cleared, services, look-alikes, shells, wrappers, variables', async () => {
    expect(await found([
      'a:\n  image: {name: hashicorp/terraform:1.6, entrypoint: [""]}\n  script: [x]',
      'b:\n  image: {name: "gcr.io/kaniko-project/executor:v1.23.2-debug", entrypoint: [""]}\n  script: [x]',
      'c:\n  image: alpine:3.20\n  services: [hashicorp/terraform:1.6, minio/mc]\n  script: [x]',
      'd:\n  image: hashicorp/terraform-ls:0.32\n  script: [x]',
      'e:\n  image: {name: alpine/git, entrypoint: ["/bin/sh", "-c"]}\n  script: [x]',
      'f:\n  image: {name: python:3.12, entrypoint: [python, /wrapper.py]}\n  script: [x]',
      'g:\n  image: $TOOL_IMAGE\n  script: [x]',
      'h:\n  image: google/cloud-sdk:alpine\n  script: [x]',
    ].join('\n') + '\n')).toEqual([])
  })
  it('follows the job variables the runner expands into the image name', async () => {
    expect((await found('variables:\n  TF: hashicorp/terraform\na:\n  image: $TF:1.6\n  script: [x]\n')).map((x) => x.message)).toEqual([expect.stringMatching(/^a: image hashicorp\/terraform:1\.6 starts terraform/)])
  })
})
