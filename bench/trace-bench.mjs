#!/usr/bin/env node
// Benchmark: 200 MB of job output with 20 masked secrets through the trace path (TraceWriter →
// streaming Masker → file sink), in pipe-sized chunks. Prints MB/s and peak RSS (sampled).
// Target: >= 200 MB/s with flat memory. Usage: node bench/trace-bench.mjs [--mb N]
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
if (!existsSync(join(root, 'dist', 'trace', 'trace-writer.js'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' })
const { TraceWriter } = await import('../dist/trace/trace-writer.js')
const { Masker } = await import('../dist/trace/masker.js')
const { FileSink } = await import('../dist/trace/sinks/file-sink.js')

const args = process.argv.slice(2)
const totalMb = Number(args[args.indexOf('--mb') + 1] || 200) || 200
const secrets = Array.from({ length: 20 }, (_, i) => `s3cr3t-${i}-${'x'.repeat(8 + i)}`)
// Realistic lines of varying length; every ~50th line prints a secret.
const lines = []
for (let i = 0; i < 2000; i++) {
  const len = 20 + ((i * 7919) % 180)
  let line = `[${String(i).padStart(5, '0')}] ${'compiling module foo/bar/baz.ts ok '.repeat(6).slice(0, len)}`
  if (i % 50 === 0) line += ` token=${secrets[i % secrets.length]}`
  lines.push(line)
}
const block = Buffer.from(`${lines.join('\n')}\n`)
const dir = mkdtempSync(join(tmpdir(), 'glrun-trace-bench-'))
const file = join(dir, 'trace.log')
const trace = new TraceWriter({ masker: new Masker(secrets), sinks: [new FileSink(file)], limit: Number.MAX_SAFE_INTEGER })
let peak = process.memoryUsage().rss
const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 20)
const total = totalMb * 1024 * 1024
const started = process.hrtime.bigint()
let sent = 0
let i = 0
while (sent < total) {
  // Mostly 64 KiB pipe reads, sometimes small odd ones (a secret split across chunks).
  const size = i++ % 8 === 0 ? 1 + ((i * 131) % 4093) : 65536
  const off = sent % block.length
  const chunk = block.subarray(off, Math.min(block.length, off + size))
  trace.write(chunk)
  sent += chunk.length
  if (i % 256 === 0) await new Promise((r) => setImmediate(r)) // let the file sink drain
}
await trace.close()
const secs = Number(process.hrtime.bigint() - started) / 1e9
clearInterval(sampler)
peak = Math.max(peak, process.memoryUsage().rss)
const written = statSync(file).size
const { readFileSync } = await import('node:fs')
const text = readFileSync(file, 'utf8')
const leaked = secrets.filter((s) => text.includes(s)).length
rmSync(dir, { recursive: true, force: true })
console.log(`${totalMb} MB through the trace path with ${secrets.length} masked secrets: ${(totalMb / secs).toFixed(0)} MB/s (${secs.toFixed(2)} s), peak RSS ${(peak / 1048576).toFixed(0)} MiB, output ${(written / 1048576).toFixed(0)} MiB, secrets leaked: ${leaked}`)
