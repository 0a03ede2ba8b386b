export { ExpressionError, type RegexpValue, type Token, MAX_TOKENS, compileRegexp, lexemeName, scanPattern, tokenize } from './lexer.js'
export { type Statement, parseExpression, treeInspect } from './parser.js'
export {
  type ExprValue, type InputLookup, type VariableLookup,
  checkExpression, equals, evaluateExpression, isPresent, isTruthful, matches,
} from './evaluate.js'
