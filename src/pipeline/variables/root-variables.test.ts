import { describe, expect, it } from 'vitest'
import type { PipelineContext } from '../context/types.js'
import { pipelineName, rootVariables } from './root-variables.js'

const ctx = {
  predefined: [{ key: 'CI_COMMIT_REF_NAME', value: 'main' }],
  userVariables: [{ key: 'FROM_USER', value: 'u' }],
} as unknown as PipelineContext

describe('rootVariables', () => {
  it('workflow variables replace globals in place and append new ones', () => {
    const root = rootVariables([{ key: 'A', value: '1', raw: true }, { key: 'B', value: '2', raw: false }], { A: 'w', C: '3' })
    expect(root).toEqual([{ key: 'A', value: 'w', raw: false }, { key: 'B', value: '2', raw: false }, { key: 'C', value: '3', raw: false }])
  })
})

describe('pipelineName (Chain::PopulateMetadata)', () => {
  it('expands with predefined, root and user variables; unknown references are dropped, the result stripped', () => {
    const root = [{ key: 'KIND', value: 'Branch $CI_COMMIT_REF_NAME $NOT_SET', raw: false }]
    expect(pipelineName('  $KIND by $FROM_USER $ALSO_NOT_SET ', ctx, root)).toBe('Branch main  by u')
  })
  it('a name that is blank, or expands to blank, is no name', () => {
    expect(pipelineName('   ', ctx, [])).toBeUndefined()
    expect(pipelineName('$NOT_SET', ctx, [])).toBeUndefined()
  })
})
