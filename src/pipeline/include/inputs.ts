import { GlrunError } from '../../diagnostics/errors.js'
import type { SourceSpan } from '../../diagnostics/source.js'
import { ExpressionError, compileRegexp, scanPattern } from '../expressions/index.js'
import { isPlainObject } from '../model/keywords.js'
import { checkInputTypes } from './input-types.js'
import { setOwn } from '../yaml/load.js'
import { copyMember, inheritSelf, spanOf, valueSpan } from '../yaml/positions.js'
import { YamlReference } from '../yaml/reference.js'
import { expandExisting } from '../variables/expand.js'

type InputValue = string | number | boolean | unknown[]

/**
 * Checks the inputs an include passes against the included file's `spec:inputs` (types,
 * defaults, options, regex), in GitLab's wording, and returns the values to interpolate.
 */
export function resolveInputs(
  spec: unknown,
  given: Record<string, unknown> | undefined,
  file: string,
  where: SourceSpan | undefined,
  errors: GlrunError[],
): Map<string, InputValue> {
  const out = new Map<string, InputValue>()
  const declared = isPlainObject(spec) && isPlainObject(spec['inputs']) ? spec['inputs'] : {}
  const fail = (msg: string, hint: string): void => { errors.push(new GlrunError('GLRUN_INCLUDE_INPUTS', `${file}: ${msg}`, { where, hint })) }
  if (!checkInputTypes(declared, file, where, errors)) return headerOnly(declared, given)
  const unknown = Object.keys(given ?? {}).filter((k) => !(k in declared))
  if (unknown.length > 0) fail(`unknown input arguments: ${unknown.join(', ')}`, `${file} declares: ${Object.keys(declared).join(', ') || 'no inputs'}.`)
  for (const [name, rawDef] of Object.entries(declared)) {
    const def = isPlainObject(rawDef) ? rawDef : {}
    const type = typeof def['type'] === 'string' ? def['type'] : 'string'
    let value = given?.[name]
    if (value === undefined) {
      if (!('default' in def)) {
        fail(`\`${name}\` input: required value has not been provided`, `Pass it with \`inputs: { ${name}: ... }\` on the include.`)
        continue
      }
      value = def['default']
    }
    if (!typeMatches(type, value)) {
      fail(`\`${name}\` input: provided value is not a ${type}`, `Give ${name} a ${type} value.`)
      continue
    }
    if (Array.isArray(def['options']) && !def['options'].some((o) => o === value)) {
      fail(`\`${name}\` input: \`${String(value)}\` cannot be used because it is not in the list of allowed options`, `Allowed: ${def['options'].map(String).join(', ')}.`)
      continue
    }
    if (typeof def['regex'] === 'string' && typeof value === 'string') {
      const p = scanPattern(def['regex'])
      const source = p && p.length === def['regex'].length ? p.source : def['regex']
      let re
      try {
        re = compileRegexp(source).re
      } catch (e) {
        if (!(e instanceof ExpressionError)) throw e
        // GitLab's StringInput rescues RegexpError into this input error: the file's author made
        // the mistake, so it points at the pattern in the spec, not at the include.
        errors.push(new GlrunError('GLRUN_INCLUDE_INPUTS', `${file}: \`${name}\` input: invalid regular expression`, {
          where: valueSpan(def, 'regex') ?? where,
          hint: `${e.message.replace(/^invalid regular expression \/.*\/: /s, 'RE2 rejects it: ')}. GitLab checks inputs with RE2 syntax (no lookarounds or backreferences).`,
        }))
        continue
      }
      if (!re.matcher(value).find()) {
        const fromDefault = given?.[name] === undefined
        errors.push(new GlrunError('GLRUN_INCLUDE_INPUTS', `${file}: \`${name}\` input: ${fromDefault ? 'default' : 'provided'} value does not match required RegEx pattern`, {
          where: (fromDefault ? valueSpan(def, 'default') : undefined) ?? where,
          hint: fromDefault ? `Pass ${name} on the include, or change the default so it matches ${def['regex']}.` : `It must match ${def['regex']}.`,
        }))
        continue
      }
    }
    out.set(name, value as InputValue)
  }
  return out
}

/**
 * With an invalid header GitLab checks no value: the values are passed through unchecked only so
 * that their uses are not reported again as unknown keys.
 */
function headerOnly(declared: Record<string, unknown>, given: Record<string, unknown> | undefined): Map<string, InputValue> {
  const out = new Map<string, InputValue>()
  for (const [name, def] of Object.entries(declared)) {
    const value = given?.[name] ?? (isPlainObject(def) ? def['default'] : undefined)
    if (value !== undefined && value !== null) out.set(name, value as InputValue)
  }
  return out
}

function typeMatches(type: string, v: unknown): boolean {
  switch (type) {
    case 'number': return typeof v === 'number'
    case 'boolean': return typeof v === 'boolean'
    case 'array': return Array.isArray(v)
    default: return typeof v === 'string'
  }
}

const BLOCK = /\$\[\[\s*inputs\.([A-Za-z0-9_-]+)((?:\s*\|\s*[a-z_]+(?:\([^)]*\))?)*)\s*\]\]/g

/**
 * Replaces `$[[ inputs.name | fn ... ]]` in every key and string of the document, as GitLab
 * does after parsing: a string that is exactly one block takes the input's type (so an array
 * input becomes a list), otherwise the value is spliced into the text.
 */
export function interpolate(
  value: unknown,
  inputs: ReadonlyMap<string, InputValue>,
  vars: (n: string) => string | undefined,
  file: string,
  errors: GlrunError[],
): unknown {
  const apply = (text: string, where: SourceSpan | undefined): unknown => {
    if (!text.includes('$[[')) return text
    const whole = new RegExp(`^${BLOCK.source}$`).exec(text.trim())
    const render = (name: string, fns: string): InputValue | undefined => {
      if (!inputs.has(name)) {
        errors.push(new GlrunError('GLRUN_INCLUDE_INPUTS', `${file}: unknown interpolation key: \`${name}\``, { where, hint: 'Declare it under `spec: inputs:` in the header of this file.' }))
        return undefined
      }
      return applyFunctions(inputs.get(name)!, fns, vars, file, where, errors)
    }
    if (whole && text.trim() === text) return render(whole[1]!, whole[2] ?? '') ?? text
    return text.replace(BLOCK, (m, name: string, fns: string) => {
      const v = render(name, fns ?? '')
      return v === undefined ? m : Array.isArray(v) ? JSON.stringify(v) : String(v)
    })
  }
  const walk = (v: unknown, where: SourceSpan | undefined): unknown => {
    if (typeof v === 'string') return apply(v, where)
    if (v instanceof YamlReference) return new YamlReference(v.path.map((p) => walk(p, v.span)), v.span)
    if (Array.isArray(v)) {
      const arr = v.map((x) => walk(x, spanOf(v) ?? where))
      inheritSelf(v, arr)
      v.forEach((_, i) => copyMember(v, arr, i))
      return arr
    }
    if (isPlainObject(v)) {
      const obj: Record<string, unknown> = {}
      inheritSelf(v, obj)
      for (const k of Object.keys(v)) {
        const nk = String(apply(k, spanOf(v) ?? where))
        setOwn(obj, nk, walk(v[k], spanOf(v) ?? where))
        copyMember(v, obj, k, nk)
      }
      return obj
    }
    return v
  }
  return walk(value, undefined)
}

function applyFunctions(value: InputValue, fns: string, vars: (n: string) => string | undefined, file: string, where: SourceSpan | undefined, errors: GlrunError[]): InputValue {
  let v: InputValue = value
  for (const raw of fns.split('|').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z_]+)(?:\(([^)]*)\))?$/.exec(raw)
    const name = m?.[1]
    const args = (m?.[2] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(Number)
    if (name === 'expand_vars') v = expandExisting(String(v), vars)
    else if (name === 'truncate' && args.length === 2) v = String(v).slice(args[0], args[0]! + args[1]!)
    else if (name === 'posix_escape') v = String(v).replace(/([^A-Za-z0-9_\-.,:/@\n])/g, '\\$1')
    else errors.push(new GlrunError('GLRUN_INCLUDE_INPUTS', `${file}: unknown interpolation function: \`${raw}\``, { where, hint: 'Available: expand_vars, truncate(offset,length), posix_escape.' }))
  }
  return v
}
