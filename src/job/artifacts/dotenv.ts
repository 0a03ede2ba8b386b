/**
 * `artifacts:reports:dotenv` as GitLab reads it: one `KEY=VALUE` per line, keys of letters,
 * digits and underscores, no multi-line values, surrounding quotes removed, at most 20 variables
 * and 5 KB (GitLab's default limits). Problems are returned, not thrown: the job's log shows them.
 */
export const DOTENV_MAX_VARIABLES = 20
export const DOTENV_MAX_BYTES = 5 * 1024

export function parseDotenv(text: string): { variables: { key: string; value: string }[]; errors: string[] } {
  const errors: string[] = []
  if (Buffer.byteLength(text) > DOTENV_MAX_BYTES) return { variables: [], errors: [`dotenv report is larger than ${DOTENV_MAX_BYTES} bytes`] }
  const variables: { key: string; value: string }[] = []
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '' || line.trimStart().startsWith('#')) return
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line)
    if (!m) {
      errors.push(`line ${i + 1}: "${line.slice(0, 60)}" is not KEY=VALUE`)
      return
    }
    let value = m[2]!
    if (value.length >= 2 && ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'")))) value = value.slice(1, -1)
    variables.push({ key: m[1]!, value })
  })
  if (variables.length > DOTENV_MAX_VARIABLES) {
    errors.push(`dotenv report has ${variables.length} variables; the limit is ${DOTENV_MAX_VARIABLES}`)
    return { variables: [], errors }
  }
  return { variables, errors }
}
