import {
  CST,
  type Document,
  Lexer,
  LineCounter,
  type Node as YamlNode,
  type ParsedNode,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parseAllDocuments,
} from 'yaml'
import { GlrunError } from '../../diagnostics/errors.js'
import type { SourceSpan } from '../../diagnostics/source.js'
import { copyMember, recordMember, recordSelf } from './positions.js'
import { YamlReference } from './reference.js'
import { cacheKey, readParseCache, writeParseCache } from './parse-cache.js'
import { firstControlCharacter } from '../../support/utf8.js'

/** One YAML document turned into plain values, with positions recorded in `positions.ts`. */
export interface LoadedDocument {
  readonly value: unknown
  /** Where the document's content starts (for errors about the document as a whole). */
  readonly span: SourceSpan
}

export interface LoadResult {
  readonly documents: readonly LoadedDocument[]
  readonly errors: readonly GlrunError[]
  readonly warnings: readonly GlrunError[]
}

/**
 * GitLab's limits on one parsed file (`max_yaml_size_bytes`, `max_yaml_depth`, checked by
 * Gitlab::Utils::DeepSize on the loaded value, aliases expanded): over either, the file is
 * refused with "The parsed YAML is too big". Aliases are expanded by copying, so the size budget
 * is also what stops an alias bomb ("billion laughs") after a few thousand copies.
 */
export const MAX_YAML_SIZE_BYTES = 2 * 1024 * 1024
export const MAX_YAML_DEPTH = 100

/**
 * Ruby's memory for a loaded value, which DeepSize sums: every object takes at least a 40-byte
 * slot, and a string longer than 23 bytes its bytes besides. Hashes and long arrays take more in
 * Ruby, so this estimate stays under GitLab's own count: glrun never refuses a file GitLab takes
 * for being too big, and refuses what is far over.
 */
const SLOT_BYTES = 40
function rubySize(value: unknown): number {
  if (typeof value !== 'string' || value.length <= 23) return SLOT_BYTES
  const bytes = Buffer.byteLength(value)
  return bytes > 23 ? SLOT_BYTES + bytes + 1 : SLOT_BYTES
}

const REFERENCE_TAG = { tag: '!reference', collection: 'seq' as const, resolve: (seq: unknown) => seq }

type TagLike = { tag: string; test?: RegExp; [k: string]: unknown }

/**
 * Psych (GitLab's YAML 1.1 reader) is not the YAML 1.1 spec in two ways that matter for CI files:
 * `y`/`n` are plain strings (only yes/no/true/false/on/off are booleans), and timestamps stay
 * strings. Adjust the parser's YAML 1.1 schema to match.
 */
function psychTags(tags: TagLike[]): TagLike[] {
  const out = tags
    .filter((t) => !t.tag.endsWith(':timestamp'))
    .map((t) => {
      if (!t.tag.endsWith(':bool') || !t.test) return t
      const truthy = t.test.test('yes')
      return { ...t, test: truthy ? /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/ : /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/ }
    })
  return [...out, REFERENCE_TAG]
}

/**
 * Parses YAML the way GitLab reads `.gitlab-ci.yml` (Psych, YAML 1.1): `on`/`yes` are booleans,
 * `<<` merge keys work, duplicate keys keep the last value (warned), anchors are per file, and
 * `!reference [job, key]` becomes a YamlReference resolved later by the compiler.
 */
export function loadYaml(text: string, file: string, opts: { cache?: boolean } = {}): LoadResult {
  // A file of secrets (the variables file) is never copied into the cache directory.
  if (opts.cache === false) return parseYaml(text, file)
  const key = cacheKey(text, file, PARSER_VERSION)
  const cached = readParseCache(key, file)
  if (cached) return cached
  const result = parseYaml(text, file)
  writeParseCache(key, result)
  return result
}

/** Bumped when what the parser produces changes, so older cache entries are not used. */
const PARSER_VERSION = 'glrun-yaml-2'

function parseYaml(text: string, file: string): LoadResult {
  const lineCounter = new LineCounter()
  const errors: GlrunError[] = []
  const warnings: GlrunError[] = []
  const at = (offset: number, end?: number): SourceSpan => {
    const p = lineCounter.linePos(offset)
    if (end === undefined) return { file, line: p.line, col: p.col }
    const q = lineCounter.linePos(end)
    return { file, line: p.line, col: p.col, endLine: q.line, endCol: q.col }
  }
  const control = firstControlCharacter(text)
  if (control) return { documents: [], errors: [controlCharacterError(text, file, control)], warnings }
  // The parser recurses once per nesting level and takes seconds to overflow its stack on
  // `[[[[…` a million deep. Flow collections nested ten times deeper than GitLab allows are
  // refused before parsing: a quick count of brackets first, then (only when that count is over,
  // which unclosed brackets inside strings can also cause) the lexer's, which knows strings.
  const limit = MAX_YAML_DEPTH * 10
  const deep = deepestOpening(text, limit) >= 0 ? deepestFlowOpening(text, limit) : -1
  if (deep >= 0) return { documents: [], errors: [tooBigError(file, positionOf(text, file, deep), 'depth')], warnings }
  let list: Document.Parsed[]
  try {
    const docs = parseAllDocuments(text, {
      version: '1.1',
      merge: true,
      uniqueKeys: false,
      lineCounter,
      customTags: psychTags as never,
      prettyErrors: false,
    })
    list = (Array.isArray(docs) ? docs : [docs]) as Document.Parsed[]
  } catch (e) {
    // Deep block nesting can still overflow the stack; GitLab refuses such a file as too deep.
    if (!(e instanceof RangeError)) throw e
    return { documents: [], errors: [tooBigError(file, positionOf(text, file, Math.max(0, deepestOpening(text, MAX_YAML_DEPTH))), 'depth')], warnings }
  }
  const documents: LoadedDocument[] = []
  for (const doc of list) {
    // The first syntax error of a document is the real one; the parser's later ones are echoes.
    const e = doc.errors[0]
    if (e && /call stack/.test(e.message)) {
      errors.push(tooBigError(file, positionOf(text, file, Math.max(0, deepestOpening(text, MAX_YAML_DEPTH))), 'depth'))
      continue
    }
    if (e) {
      errors.push(
        new GlrunError('GLRUN_YAML_SYNTAX', `${file} is not valid YAML: ${firstLine(e.message)}`, {
          where: at(errorOffset(text, e.message, e.pos[0])),
          hint: syntaxHint(e.message),
        }),
      )
    }
    if (doc.errors.length > 0) continue
    const walker = new Walker(doc, text, at, warnings, errors)
    const value = walker.convert(doc.contents as YamlNode | null, 0)
    documents.push({ value, span: at(doc.contents?.range?.[0] ?? 0) })
  }
  return { documents, errors, warnings }
}

/**
 * The parser notices an unterminated quote or flow collection only at the end of the input;
 * point at where it was opened instead, which is where the user has to look.
 */
function errorOffset(text: string, message: string, offset: number): number {
  const quote = /Missing closing (["'])quote/.exec(message)
  if (quote) return Math.max(0, text.lastIndexOf(quote[1]!, offset - 1))
  if (/Flow sequence .* end with a \]/.test(message)) return Math.max(0, text.lastIndexOf('[', offset - 1))
  if (/Flow mapping .* end with a \}/.test(message)) return Math.max(0, text.lastIndexOf('{', offset - 1))
  return offset
}

function syntaxHint(message: string): string {
  if (/quote/.test(message)) return 'Close the quoted string on the same line, or quote the whole value.'
  if (/indent/i.test(message)) return 'Check the indentation: keys of one mapping must line up, list items must be indented under their key.'
  if (/Flow (sequence|mapping)/.test(message)) return 'Close the [ ] or { } list on this entry.'
  return 'Fix the YAML syntax at this place; check indentation and quoting.'
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s
}

/** The place of `offset` in `text`, 1-based. */
function positionOf(text: string, file: string, offset: number): SourceSpan {
  const before = text.slice(0, offset)
  return { file, line: before.split('\n').length, col: offset - before.lastIndexOf('\n') }
}

/** Where `[`/`{` first nest deeper than `limit` (quoting not considered), or -1. */
function deepestOpening(text: string, limit: number): number {
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return i
    } else if ((c === 0x5d || c === 0x7d) && depth > 0) depth--
  }
  return -1
}

const LEXER_MARKERS = new Set(['\u0002', '\u0018', '\u001f'])

/** Where flow collections (as the YAML lexer sees them) first nest deeper than `limit`, or -1. */
function deepestFlowOpening(text: string, limit: number): number {
  let depth = 0
  let offset = 0
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token)
    if (type === 'flow-seq-start' || type === 'flow-map-start') {
      if (++depth > limit) return offset
    } else if ((type === 'flow-seq-end' || type === 'flow-map-end') && depth > 0) depth--
    // The lexer also emits one-character markers of its own (document, scalar, flow-error-end)
    // that are not in the source.
    if (!LEXER_MARKERS.has(token)) offset += token.length
  }
  return -1
}

function controlCharacterError(text: string, file: string, c: { index: number; codePoint: number }): GlrunError {
  const name = c.codePoint === 0 ? 'NUL' : c.codePoint === 0x1b ? 'ESC' : `U+${c.codePoint.toString(16).toUpperCase().padStart(4, '0')}`
  return new GlrunError('GLRUN_YAML_CONTROL_CHARACTER', `${file} is not valid YAML: control characters are not allowed (${name})`, {
    where: positionOf(text, file, c.index),
    hint: 'GitLab\'s YAML reader refuses control characters other than tab and line breaks; remove it (a binary file or a stray escape sequence?). Write `\\e`, `\\0`, … inside a double-quoted string instead.',
  })
}

function tooBigError(file: string, where: SourceSpan, why: 'size' | 'depth'): GlrunError {
  return new GlrunError('GLRUN_YAML_TOO_LARGE', `${file}: The parsed YAML is too big`, {
    where,
    hint: why === 'depth'
      ? `GitLab refuses YAML nested more than ${MAX_YAML_DEPTH} levels deep (max_yaml_depth); flatten this structure.`
      : `GitLab refuses a file whose loaded value takes more than ${MAX_YAML_SIZE_BYTES / 1024 / 1024} MiB (max_yaml_size_bytes), aliases expanded; split the file with include:, or expand fewer aliases.`,
  })
}

class Walker {
  private size = 0
  private tooBig = false

  constructor(
    private readonly doc: Document.Parsed,
    private readonly text: string,
    private readonly at: (offset: number, end?: number) => SourceSpan,
    private readonly warnings: GlrunError[],
    private readonly errors: GlrunError[],
  ) {}

  private spanOf(node: YamlNode | null | undefined): SourceSpan {
    const r = (node as ParsedNode | null | undefined)?.range
    return r ? this.at(r[0], r[1]) : this.at(0)
  }

  convert(node: YamlNode | null | undefined, depth: number, seen: Set<YamlNode> = new Set()): unknown {
    if (node === null || node === undefined) return null
    if (this.tooBig) return null
    // DeepSize counts the value itself as one level: the top mapping is at depth 1.
    const why = depth + 1 > MAX_YAML_DEPTH ? 'depth' : this.size > MAX_YAML_SIZE_BYTES ? 'size' : undefined
    if (why) {
      this.tooBig = true
      this.errors.push(tooBigError(this.spanOf(node).file, this.spanOf(node), why))
      return null
    }
    if (isAlias(node)) {
      const target = node.resolve(this.doc)
      if (!target) return null
      if (seen.has(target)) {
        this.errors.push(new GlrunError('GLRUN_YAML_ALIAS_CYCLE', `alias *${node.source} refers to itself`, { where: this.spanOf(node) }))
        return null
      }
      // `seen` is the chain of aliases being expanded right now (a stack, not a copy per call).
      seen.add(target)
      // The alias stands where it is written: its value is no deeper than the alias itself.
      const value = this.convert(target, depth, seen)
      seen.delete(target)
      return value
    }
    if (isScalar(node)) {
      this.size += rubySize(node.value)
      return node.value
    }
    this.size += SLOT_BYTES
    if (isSeq(node)) {
      const items = node.items.map((item) => this.convert(item as YamlNode, depth + 1, seen))
      if (node.tag === '!reference') {
        // Point at the tag itself, which the parser places before the sequence's range.
        const start = (node as ParsedNode).range?.[0] ?? 0
        const tagAt = this.text.lastIndexOf('!reference', start)
        const lineStart = this.text.lastIndexOf('\n', start - 1)
        return new YamlReference(items, tagAt > lineStart ? this.at(tagAt, (node as ParsedNode).range?.[1]) : this.spanOf(node))
      }
      recordSelf(items, this.spanOf(node))
      node.items.forEach((item, i) => recordMember(items, i, undefined, this.spanOf(item as YamlNode)))
      return items
    }
    if (isMap(node)) return this.convertMap(node, depth, seen)
    return null
  }

  private convertMap(node: YamlNode, depth: number, seen: Set<YamlNode>): Record<string, unknown> {
    const obj: Record<string, unknown> = {}
    recordSelf(obj, this.spanOf(node))
    const explicit = new Set<string>()
    const merged: Record<string, unknown>[] = []
    if (!isMap(node)) return obj
    for (const pair of node.items) {
      if (!isPair(pair)) continue
      const keyNode = pair.key as YamlNode | null
      if (isScalar(keyNode) && typeof keyNode.value === 'symbol') {
        // `<<: *anchor` or `<<: [*a, *b]`: earlier sources win over later ones; explicit keys win over all.
        const sources = isSeq(pair.value) ? pair.value.items : [pair.value]
        for (const s of sources) {
          // A merged mapping lends its keys to this one, at this mapping's depth.
          const v = this.convert(s as YamlNode, depth, seen)
          if (v && typeof v === 'object' && !Array.isArray(v)) merged.push(v as Record<string, unknown>)
        }
        continue
      }
      const key = this.keyString(keyNode, depth, seen)
      if (explicit.has(key)) {
        this.warnings.push(
          new GlrunError('GLRUN_YAML_DUPLICATE_KEY', `key "${key}" appears twice in the same mapping; the last one wins`, {
            where: this.spanOf(keyNode),
            severity: 'warning',
            hint: 'Remove or rename one of them; GitLab silently keeps only the last.',
          }),
        )
      }
      explicit.add(key)
      setOwn(obj, key, this.convert(pair.value as YamlNode, depth + 1, seen))
      recordMember(obj, key, this.spanOf(keyNode), this.spanOf((pair.value as YamlNode | null) ?? keyNode))
    }
    for (const src of merged) {
      for (const k of Object.keys(src)) {
        if (explicit.has(k)) continue
        explicit.add(k)
        setOwn(obj, k, src[k])
        copyMember(src, obj, k)
      }
    }
    return obj
  }

  private keyString(keyNode: YamlNode | null, depth: number, seen: Set<YamlNode>): string {
    if (keyNode === null) return ''
    if (isScalar(keyNode)) {
      this.size += rubySize(keyNode.value)
      return keyNode.value === null ? '' : String(keyNode.value)
    }
    return JSON.stringify(this.convert(keyNode, depth + 1, seen))
  }
}

/** Assigns without ever touching the prototype chain (a key may be literally `__proto__`). */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true })
}
