import { Masker } from '../trace/masker.js'
import type { Io } from './io.js'

/**
 * Everything a command prints about a pipeline goes through the same masking as job logs:
 * masked variables and GitLab tokens (`glcbt-…`, `glpat-…`) never reach the terminal, not even
 * in `glrun compile --json`, whose payloads otherwise carry them as GitLab sends them to runners.
 */
export function maskedIo(io: Io, secrets: readonly string[]): Io {
  const m = new Masker(secrets)
  // Each call prints whole text, so nothing needs to be held back between calls.
  const mask = (text: string): string => Buffer.concat([m.write(text), m.flush()]).toString()
  return { out: (t) => io.out(mask(t)), err: (t) => io.err(mask(t)), color: io.color, isTTY: io.isTTY }
}

/**
 * Every value given as a secret in this process (masked variables, once read). An error can
 * escape a command after its own masked output was set up (an executor failure that quotes an
 * expanded image name, say); the top level prints it through these too.
 */
const secrets = new Set<string>()

export function rememberSecrets(values: readonly string[]): void {
  for (const v of values) secrets.add(v)
}

/** `io` masked with every secret remembered so far (read when each line is printed). */
export function secretsMaskedIo(io: Io): Io {
  const masked = (): Io => maskedIo(io, [...secrets])
  return { out: (t) => masked().out(t), err: (t) => masked().err(t), color: io.color, isTTY: io.isTTY }
}
