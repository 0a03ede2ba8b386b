import { fnmatch } from './fnmatch.js'

/**
 * How GitLab's `rules:changes` and `rules:exists` clauses match their globs against paths: Ruby
 * `File.fnmatch?` with PATHNAME | DOTMATCH | EXTGLOB (see fnmatch.ts), plus the shortcuts and
 * limits of `Clause::Changes` / `Clause::Exists`. A leading `/` is dropped (glrun's long-standing
 * reading of a project-rooted path).
 */
function clean(glob: string): string {
  return glob.startsWith('/') ? glob.slice(1) : glob
}

/** `Clause::Changes`: more than 50,000 glob × path comparisons count as a match, unmade. */
const CHANGES_MAX_PATTERN_COMPARISONS = 50_000

export function changedFilesMatch(globs: readonly string[], changed: readonly string[]): boolean {
  if (changed.length === 0) return false
  const unique = [...new Set(globs.map(clean))]
  if (unique.length === 0) return false
  if (unique.length * changed.length > CHANGES_MAX_PATTERN_COMPARISONS) return true
  return changed.some((path) => unique.some((glob) => fnmatch(glob, path)))
}

/** `Clause::Exists`: after 10,000 patterned comparisons it assumes a match. */
const EXISTS_MAX_PATTERN_COMPARISONS = 10_000
const NESTED = '**/*'

export function existingFilesMatch(globs: readonly string[], files: readonly string[]): boolean {
  const all = globs.map(clean)
  // A glob without wildcards names one file: compared as is (so "" names no file).
  const exact = all.filter(isExact)
  if (exact.length > 0) {
    const set = new Set(files)
    if (exact.some((g) => set.has(g))) return true
  }
  // `**/*.ext`: any file with that ending.
  const endings = all.filter(isEnding).map((g) => g.slice(NESTED.length))
  if (endings.length > 0 && files.some((f) => endings.some((e) => f.endsWith(e)))) return true
  let comparisons = 0
  return all.filter((g) => !isExact(g) && !isEnding(g)).some((glob) => files.some((path) => {
    comparisons++
    return comparisons > EXISTS_MAX_PATTERN_COMPARISONS || fnmatch(glob, path)
  }))
}

function isExact(glob: string): boolean {
  return !/[*?[{]/.test(glob)
}

function isEnding(glob: string): boolean {
  if (isExact(glob)) return false
  const rest = glob.startsWith(NESTED) ? glob.slice(NESTED.length) : glob
  return rest.startsWith('.') && !rest.includes('/') && isExact(rest)
}
