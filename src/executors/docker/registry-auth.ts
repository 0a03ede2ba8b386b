import { homedir } from 'node:os'
import { join } from 'node:path'
import { readFileSync } from 'node:fs'

export interface RegistryAuth {
  readonly registry: string
  readonly username: string
  readonly password: string
  /** Where it came from, as gitlab-runner names it in the trace. */
  readonly source: string
}

/**
 * Registry credentials in gitlab-runner's order: the job's (payload credentials), then
 * DOCKER_AUTH_CONFIG (job variable or runner environment), then the runner user's
 * ~/.docker/config.json. Credential helpers are not run.
 */
export function collectAuth(jobCredentials: readonly { type: string; url: string; username: string; password: string }[], dockerAuthConfig: string | undefined): RegistryAuth[] {
  const out: RegistryAuth[] = []
  for (const c of jobCredentials) if (c.type === 'registry') out.push({ registry: c.url, username: c.username, password: c.password, source: 'job payload (GitLab Registry)' })
  if (dockerAuthConfig) out.push(...fromDockerConfig(dockerAuthConfig, 'DOCKER_AUTH_CONFIG'))
  try {
    out.push(...fromDockerConfig(readFileSync(join(homedir(), '.docker', 'config.json'), 'utf8'), join(homedir(), '.docker', 'config.json')))
  } catch {
    // No config.json: nothing to add.
  }
  return out
}

function fromDockerConfig(json: string, source: string): RegistryAuth[] {
  try {
    const doc = JSON.parse(json) as { auths?: Record<string, { auth?: string; username?: string; password?: string }> }
    return Object.entries(doc.auths ?? {}).flatMap(([registry, a]) => {
      if (a.username && a.password) return [{ registry, username: a.username, password: a.password, source }]
      if (!a.auth) return []
      const plain = Buffer.from(a.auth, 'base64').toString('utf8')
      const i = plain.indexOf(':')
      return i > 0 ? [{ registry, username: plain.slice(0, i), password: plain.slice(i + 1), source }] : []
    })
  } catch {
    return []
  }
}

/** The credentials for `registry` (Docker Hub answers to several names). */
export function authFor(registry: string, all: readonly RegistryAuth[]): RegistryAuth | undefined {
  const norm = (r: string): string => {
    const h = r.replace(/^https?:\/\//, '').replace(/\/.*$/, '')
    return ['docker.io', 'index.docker.io', 'registry-1.docker.io'].includes(h) ? 'docker.io' : h
  }
  return all.find((a) => norm(a.registry) === norm(registry))
}
