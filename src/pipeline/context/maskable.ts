import { GlrunError } from '../../diagnostics/errors.js'

/**
 * GitLab's rules for a value it agrees to mask (Ci::Maskable): one line, at least 8 characters,
 * all from the Base64 alphabet (RFC 4648, both variants) plus `@ : . ~`. A raw masked variable
 * ("masked and hidden" era, MASK_AND_RAW_REGEX) may hold any characters but whitespace.
 *
 * Why glrun enforces them: the runner masks a value by replacing it whole, so a multi-line value
 * leaks line by line (`echo "$KEY" | head -1`), and a short one masks pieces of ordinary words
 * in the log (every "ab" in "variable") and so gives itself away.
 */
const MASKABLE = /^[a-zA-Z0-9_+=/@:.~-]{8,}$/
const MASKABLE_RAW = /^[^ \t\r\n\f\v]{8,}$/u
const MIN_LENGTH = 8

/** Why GitLab would refuse to mask `value`, in words that never quote it; undefined when maskable. */
export function unmaskableReason(value: string, raw = false): string | undefined {
  if ((raw ? MASKABLE_RAW : MASKABLE).test(value)) return undefined
  if (/[\r\n]/.test(value)) return 'the value spans more than one line'
  if ([...value].length < MIN_LENGTH) return `the value is shorter than ${MIN_LENGTH} characters`
  if (/[ \t\f\v]/.test(value)) return 'the value contains whitespace'
  return 'the value contains characters other than A-Z a-z 0-9 + / = _ - @ : . ~'
}

/**
 * The refusal: names the variable and where it was given, never the value (not even part of it:
 * an error message ends up in terminals and CI logs).
 */
export function unmaskableError(key: string, reason: string, given: string, raw = false): GlrunError {
  return new GlrunError('GLRUN_MASKED_VALUE_INVALID', `${given}: variable ${key} cannot be masked: ${reason} (the value is not shown)`, {
    hint: `GitLab masks only values of one line, at least 8 characters long, ${raw ? 'without whitespace' : 'made of A-Z a-z 0-9 + / = _ - @ : . ~'}. ` +
      'For a multi-line secret (a key, a certificate) use a file variable, or store it base64-encoded and decode it in the job; make a short secret longer.',
    docs: 'https://docs.gitlab.com/ci/variables/#mask-a-cicd-variable',
  })
}
