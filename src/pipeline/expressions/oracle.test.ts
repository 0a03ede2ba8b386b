import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  type ExprValue, compileRegexp, equals, evaluateExpression, isTruthful, lexemeName, matches, parseExpression,
  scanPattern, tokenize, treeInspect,
} from './index.js'

/**
 * Every vector of test/fixtures/oracle/expressions.json (268, taken from GitLab's own specs) is a
 * test here; none is skipped.
 */
interface Vector {
  expression: string | null
  variables: Record<string, unknown>
  expected: unknown
  note: string
  kind: string
  operator?: string
  left?: unknown
  right?: unknown
  options?: { max_tokens?: number }
}

const vectors: Vector[] = JSON.parse(readFileSync(new URL('../../../test/fixtures/oracle/expressions.json', import.meta.url), 'utf8'))

function split(v: Vector): { vars: (n: string) => string | undefined; inputs: (n: string) => unknown } {
  const raw = v.variables ?? {}
  const inputs = (raw['inputs'] ?? {}) as Record<string, unknown>
  return {
    vars: (n) => (n !== 'inputs' && typeof raw[n] === 'string' ? (raw[n] as string) : undefined),
    inputs: (n) => inputs[n],
  }
}

/** An operand of the operator vectors: `{regexp: src}` is a compiled pattern. */
function operand(x: unknown): ExprValue {
  if (x !== null && typeof x === 'object' && 'regexp' in x) return compileRegexp(String((x as { regexp: string }).regexp))
  return x as ExprValue
}

function run(v: Vector): unknown {
  const expr = v.expression ?? ''
  const { vars, inputs } = split(v)
  switch (v.kind) {
    case 'evaluate': return evaluateExpression(expr, vars, inputs)
    case 'truthful': return isTruthful(expr, vars, inputs)
    case 'parse_tree': return treeInspect(parseExpression(expr))
    case 'tokens': return tokenize(expr).map((t) => t.value)
    case 'lexemes': return tokenize(expr).map(lexemeName)
    case 'scan_first_token': {
      const t = tokenize(expr)[0]!
      return t.type === 'string' ? t.text : t.value
    }
    case 'pattern_scan': return scanPattern(expr)?.source ?? null
    case 'pattern_value': {
      const p = scanPattern(expr)!
      return `/${p.source}/`
    }
    case 'operator': {
      const l = operand(v.left)
      const r = operand(v.right)
      switch (v.operator) {
        case '==': return equals(l, r)
        case '!=': return !equals(l, r)
        case '=~': return matches(l, r)
        case '!~': return !matches(l, r)
      }
      throw new Error(`unknown operator ${v.operator}`)
    }
    case 'error': {
      try {
        if (/^Pattern/.test(v.note)) {
          const p = scanPattern(expr)
          if (!p) throw new Error('not a pattern')
          compileRegexp(p.source)
        } else {
          parseExpression(expr, v.options?.max_tokens)
        }
      } catch {
        return 'error'
      }
      return 'no error'
    }
  }
  throw new Error(`unknown kind ${v.kind}`)
}

describe('GitLab expression oracle', () => {
  it('has all 268 vectors', () => expect(vectors).toHaveLength(268))
  it.each(vectors.map((v, i) => [`${i} ${v.kind}: ${v.expression ?? `${JSON.stringify(v.left)} ${v.operator} ${JSON.stringify(v.right)}`}`, v] as const))('%s', (_name, v) => {
    expect(run(v)).toEqual(v.expected)
  })
})
