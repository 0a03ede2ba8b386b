import { describe, expect, it } from 'vitest'
import { dockerBuilds, undeclaredUses } from './dockerfile-args.js'

describe('docker build commands', () => {
  it('finds the Dockerfile and build args of each form', () => {
    expect(dockerBuilds(['docker build . --tag x --build-arg A=$A', 'docker buildx build -f ci/Dockerfile.app --build-arg=B ctx', 'echo docker'])).toEqual([
      { dockerfile: 'Dockerfile', buildArgs: ['A'] },
      { dockerfile: 'ci/Dockerfile.app', buildArgs: ['B'] },
    ])
    expect(dockerBuilds(['docker build \\\n  --cache-from $X:latest \\\n  sub/dir'])).toEqual([{ dockerfile: 'sub/dir/Dockerfile', buildArgs: [] }])
  })
})

describe('Dockerfile variables', () => {
  const ci = new Set(['CI_COMMIT_SHA', 'CI_REGISTRY_IMAGE', 'VERSION'])
  it('FROM needs an ARG before it; ARG after FROM does not count for FROM', () => {
    expect(undeclaredUses('FROM $BASE:$TAG\n', ci).map((u) => u.name)).toEqual(['BASE', 'TAG'])
    expect(undeclaredUses('ARG BASE=alpine\nARG TAG\nFROM ${BASE}:${TAG:-latest}\n', ci)).toEqual([])
    expect(undeclaredUses('FROM alpine\nARG BASE\nFROM $BASE\n', ci).map((u) => [u.name, u.line])).toEqual([['BASE', 3]])
  })
  it('after FROM, only CI variables without ARG/ENV in the stage are flagged', () => {
    const text = 'FROM alpine\nRUN echo $PATH $CI_COMMIT_SHA\nARG VERSION\nLABEL v=$VERSION\nENV X=1\n'
    expect(undeclaredUses(text, ci).map((u) => [u.name, u.instruction, u.line])).toEqual([['CI_COMMIT_SHA', 'RUN', 2]])
  })
  it('handles continuations and comments', () => {
    expect(undeclaredUses('# FROM $NOPE\nFROM \\\n  $BASE\n', ci).map((u) => [u.name, u.line])).toEqual([['BASE', 2]])
  })
})
