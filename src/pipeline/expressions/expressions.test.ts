import { describe, expect, it } from 'vitest'
import { checkExpression, isTruthful } from './index.js'

describe('expressions beyond the oracle', () => {
  const vars = (n: string) => ({ CI_COMMIT_BRANCH: 'main', CI_DEFAULT_BRANCH: 'main', RELEASE: '/^v\\d+/', TAG: 'v12' } as Record<string, string>)[n]

  it('compares variables with variables', () => {
    expect(isTruthful('$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH', vars)).toBe(true)
    expect(isTruthful('$CI_COMMIT_BRANCH != $CI_DEFAULT_BRANCH', vars)).toBe(false)
  })

  it('uses a variable holding /re/ as a regexp', () => {
    expect(isTruthful('$TAG =~ $RELEASE', vars)).toBe(true)
  })

  it('an invalid expression never matches, and lint can say why', () => {
    expect(isTruthful('$A = "x"', vars)).toBe(false)
    expect(checkExpression('$A == (')).toMatch(/expected/)
    expect(checkExpression('($A == "x"')).toMatch(/parenthesis/)
    expect(checkExpression('$A == "x" && ($B || $C)')).toBeUndefined()
  })

  it('a catastrophic-backtracking pattern runs in linear time (RE2)', () => {
    const text = `${'a'.repeat(50_000)}b`
    const started = Date.now()
    expect(isTruthful('$T =~ /(a+)+$/', (n) => (n === 'T' ? text : undefined))).toBe(false)
    expect(Date.now() - started).toBeLessThan(2000)
  })
})
