/** What the `origin` remote says about the GitLab project. */
export interface RemoteInfo {
  /** e.g. https://gitlab.example.com or http://host:8080 */
  serverUrl: string
  host: string
  port: number
  protocol: 'https' | 'http'
  /** `group/sub/project` */
  projectPath: string
}

/**
 * Understands the remote forms users have: `https://[user[:token]@]host[:port]/group/proj[.git]`,
 * `git@host:group/proj.git`, `ssh://git@host[:port]/group/proj.git`. Credentials are dropped.
 * An ssh remote maps to the https server on the same host (where GitLab's web UI and API live).
 */
export function parseRemote(url: string): RemoteInfo | undefined {
  const trimmed = url.trim()
  let host: string
  let port: number | undefined
  let path: string
  let protocol: 'https' | 'http' = 'https'
  const http = /^(https?):\/\/(?:[^@/]*@)?([^/:]+)(?::(\d+))?\/(.+)$/.exec(trimmed)
  const ssh = /^ssh:\/\/(?:[^@/]*@)?([^/:]+)(?::(\d+))?\/(.+)$/.exec(trimmed)
  const scp = /^(?:[^@/]+@)?([^/:]+):(?!\/\/)(.+)$/.exec(trimmed)
  if (http) {
    protocol = http[1] as 'https' | 'http'
    host = http[2]!
    port = http[3] ? Number(http[3]) : undefined
    path = http[4]!
  } else if (ssh) {
    host = ssh[1]!
    path = ssh[3]!
  } else if (scp && !trimmed.startsWith('/') && !/^[a-zA-Z]:\\/.test(trimmed)) {
    host = scp[1]!
    path = scp[2]!
  } else {
    return undefined
  }
  path = path.replace(/\.git\/?$/, '').replace(/^\/+|\/+$/g, '')
  if (!path.includes('/')) return undefined
  const defaultPort = protocol === 'https' ? 443 : 80
  const p = port ?? defaultPort
  return {
    serverUrl: `${protocol}://${host}${p === defaultPort ? '' : `:${p}`}`,
    host,
    port: p,
    protocol,
    projectPath: path,
  }
}
