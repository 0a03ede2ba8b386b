import { GlrunError } from '../../diagnostics/errors.js'
import type { SourceSpan } from '../../diagnostics/source.js'
import { closest } from '../../diagnostics/did-you-mean.js'
import { isPlainObject } from '../model/keywords.js'
import { valueSpan } from '../yaml/positions.js'

/** GitLab's `Ci::Inputs::Builder.input_types` (ArrayInput, BooleanInput, NumberInput, StringInput). */
export const INPUT_TYPES = ['array', 'boolean', 'number', 'string'] as const

/** Type names other languages use, for the hint. */
const ALIASES: Record<string, string> = { integer: 'number', int: 'number', float: 'number', bool: 'boolean', list: 'array', str: 'string' }

/**
 * Checks the `type:` of every input a file's `spec:inputs` declares. GitLab validates the header
 * before it looks at any input value (`Header::Input`: `validates :input_type, allowed_values:`),
 * and an invalid header stops interpolation, so these are the only errors reported for it, in
 * GitLab's words (its validator lowercases the whole message): "header:spec:inputs:env input
 * type unknown value: strin". Returns whether every type is known.
 */
export function checkInputTypes(declared: Record<string, unknown>, file: string, fallback: SourceSpan | undefined, errors: GlrunError[]): boolean {
  let ok = true
  for (const [name, def] of Object.entries(declared)) {
    if (!isPlainObject(def) || def['type'] === undefined || def['type'] === null) continue
    const type = typeof def['type'] === 'string' ? def['type'] : JSON.stringify(def['type'])
    if ((INPUT_TYPES as readonly string[]).includes(type)) continue
    ok = false
    const guess = ALIASES[type.toLowerCase()] ?? closest(type, [...INPUT_TYPES])
    const lower = (INPUT_TYPES as readonly string[]).includes(type.toLowerCase())
    errors.push(new GlrunError('GLRUN_INCLUDE_INPUTS', `${file}: ${`header:spec:inputs:${name} input type unknown value: ${type}`.toLowerCase()}`, {
      where: valueSpan(def, 'type') ?? fallback,
      hint: lower
        ? `Types are lowercase: write "${type.toLowerCase()}", not ${JSON.stringify(type)}.`
        : `${guess ? `did you mean "${guess}"? ` : ''}An input's type is one of: ${INPUT_TYPES.join(', ')} (string when left out).`,
    }))
  }
  return ok
}
