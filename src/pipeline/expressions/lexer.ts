import { RE2JS } from 're2js'

/**
 * The lexer of GitLab's CI expressions (`Gitlab::Ci::Pipeline::Expression::Lexer`). There are
 * no numbers and no escapes in strings; patterns are RE2 (via re2js: linear time, so a hostile
 * pattern cannot hang glrun); whitespace separates nothing and is skipped.
 */

export class ExpressionError extends Error {
  override readonly name = 'ExpressionError'
}

/** A compiled `/pattern/flags`, kept with its RE2 source (flags inlined as GitLab does). */
export interface RegexpValue {
  readonly kind: 'regexp'
  readonly source: string
  readonly re: RE2JS
}

export type Token =
  | { type: 'variable'; value: string; name: string; at: number }
  | { type: 'input'; value: string; name: string; at: number }
  | { type: 'string'; value: string; text: string; at: number }
  | { type: 'pattern'; value: string; regexp: RegexpValue; at: number }
  | { type: 'null' | 'true' | 'false'; value: string; at: number }
  | { type: 'op'; value: '==' | '!=' | '=~' | '!~' | '&&' | '||'; at: number }
  | { type: '(' | ')'; value: string; at: number }

/** GitLab's `Lexer::MAX_TOKENS`. */
export const MAX_TOKENS = 200

const SUPPORTED_FLAGS = new Set(['i', 'm', 's'])

/** Compiles an RE2 source, turning re2js's exception into an ExpressionError. */
export function compileRegexp(source: string): RegexpValue {
  try {
    return { kind: 'regexp', source, re: RE2JS.compile(source) }
  } catch (e) {
    throw new ExpressionError(`invalid regular expression /${source}/: ${e instanceof Error ? e.message : String(e)}`)
  }
}

/**
 * Scans `/pattern/flags` at the start of `text` the way GitLab's Pattern lexeme does: the
 * pattern is non-empty and ends at the first `/` not preceded by a backslash; `\/` becomes `/`
 * (other escapes go to RE2 untouched); supported flags (i, m, s) become an inline `(?flags)`
 * prefix and unsupported ones are ignored. Returns the RE2 source and the length consumed.
 */
export function scanPattern(text: string): { source: string; length: number } | undefined {
  if (text[0] !== '/') return undefined
  let i = 1
  while (i < text.length) {
    if (text[i] === '/' && text[i - 1] !== '\\') break
    i++
  }
  if (i >= text.length || i === 1) return undefined
  const body = text.slice(1, i).replace(/\\\//g, '/')
  let j = i + 1
  while (j < text.length && /[a-zA-Z]/.test(text[j]!)) j++
  const flags = [...new Set(text.slice(i + 1, j).split(''))].filter((f) => SUPPORTED_FLAGS.has(f)).join('')
  return { source: flags ? `(?${flags})${body}` : body, length: j }
}

const SIMPLE: [string, Token['type'], string][] = [
  ['==', 'op', '=='], ['!=', 'op', '!='], ['=~', 'op', '=~'], ['!~', 'op', '!~'],
  ['&&', 'op', '&&'], ['||', 'op', '||'], ['(', '(', '('], [')', ')', ')'],
]

export function tokenize(expr: string, maxTokens = MAX_TOKENS): Token[] {
  const tokens: Token[] = []
  let pos = 0
  while (pos < expr.length) {
    const ch = expr[pos]!
    if (/\s/.test(ch)) {
      pos++
      continue
    }
    if (tokens.length >= maxTokens) {
      throw new ExpressionError(`too many tokens: an expression may have at most ${maxTokens}`)
    }
    const rest = expr.slice(pos)
    const token = scanOne(rest, pos)
    if (!token) throw new ExpressionError(`unknown token at column ${pos + 1}: ${JSON.stringify(rest.slice(0, 20))}`)
    tokens.push(token.token)
    pos += token.length
  }
  return tokens
}

function scanOne(rest: string, at: number): { token: Token; length: number } | undefined {
  let m = /^\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]/.exec(rest)
  if (m) return { token: { type: 'input', value: m[0], name: m[1]!, at }, length: m[0].length }
  m = /^\$([A-Za-z0-9_]+)/.exec(rest)
  if (m) return { token: { type: 'variable', value: m[0], name: m[1]!, at }, length: m[0].length }
  m = /^"([^"]*)"/.exec(rest) ?? /^'([^']*)'/.exec(rest)
  if (m) return { token: { type: 'string', value: m[0], text: m[1]!, at }, length: m[0].length }
  const p = scanPattern(rest)
  if (p) {
    return { token: { type: 'pattern', value: rest.slice(0, p.length), regexp: compileRegexp(p.source), at }, length: p.length }
  }
  m = /^(null|true|false)\b/.exec(rest)
  if (m) return { token: { type: m[1] as 'null' | 'true' | 'false', value: m[1]!, at }, length: m[1]!.length }
  for (const [text, type, value] of SIMPLE) {
    if (rest.startsWith(text)) return { token: { type, value, at } as Token, length: text.length }
  }
  return undefined
}

/** The lexeme names GitLab's `Lexer#lexemes` reports. */
export function lexemeName(t: Token): string {
  switch (t.type) {
    case 'op': return ({ '==': 'equals', '!=': 'not_equals', '=~': 'matches', '!~': 'not_matches', '&&': 'and', '||': 'or' } as const)[t.value]
    case '(': return 'parenthesis_open'
    case ')': return 'parenthesis_close'
    case 'true':
    case 'false': return 'boolean'
    default: return t.type
  }
}
