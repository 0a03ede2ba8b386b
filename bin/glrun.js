#!/usr/bin/env node
// Starts glrun from the single-file bundle (dist/glrun.cjs, built by `npm run build`) with V8's
// code cache, so a warm start skips parsing and compiling ~1 MB of JavaScript. Falls back to the
// plain modules in dist/ when the bundle is missing.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { Module, createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import vm from 'node:vm'

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist')
const bundle = join(dist, 'glrun.cjs')

async function load() {
  if (!existsSync(bundle)) return import('../dist/cli/main.js')
  const source = readFileSync(bundle, 'utf8')
  const cacheFile = cachePath()
  let cachedData
  try { cachedData = readFileSync(cacheFile) } catch { /* first run */ }
  const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData })
  const mod = { exports: {} }
  script.runInThisContext()(mod.exports, createRequire(bundle), mod, bundle, dist)
  if (!cachedData || script.cachedDataRejected) {
    // Saved after the run, so the functions the run compiled are in the cache too.
    process.once('beforeExit', () => {
      try {
        mkdirSync(dirname(cacheFile), { recursive: true })
        writeFileSync(cacheFile, script.createCachedData())
      } catch { /* a read-only install just runs without the cache */ }
    })
  }
  return mod.exports
}

// One cache file per Node version and build of the bundle. V8 checks cached data against the
// source's length only, so a rebuild of the same length would run stale compiled functions
// (seen as "SyntaxError: Unexpected identifier" deep in a run): the bundle's mtime is in the key.
function cachePath() {
  const built = Math.trunc(statSync(bundle).mtimeMs)
  const key = `glrun-${process.version}-${process.arch}-${built}.v8cache`
  return existsSync(join(dist, '.cache-writable')) ? join(dist, key) : join(tmpdir(), 'glrun-cache', key)
}

const { main } = await load()
process.exitCode = await main(process.argv)
