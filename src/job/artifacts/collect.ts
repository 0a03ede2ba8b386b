import { execFileSync } from 'node:child_process'
import { lstatSync, readdirSync, realpathSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import picomatch from 'picomatch'

/**
 * The files an `artifacts:` or `cache:` entry captures, with gitlab-runner's path rules: paths
 * are relative to the project directory, `*` stays in a directory and `**` crosses them, a
 * directory means everything under it, `exclude` removes matches, `untracked` adds the files git
 * does not track. Nothing outside the project directory is ever taken.
 */
export interface Collected {
  files: string[]
  warnings: string[]
}

export function collectPaths(projectDir: string, paths: readonly string[], exclude: readonly string[], untracked: boolean): Collected {
  const all = walk(projectDir)
  const picked = new Set<string>()
  const warnings: string[] = []
  for (const raw of paths) {
    const p = raw.replace(/^\.\//, '').replace(/\/+$/, '')
    if (p.startsWith('/') || p.split('/').includes('..')) {
      warnings.push(`${raw}: artifact path is not a subpath of project directory: ${projectDir}`)
      continue
    }
    const match = picomatch([p, `${p}/**`], { dot: true })
    const hits = all.filter((f) => match(f))
    if (hits.length === 0) warnings.push(`${raw}: no matching files. Ensure that the artifact path is relative to the working directory (${projectDir})`)
    hits.forEach((f) => picked.add(f))
  }
  if (untracked) {
    try {
      const out = execFileSync('git', ['ls-files', '-o', '-z'], { cwd: projectDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      out.split('\0').filter(Boolean).forEach((f) => picked.add(f))
    } catch {
      warnings.push('untracked: the project directory is not a git repository; no untracked files collected')
    }
  }
  const excluded = exclude.length > 0 ? picomatch(exclude.flatMap((e) => [e, `${e.replace(/\/+$/, '')}/**`]), { dot: true }) : () => false
  return { files: [...picked].filter((f) => !excluded(f)).sort(), warnings }
}

/** Every file and symlink under `root` (relative, `/`-separated), not following links, skipping .git. */
function walk(root: string): string[] {
  const out: string[] = []
  const real = realpathSync(root)
  const visit = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const abs = join(dir, e.name)
      const rel = relative(real, abs).split(sep).join('/')
      if (rel === '.git') continue
      if (e.isDirectory()) visit(abs)
      else if (e.isFile() || e.isSymbolicLink()) out.push(rel)
    }
  }
  visit(real)
  return out
}

export function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink()
  } catch {
    return false
  }
}
