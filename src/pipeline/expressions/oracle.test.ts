import { readFileSync } from 'node:fs'
import { compileYaml } from '../../../test/support/compile-yaml.js'
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

describe('GitLab expression oracle: invalid syntax in rules:if is a lint error', () => {
  // The parser-error vectors GitLab's specs raise on (the max_tokens one uses a limit of 3 that
  // production does not have). GitLab's ExpressionValidator refuses such a `rules:if` outright.
  const invalid = vectors.filter((v) => v.kind === 'error' && v.options === undefined)
  it('has the 13 invalid-syntax vectors', () => expect(invalid).toHaveLength(13))
  it.each(invalid.map((v) => [v.expression ?? '', v] as const))('%j', async (expr) => {
    const job = await compileYaml(`job:\n  script: [echo]\n  rules:\n    - if: ${JSON.stringify(expr)}\n`)
    expect(job.errors.map((e) => [e.code, e.message])).toContainEqual(['GLRUN_RULES_IF_SYNTAX', 'jobs:job:rules:rule if invalid expression syntax'])
    const wf = await compileYaml(`workflow:\n  rules:\n    - if: ${JSON.stringify(expr)}\njob:\n  script: [echo]\n`)
    expect(wf.errors.map((e) => [e.code, e.message])).toContainEqual(['GLRUN_RULES_IF_SYNTAX', 'workflow:rules:rule if invalid expression syntax'])
  })
  it('valid expressions are not reported', async () => {
    const ok = await compileYaml('job:\n  script: [echo]\n  rules:\n    - if: \'$A == "x" && ($B =~ /y/i || $C != null)\'\n')
    expect(ok.errors).toEqual([])
  })
})
