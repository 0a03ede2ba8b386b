import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { defaultConfigPath as existingConfig } from '../runner-config/locate.js'

/** Where `register` writes and `runner` reads when --config is not given: gitlab-runner's places. */
export function defaultConfigPath(): string {
  return existingConfig() ?? process.env.GLRUN_CONFIG ?? join(homedir(), '.gitlab-runner', 'config.toml')
}

export interface NewRunnerEntry {
  name: string
  url: string
  token: string
  tokenExpiresAt?: string | null
  executor: string
  dockerImage?: string
  tlsCaFile?: string
}

/** A TOML basic string: JSON's escapes are TOML's. */
const q = (s: string): string => JSON.stringify(s)

/**
 * Appends a [[runners]] entry as gitlab-runner's register writes it, keeping every byte already in
 * the file (comments, other runners, keys glrun does not know); a new file gets the global
 * settings first. The file is the runner's secret store: mode 0600.
 */
export function appendRunner(path: string, e: NewRunnerEntry): void {
  mkdirSync(dirname(path), { recursive: true })
  if (!existsSync(path)) writeFileSync(path, 'concurrent = 1\ncheck_interval = 0\n', { mode: 0o600 })
  const text = readFileSync(path, 'utf8')
  const lines = [
    '', '[[runners]]',
    `  name = ${q(e.name)}`, `  url = ${q(e.url)}`, `  token = ${q(e.token)}`,
    ...(e.tokenExpiresAt ? [`  token_expires_at = ${e.tokenExpiresAt}`] : []),
    ...(e.tlsCaFile ? [`  tls-ca-file = ${q(e.tlsCaFile)}`] : []),
    `  executor = ${q(e.executor)}`,
    ...(e.executor === 'docker' ? ['  [runners.docker]', `    image = ${q(e.dockerImage ?? 'alpine:latest')}`] : []),
  ]
  appendFileSync(path, `${text.endsWith('\n') || text === '' ? '' : '\n'}${lines.join('\n')}\n`)
  chmodSync(path, 0o600)
}

/** The file without the [[runners]] entries whose token is in `tokens` (verify --delete, unregister). */
export function removeRunners(path: string, tokens: Set<string>): number {
  const text = readFileSync(path, 'utf8')
  let removed = 0
  const kept = runnerPieces(text).filter((p) => {
    const m = /^\s*token\s*=\s*"([^"]*)"/m.exec(p.text)
    const drop = p.entry && m !== null && tokens.has(m[1]!)
    if (drop) removed++
    return !drop
  })
  writeFileSync(path, kept.map((p) => p.text).join(''), { mode: 0o600 })
  return removed
}

/**
 * The file cut before each [[runners]] header, with the comment lines right above the header: they
 * describe that runner, so they go with it, and stay when the runner before it goes. An entry runs
 * until the next one (its sub-tables included). The pieces joined are the file, byte for byte.
 */
function runnerPieces(text: string): { text: string; entry: boolean }[] {
  const lines = text.split(/(?<=\n)/)
  const starts: number[] = []
  for (let i = 0; i < lines.length; i++) {
    if (!/^[ \t]*\[\[runners\]\][ \t]*(?:#.*)?\r?\n?$/.test(lines[i]!)) continue
    let s = i
    while (s > 0 && /^[ \t]*#/.test(lines[s - 1]!) && s - 1 > (starts.at(-1) ?? -1)) s--
    starts.push(s)
  }
  const cuts = [0, ...starts.filter((s) => s > 0), lines.length]
  const out: { text: string; entry: boolean }[] = []
  for (let k = 0; k + 1 < cuts.length; k++) out.push({ text: lines.slice(cuts[k], cuts[k + 1]).join(''), entry: starts.includes(cuts[k]!) })
  return out.filter((p) => p.text !== '')
}
