/**
 * Docker image references as the engine reads them: `[registry[:port]/]path[:tag][@digest]`.
 * The registry is the first component when it looks like a host (has a dot or a port, or is
 * `localhost`); otherwise the image is on Docker Hub.
 */
export interface ImageRef {
  readonly registry: string
  readonly path: string
  readonly tag?: string
  readonly digest?: string
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const TAG = /^[\w][\w.-]{0,127}$/
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-fA-F0-9]{32,}$/

/** Parses `ref`; undefined when the engine would answer "invalid reference format". */
export function parseImageRef(ref: string): ImageRef | undefined {
  let rest = ref
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at >= 0) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    if (!DIGEST.test(digest)) return undefined
  }
  let tag: string | undefined
  const slash = rest.lastIndexOf('/')
  const colon = rest.lastIndexOf(':')
  if (colon > slash) {
    tag = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
    if (!TAG.test(tag)) return undefined
  }
  const parts = rest.split('/')
  let registry = 'docker.io'
  if (parts.length > 1 && (/[.:]/.test(parts[0]!) || parts[0] === 'localhost')) registry = parts.shift()!
  if (parts.length === 0 || !parts.every((p) => COMPONENT.test(p))) return undefined
  return { registry, path: parts.join('/'), ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) }
}

/** `busybox` → `busybox:latest`, as `docker run` and gitlab-runner complete it. */
export function withDefaultTag(ref: string): string {
  const p = parseImageRef(ref)
  if (!p || p.tag !== undefined || p.digest !== undefined) return ref
  return `${ref}:latest`
}

/**
 * The host names a service gets from gitlab-runner (docs: "Accessing the services"): the image
 * name as written without tag, digest or registry port, with `/` replaced by `__`, and a second
 * one with `-` when that differs (`registry.example.com:5000/ns/db:1` →
 * `registry.example.com__ns__db`, `registry.example.com-ns-db`; `postgres:16` → `postgres`).
 * The job's `alias:` names come on top; one `alias:` may list several, separated by commas or
 * spaces. The executor creates exactly these, and lint checks DOCKER_HOST against them.
 */
export function serviceHostnames(image: string, alias?: string): string[] {
  const name = image.trim().split('@')[0]!
  const slash = name.lastIndexOf('/')
  const colon = name.lastIndexOf(':')
  const untagged = colon > slash ? name.slice(0, colon) : name
  const base = untagged.replace(/^([^/]*?):\d+(?=\/|$)/, '$1')
  const names = [base.replaceAll('/', '__'), base.replaceAll('/', '-'), ...(alias ?? '').split(/[\s,]+/)]
  return [...new Set(names.filter(Boolean))]
}
