#!/usr/bin/env node
// The bundle (dist/glrun.mjs) is built by `npm run build`; dist/cli/main.js is the same code unbundled.
const { main } = await import('../dist/glrun.mjs').catch(() => import('../dist/cli/main.js'))

process.exitCode = await main(process.argv)
