import { existsSync, readFileSync } from 'node:fs'
import type { ProbeResult } from '../diagnose/types.js'
import type { DockerExecutor } from '../executors/docker/docker-executor.js'
import { parseImageRef, withDefaultTag } from '../executors/docker/image-ref.js'
import type { DockerExecutorOptions } from '../executors/docker/options.js'
import { probeRegistry } from '../probe/index.js'
import type { CheckContext, Finding } from './types.js'

/** Docker Hub's pull-through mirror run by Google: a working default for "registry-mirrors". */
const HUB_MIRROR = 'https://mirror.gcr.io'

/**
 * Will jobs get the runner's default image: already on the engine (and the pull policy lets
 * jobs use that copy), or its registry answers `/v2/` from here. The registry check runs on this
 * machine, so it stands for the engine's view only when the engine runs here too.
 */
export async function checkDefaultImage(scope: string, opts: DockerExecutorOptions, executor: DockerExecutor | undefined, ctx: CheckContext): Promise<Finding> {
  const named = opts.image!
  const image = withDefaultTag(named)
  const ref = parseImageRef(image)
  if (!ref) {
    return { scope, check: 'image', status: 'fail', what: `image = "${named}" in [runners.docker] is not a valid image reference`, fix: 'Image names are lower-case [registry/]path[:tag], for example "alpine:3.20" or "registry.example.com/group/tools:1".' }
  }
  const policies = opts.pullPolicy && opts.pullPolicy.length > 0 ? opts.pullPolicy : ['always']
  const shown = `pull_policy = [${policies.map((p) => `"${p}"`).join(', ')}]`
  const present = executor ? await isOnEngine(executor, image) : undefined
  if (present && policies[0] !== 'always') return { scope, check: 'image', status: 'ok', what: `${image} is on the engine, and ${shown} uses that copy without asking ${ref.registry}` }
  if (present === false && policies.every((p) => p === 'never')) {
    return { scope, check: 'image', status: 'fail', what: `${image} is not on the engine and ${shown} forbids pulling it`, fix: 'Pull it onto the engine once, or allow pulls:', snippet: `docker pull ${image}\n\n# or, in [runners.docker]:\npull_policy = ["if-not-present"]` }
  }
  const registry = ref.registry
  const caFile = `/etc/docker/certs.d/${registry}/ca.crt`
  const ca = existsSync(caFile) ? readFileSync(caFile, 'utf8') : undefined
  const probe = await probeRegistry(registry, { timeoutMs: ctx.timeoutMs, ...(ca ? { ca } : {}) })
  const also = present ? ' (a copy is on the engine too)' : ''
  if (probe.ok) return { scope, check: 'image', status: 'ok', what: `pulls of ${image}: ${probe.summary}${also}`, probe }
  // With a copy on the engine, a pull policy that falls back to it keeps jobs running.
  const fallsBack = present === true && policies.some((p) => p !== 'always')
  const fix = registryFix(probe, registry, image)
  if (present) {
    fix.text.unshift(fallsBack ? `Jobs fall back to the copy on the engine (${shown}), so only new images are affected.` : `The image is on the engine: let jobs use that copy when ${registry} cannot be reached.`)
    if (!fallsBack) fix.snippets.unshift('# config.toml, [runners.docker]:\npull_policy = ["if-not-present"]')
  } else if (!fix.snippets.some((s) => s.includes('pull_policy'))) {
    fix.text.push(`Or pull ${image} onto the engine where the registry is reachable and set pull_policy = ["if-not-present"] in [runners.docker].`)
  }
  return {
    scope, check: 'image', status: fallsBack ? 'warn' : 'fail', what: `pulls of ${image} will fail: ${probe.summary}`, probe,
    fix: fix.text.join(' '), ...(fix.snippets.length > 0 ? { snippet: fix.snippets.join('\n\n') } : {}),
  }
}

async function isOnEngine(executor: DockerExecutor, image: string): Promise<boolean | undefined> {
  try {
    await (await executor.engine()).getImage(image).inspect()
    return true
  } catch (e) {
    return (e as { statusCode?: number }).statusCode === 404 ? false : undefined
  }
}

/** What makes pulls from `registry` work again, by the way the check failed. */
function registryFix(probe: ProbeResult, registry: string, image: string): { text: string[]; snippets: string[] } {
  const hub = registry === 'docker.io'
  const mirror = `# /etc/docker/daemon.json on the engine host (Docker Hub images only), then: systemctl restart docker\n{ "registry-mirrors": ["${HUB_MIRROR}"] }`
  const d = probe.detail ?? {}
  if (d['status'] === 429) {
    return { text: ['The registry rate-limits pulls from this address. Log the engine host in (docker login: higher limits), use a mirror, or keep images with pull_policy if-not-present.'], snippets: hub ? [mirror] : [] }
  }
  if (d['outcome'] === 'untrusted') {
    return { text: [`The engine must trust ${registry}'s certificate: put the CA that signed it where dockerd looks for it.`], snippets: [`mkdir -p /etc/docker/certs.d/${registry}\ncp <the registry's CA>.crt /etc/docker/certs.d/${registry}/ca.crt`] }
  }
  if (d['outcome'] === 'not TLS') {
    return { text: [`${registry} speaks plain HTTP: the engine pulls from it only when told it is insecure.`], snippets: [`# /etc/docker/daemon.json on the engine host, then: systemctl restart docker\n{ "insecure-registries": ["${registry}"] }`] }
  }
  if (typeof d['status'] === 'number') {
    return { text: [`${registry} does not answer like a registry (HTTP ${String(d['status'])}): check the registry part of "${image}", or the proxy in between.`], snippets: [] }
  }
  if (hub) return { text: ['Docker Hub cannot be reached from here: point the engine at a mirror it can reach (a pull-through cache).'], snippets: [mirror] }
  return { text: [`Make ${registry} reachable from the engine host (DNS, firewall, or the engine's HTTPS_PROXY in its systemd drop-in).`], snippets: [] }
}
