import { ExpressionError, type RegexpValue, compileRegexp, scanPattern } from './lexer.js'
import { type Statement, parseExpression } from './parser.js'

/** What an expression evaluates to (GitLab's Ruby values: String, true/false, nil, Regexp). */
export type ExprValue = string | boolean | null | number | RegexpValue

export type VariableLookup = (name: string) => string | undefined
export type InputLookup = (name: string) => unknown

function isRegexp(v: ExprValue): v is RegexpValue {
  return typeof v === 'object' && v !== null
}

/** Ruby truthiness inside `&&`/`||`: only nil and false are falsy ("" is truthy there). */
function rubyTruthy(v: ExprValue): boolean {
  return v !== null && v !== false
}

/** `==` as GitLab compares: booleans equal their string forms ("true" == true). */
function normalise(v: ExprValue): ExprValue {
  return typeof v === 'boolean' ? String(v) : v
}

export function equals(left: ExprValue, right: ExprValue): boolean {
  const l = normalise(left)
  const r = normalise(right)
  if (isRegexp(l) || isRegexp(r)) return isRegexp(l) && isRegexp(r) && l.source === r.source
  return l === r
}

/** The right side of `=~` as a regexp: a pattern, a "/re/flags"-looking value, or a plain string. */
function asRegexp(v: ExprValue): RegexpValue | undefined {
  if (v === null || typeof v === 'boolean') return undefined
  if (isRegexp(v)) return v
  const s = String(v)
  const p = scanPattern(s)
  if (p && p.length === s.length) return compileRegexp(p.source)
  return compileRegexp(s)
}

export function matches(left: ExprValue, right: ExprValue): boolean {
  if (left === null || right === null) return false
  const re = asRegexp(right)
  if (!re) return false
  const text = isRegexp(left) ? left.source : String(left)
  return re.re.matcher(text).find()
}

export function evaluateStatement(s: Statement, vars: VariableLookup, inputs?: InputLookup): ExprValue {
  switch (s.kind) {
    case 'variable': return vars(s.name) ?? null
    case 'input': {
      const v = inputs?.(s.name)
      return v === undefined || v === null ? null : typeof v === 'boolean' || typeof v === 'number' ? v : String(v)
    }
    case 'string': return s.value
    case 'pattern': return s.regexp
    case 'null': return null
    case 'boolean': return s.value
    case 'binary': {
      const left = evaluateStatement(s.left, vars, inputs)
      if (s.op === '&&') return rubyTruthy(left) ? evaluateStatement(s.right, vars, inputs) : left
      if (s.op === '||') return rubyTruthy(left) ? left : evaluateStatement(s.right, vars, inputs)
      const right = evaluateStatement(s.right, vars, inputs)
      switch (s.op) {
        case '==': return equals(left, right)
        case '!=': return !equals(left, right)
        case '=~': return matches(left, right)
        case '!~': return !matches(left, right)
      }
    }
  }
}

/** Raw value of an expression (GitLab's `Statement#evaluate`). Throws ExpressionError. */
export function evaluateExpression(expr: string | Statement, vars: VariableLookup, inputs?: InputLookup): ExprValue {
  const s = typeof expr === 'string' ? parseExpression(expr) : expr
  return evaluateStatement(s, vars, inputs)
}

/** `present?`: nil, false and "" are false. */
export function isPresent(v: ExprValue): boolean {
  return v !== null && v !== false && v !== ''
}

const cache = new Map<string, Statement | ExpressionError>()

/**
 * What `rules:if` uses (`Statement#truthful?`): an invalid expression does not match (never
 * throws). Parsed statements are cached: big pipelines repeat the same few conditions.
 */
export function isTruthful(expr: string, vars: VariableLookup, inputs?: InputLookup): boolean {
  let s = cache.get(expr)
  if (s === undefined) {
    try {
      s = parseExpression(expr)
    } catch (e) {
      s = e instanceof ExpressionError ? e : new ExpressionError(String(e))
    }
    if (cache.size > 10_000) cache.clear()
    cache.set(expr, s)
  }
  if (s instanceof ExpressionError) return false
  try {
    return isPresent(evaluateStatement(s, vars, inputs))
  } catch {
    return false
  }
}

/** undefined when the expression is valid, else why it is not (for lint). */
export function checkExpression(expr: string): string | undefined {
  try {
    parseExpression(expr)
    return undefined
  } catch (e) {
    return e instanceof Error ? e.message : String(e)
  }
}
