import picomatch from 'picomatch'

/**
 * Path globs as GitLab matches `rules:changes` / `rules:exists` (Ruby `File.fnmatch` with
 * PATHNAME | DOTMATCH | EXTGLOB): `*` stays within a directory, `**` crosses directories,
 * `{a,b}` alternates, and dotfiles match like any file.
 */
const cache = new Map<string, (path: string) => boolean>()

export function globMatcher(glob: string): (path: string) => boolean {
  let m = cache.get(glob)
  if (!m) {
    const pattern = glob.startsWith('/') ? glob.slice(1) : glob
    m = picomatch(pattern, { dot: true, nonegate: true, noextglob: false })
    if (cache.size > 5000) cache.clear()
    cache.set(glob, m)
  }
  return m
}

export function anyMatch(globs: readonly string[], files: readonly string[]): boolean {
  const matchers = globs.map(globMatcher)
  return files.some((f) => matchers.some((m) => m(f)))
}
