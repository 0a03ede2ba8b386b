/**
 * Image references as lint checks need them: which image it is, whatever registry or mirror it
 * is pulled through. (The engine's view, strict about the format, is executors/docker/image-ref.)
 */
export interface ImageRef {
  /** Lower-case repository without Docker Hub's `docker.io/` and `library/` prefixes. */
  readonly repository: string
  /** The tag ('' when none is written: the registry's `latest`). */
  readonly tag: string
  /** The repository exactly as written (registry and port included), without tag or digest. */
  readonly written: string
}

/** Parses `[registry[:port]/]path[:tag][@digest]`; undefined for names still holding a variable. */
export function parseImageRef(name: string): ImageRef | undefined {
  const trimmed = name.trim()
  if (trimmed === '' || trimmed.includes('$') || /\s/.test(trimmed)) return undefined
  const noDigest = trimmed.split('@')[0]!
  const slash = noDigest.lastIndexOf('/')
  const colon = noDigest.lastIndexOf(':')
  // A colon before the last slash is a registry port, not a tag.
  const hasTag = colon > slash
  const written = hasTag ? noDigest.slice(0, colon) : noDigest
  const tag = hasTag ? noDigest.slice(colon + 1) : ''
  const repository = written.toLowerCase().replace(/^(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, '').replace(/^library\//, '')
  return { repository, tag, written }
}

/**
 * True when `ref` is `repository`, pulled directly or through a mirror or proxy that keeps the
 * path (a registry mirror, GitLab's dependency proxy `…/dependency_proxy/containers/<path>`).
 */
export function isRepository(ref: ImageRef, repository: string): boolean {
  return ref.repository === repository || ref.repository.endsWith(`/${repository}`)
}
