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
  // Split before each [[runners]] header; an entry runs until the next one (its sub-tables included).
  const parts = text.split(/^(?=\[\[runners\]\]\s*$)/m)
  let removed = 0
  const kept = parts.filter((p) => {
    const m = /^\s*token\s*=\s*"([^"]*)"/m.exec(p)
    const drop = p.startsWith('[[runners]]') && m !== null && tokens.has(m[1]!)
    if (drop) removed++
    return !drop
  })
  writeFileSync(path, kept.join(''), { mode: 0o600 })
  return removed
}
