import { ExpressionError, type RegexpValue, type Token, tokenize } from './lexer.js'

/** The parsed tree of a CI expression. */
export type Statement =
  | { kind: 'variable'; name: string }
  | { kind: 'input'; name: string }
  | { kind: 'string'; value: string }
  | { kind: 'pattern'; regexp: RegexpValue; text: string }
  | { kind: 'null' }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'binary'; op: '==' | '!=' | '=~' | '!~' | '&&' | '||'; left: Statement; right: Statement }

const COMPARISON = new Set(['==', '!=', '=~', '!~'])

/**
 * Precedence as GitLab's parser has it: parentheses, then comparisons, then `&&`, then `||`;
 * every operator is left-associative (`$A == "1" == $B` is `equals(equals($A, "1"), $B)`).
 */
export function parseExpression(text: string, maxTokens?: number): Statement {
  const tokens = tokenize(text, maxTokens)
  if (tokens.length === 0) throw new ExpressionError('empty expression')
  let pos = 0
  const peek = (): Token | undefined => tokens[pos]

  const primary = (): Statement => {
    const t = tokens[pos]
    if (!t) throw new ExpressionError('the expression ends where a value was expected')
    pos++
    switch (t.type) {
      case 'variable': return { kind: 'variable', name: t.name }
      case 'input': return { kind: 'input', name: t.name }
      case 'string': return { kind: 'string', value: t.text }
      case 'pattern': return { kind: 'pattern', regexp: t.regexp, text: t.value }
      case 'null': return { kind: 'null' }
      case 'true': return { kind: 'boolean', value: true }
      case 'false': return { kind: 'boolean', value: false }
      case '(': {
        const inner = or()
        if (peek()?.type !== ')') throw new ExpressionError(`unmatched parenthesis at column ${t.at + 1}`)
        pos++
        return inner
      }
      default:
        throw new ExpressionError(`operator ${t.value} at column ${t.at + 1} is missing its left side`)
    }
  }
  const comparison = (): Statement => {
    let left = primary()
    for (let t = peek(); t?.type === 'op' && COMPARISON.has(t.value); t = peek()) {
      pos++
      if (!tokens[pos]) throw new ExpressionError(`operator ${t.value} at column ${t.at + 1} is missing its right side`)
      left = { kind: 'binary', op: t.value, left, right: primary() }
    }
    return left
  }
  const and = (): Statement => {
    let left = comparison()
    for (let t = peek(); t?.type === 'op' && t.value === '&&'; t = peek()) {
      pos++
      if (!tokens[pos]) throw new ExpressionError(`operator && at column ${t.at + 1} is missing its right side`)
      left = { kind: 'binary', op: '&&', left, right: comparison() }
    }
    return left
  }
  const or = (): Statement => {
    let left = and()
    for (let t = peek(); t?.type === 'op' && t.value === '||'; t = peek()) {
      pos++
      if (!tokens[pos]) throw new ExpressionError(`operator || at column ${t.at + 1} is missing its right side`)
      left = { kind: 'binary', op: '||', left, right: and() }
    }
    return left
  }

  const tree = or()
  const extra = peek()
  if (extra) {
    throw new ExpressionError(extra.type === ')'
      ? `unmatched parenthesis at column ${extra.at + 1}`
      : `unexpected ${extra.value} at column ${extra.at + 1}: two values need an operator between them`)
  }
  return tree
}

const NAMES = { '==': 'equals', '!=': 'not_equals', '=~': 'matches', '!~': 'not_matches', '&&': 'and', '||': 'or' } as const

/** Renders a tree like GitLab's `Parser#tree.inspect`, e.g. `or($A, and($B, $C))`. */
export function treeInspect(s: Statement): string {
  switch (s.kind) {
    case 'variable': return `$${s.name}`
    case 'input': return `$[[ inputs.${s.name} ]]`
    case 'string': return JSON.stringify(s.value)
    case 'pattern': return s.text
    case 'null': return 'null'
    case 'boolean': return String(s.value)
    case 'binary': return `${NAMES[s.op]}(${treeInspect(s.left)}, ${treeInspect(s.right)})`
  }
}
