import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

let root: string | undefined

/**
 * The glrun package's root directory (where package.json and schema/ live), found by walking up
 * from this module: the same code runs from src/ (tests), dist/ and the single-file bundle.
 */
export function packageRoot(): string {
  if (root) return root
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'schema', 'gitlab-ci.json'))) return (root = dir)
    dir = dirname(dir)
  }
  throw new Error(`glrun's schema/ directory was not found above ${fileURLToPath(import.meta.url)}`)
}
