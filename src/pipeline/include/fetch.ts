import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { MAX_SOURCE_BYTES, readSourceFile } from '../../support/read-source-file.js'

/** Where a file came from, so nested `include:local` can be resolved relative to it. */
export type Origin =
  | { kind: 'local'; root: string }
  | { kind: 'project'; project: string; ref?: string; root?: string }
  | { kind: 'remote' }
  | { kind: 'template' }

export interface GitLabAccess {
  url: string
  token?: string
}

/** Thrown by fetchers with a user-facing message; the resolver turns it into a GlrunError. */
export class IncludeFetchError extends Error {
  constructor(message: string, readonly code: string, readonly hint: string) {
    super(message)
  }
}

const FETCH_TIMEOUT_MS = 10_000

/**
 * Resolves a local include path (leading `/` allowed) to files inside `root`, never outside it
 * (realpath, so a symlink cannot lead out). Wildcards follow GitLab (see wildcardMatcher) and
 * must end in .yml/.yaml.
 */
export function localFiles(root: string, path: string): string[] {
  const clean = path.replace(/^\/+/, '')
  if (!clean.includes('*')) {
    const abs = insideRoot(root, clean)
    // Anything that exists is returned: reading it says what is wrong with a FIFO or a directory.
    if (!existsSync(abs) || statSync(abs).isDirectory()) return []
    return [clean]
  }
  if (!/\.ya?ml$/.test(clean)) {
    throw new IncludeFetchError(`Included file \`${path}\` does not have YAML extension!`, 'GLRUN_INCLUDE_NOT_YAML', 'A wildcard local include must end in .yml or .yaml.')
  }
  const match = wildcardMatcher(clean)
  const out: string[] = []
  const walk = (dir: string, depth: number): void => {
    if (depth > 30) return
    for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
      if (e.name === '.git' || e.name === '.glrun' || e.name === 'node_modules') continue
      const rel = dir ? `${dir}/${e.name}` : e.name
      if (e.isDirectory()) walk(rel, depth + 1)
      else if (e.isFile() && match(rel)) out.push(rel)
    }
  }
  walk('', 0)
  return out.sort()
}

/**
 * GitLab's `Repository#search_files_by_wildcard_path`: the path is escaped literally, then `**`
 * becomes `.*?` (anything, `/` included) and `*` becomes `[^/]*?`, anchored at both ends. So
 * `configs/*.yml` is the files directly in configs/, `configs/**.yml` is every .yml below it, and
 * `configs/` + `**` + `/*.yml` needs at least one subfolder (the `/` after `**` must match a real `/`).
 * `?`, `[` and `{` have no special meaning.
 */
export function wildcardMatcher(path: string): (rel: string) => boolean {
  const source = path.split('**').map((part) => part.split('*').map(escapeRegExp).join('[^/]*?')).join('.*?')
  const re = new RegExp(`^${source}$`, 's')
  return (rel) => re.test(rel)
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&')
}

/** `root/rel`, refusing any path that resolves (through `..` or symlinks) outside `root`. */
export function insideRoot(root: string, rel: string): string {
  const realRoot = realpathSync(root)
  const abs = join(realRoot, rel)
  let real = abs
  try {
    real = realpathSync(abs)
  } catch {
    // Missing files are reported by the caller; still check the lexical path.
  }
  const r = relative(realRoot, real)
  if (r === '..' || r.startsWith(`..${sep}`) || r.startsWith('/')) {
    throw new IncludeFetchError(`Local file \`${rel}\` is outside the project`, 'GLRUN_INCLUDE_OUTSIDE_PROJECT', 'A local include must be a file of this repository; use include:project or include:remote for other files.')
  }
  return abs
}

async function httpGet(url: string, doFetch: typeof fetch, headers: Record<string, string> = {}): Promise<string> {
  let res: Response
  try {
    res = await doFetch(url, { headers, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'follow' })
  } catch (e) {
    const cause = e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)
    throw new IncludeFetchError(`could not fetch ${redact(url)}: ${cause}`, 'GLRUN_INCLUDE_FETCH', 'Check the URL and your network; glrun uses its cached copy when it has one.')
  }
  if (!res.ok) {
    throw new IncludeFetchError(`fetching ${redact(url)} answered HTTP ${res.status} ${res.statusText}`, 'GLRUN_INCLUDE_FETCH', res.status === 401 || res.status === 403 ? 'The token is missing or lacks read_api/read_repository access.' : 'Check that the file and ref exist.')
  }
  return cappedText(res, url)
}

/** The body as text, refusing one larger than a pipeline file may be (a server can send forever). */
async function cappedText(res: Response, url: string): Promise<string> {
  const tooBig = (): IncludeFetchError => new IncludeFetchError(`${redact(url)} answered more than ${MAX_SOURCE_BYTES} bytes`, 'GLRUN_INCLUDE_TOO_BIG', 'GitLab refuses a pipeline file whose parsed YAML exceeds 2 MiB; check the URL.')
  if (Number(res.headers.get('content-length') ?? 0) > MAX_SOURCE_BYTES) throw tooBig()
  if (!res.body) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length
    if (size > MAX_SOURCE_BYTES) throw tooBig()
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//[MASKED]@')
}

/** Remote include with a local cache: a later offline run uses the last good copy. */
export async function fetchRemote(url: string, cacheDir: string, doFetch: typeof fetch, warn: (msg: string) => void): Promise<string> {
  const file = join(cacheDir, `${createHash('sha256').update(url).digest('hex')}.yml`)
  try {
    const text = await httpGet(url, doFetch)
    mkdirSync(cacheDir, { recursive: true })
    writeFileSync(file, text)
    return text
  } catch (e) {
    if (existsSync(file)) {
      warn(`${e instanceof Error ? e.message : String(e)}; using the cached copy from ${statSync(file).mtime.toISOString()}`)
      // The cache sits in the project's .glrun/, which a repository can fill: read it like any
      // file the repository provides.
      return readSourceFile(file, { display: redact(url), root: cacheDir })
    }
    throw e
  }
}

export function checkIntegrity(text: string, integrity: string, url: string): void {
  const m = /^sha256-(.+)$/.exec(integrity)
  const actual = createHash('sha256').update(text).digest('base64')
  if (!m || m[1] !== actual) {
    throw new IncludeFetchError(`Remote file \`${url}\` does not match the integrity hash`, 'GLRUN_INCLUDE_INTEGRITY', `The file's hash is sha256-${actual}; update \`integrity:\` if the change is expected.`)
  }
}

export async function fetchProjectFile(gitlab: GitLabAccess, project: string, file: string, ref: string | undefined, doFetch: typeof fetch): Promise<string> {
  const base = gitlab.url.replace(/\/+$/, '')
  const url = `${base}/api/v4/projects/${encodeURIComponent(project)}/repository/files/${encodeURIComponent(file.replace(/^\/+/, ''))}/raw?ref=${encodeURIComponent(ref ?? 'HEAD')}`
  return httpGet(url, doFetch, gitlab.token ? { 'PRIVATE-TOKEN': gitlab.token } : {})
}

export async function fetchTemplate(gitlab: GitLabAccess, name: string, doFetch: typeof fetch): Promise<string> {
  const base = gitlab.url.replace(/\/+$/, '')
  const key = name.replace(/\.gitlab-ci\.yml$/, '')
  const body = await httpGet(`${base}/api/v4/templates/gitlab_ci_ymls/${encodeURIComponent(key)}`, doFetch, gitlab.token ? { 'PRIVATE-TOKEN': gitlab.token } : {})
  try {
    const parsed = JSON.parse(body) as { content?: unknown }
    if (typeof parsed.content === 'string') return parsed.content
  } catch {
    // fall through
  }
  throw new IncludeFetchError(`template ${name} from ${base} is not a template response`, 'GLRUN_INCLUDE_FETCH', 'Check --gitlab-url points at a GitLab instance.')
}

/** `<fqdn>/<project path>/<name>@<version>` → its parts. */
export function parseComponent(ref: string): { host: string; project: string; name: string; version: string } | undefined {
  const at = ref.lastIndexOf('@')
  if (at < 0) return undefined
  const parts = ref.slice(0, at).split('/')
  if (parts.length < 3) return undefined
  return { host: parts[0]!, project: parts.slice(1, -1).join('/'), name: parts.at(-1)!, version: ref.slice(at + 1) }
}

/** The files a component may live in (GitLab's catalog layout). */
export function componentCandidates(name: string): string[] {
  return [`templates/${name}.yml`, `templates/${name}/template.yml`]
}
