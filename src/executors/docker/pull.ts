import type Docker from 'dockerode'
import { checkAllowedImage } from '../allowed-images.js'
import { ExecutorFailure } from '../failure.js'
import type { TraceOutput } from '../types.js'
import { parseImageRef, withDefaultTag } from './image-ref.js'
import { type RegistryAuth, authFor } from './registry-auth.js'

export type PullPolicy = 'always' | 'if-not-present' | 'never'

export interface PullRequest {
  image: string
  /** From the job (image:pull_policy / services:pull_policy); empty = use the config's. */
  jobPolicies: readonly PullPolicy[]
  /** [runners.docker] pull_policy; empty = ["always"] (gitlab-runner's default). */
  configPolicies: readonly PullPolicy[]
  /** [runners.docker] allowed_pull_policies; empty = the config's pull_policy. */
  allowedPolicies: readonly PullPolicy[]
  /** [runners.docker] allowed_images (or allowed_services) globs; empty = any. */
  allowedImages: readonly string[]
  auth: readonly RegistryAuth[]
  /** "image" or "service", for messages. */
  what: 'image' | 'service'
}

/**
 * Makes `image` available to the engine following gitlab-runner's pull-policy rules: the job's
 * policies must be allowed; each policy is tried in order (always pulls, if-not-present uses a
 * local image, never only looks); a failure moves on to the next and the last failure fails the
 * job with image_pull_failure, the engine's own words and what they mean.
 * Returns the image ID.
 */
export async function ensureImage(docker: Docker, r: PullRequest, out: TraceOutput): Promise<string> {
  const image = withDefaultTag(r.image)
  if (!parseImageRef(image)) {
    throw new ExecutorFailure('GLRUN_IMAGE_REFERENCE', `invalid reference format: the ${r.what} name "${r.image}" is not a valid Docker image reference`, 'image_pull_failure',
      'Image names are lower-case `[registry/]path[:tag]`. If it comes from a variable, check that the variable is set for this job (an empty or undefined variable leaves `:tag` or a `$NAME`).')
  }
  checkAllowedImage(r.image, [image, r.image], r.allowedImages, r.what, out)
  const policies = effectivePolicies(r)
  let lastError = ''
  for (const [i, policy] of policies.entries()) {
    if (i > 0) out.write(`Attempt #${i + 1}: Trying "${policy}" pull policy\n`)
    try {
      const id = await applyPolicy(docker, image, policy, r, out)
      return id
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e)
      out.write(`\x1b[0;33mWARNING: Failed to pull image with policy "${policy}": ${lastError}\x1b[0;m\n`)
    }
  }
  throw new ExecutorFailure('GLRUN_IMAGE_PULL', `failed to pull image "${image}" with specified policies [${policies.join(' ')}]: ${lastError}`, 'image_pull_failure', pullHint(lastError, image, policies))
}

function effectivePolicies(r: PullRequest): PullPolicy[] {
  const config: PullPolicy[] = r.configPolicies.length > 0 ? [...r.configPolicies] : ['always']
  const allowed = r.allowedPolicies.length > 0 ? r.allowedPolicies : config
  const wanted = r.jobPolicies.length > 0 ? [...r.jobPolicies] : config
  const ok = wanted.filter((p) => allowed.includes(p))
  if (ok.length === 0) {
    const source = r.jobPolicies.length > 0 ? 'GitLab pipeline config' : 'Runner config'
    throw new ExecutorFailure('GLRUN_PULL_POLICY_NOT_ALLOWED',
      `invalid pull policy for ${r.what} "${r.image}": pull_policy ([${wanted.join(' ')}]) defined in ${source} is not one of the allowed_pull_policies ([${allowed.join(' ')}])`,
      'runner_configuration_error', `Use one of ${allowed.join(', ')} in the job's pull_policy, or add the policy to allowed_pull_policies in config.toml.`)
  }
  return ok
}

async function applyPolicy(docker: Docker, image: string, policy: PullPolicy, r: PullRequest, out: TraceOutput): Promise<string> {
  if (policy !== 'always') {
    const local = await inspectImage(docker, image)
    if (local) {
      out.write(`Using locally found image version due to "${policy}" pull policy\n`)
      out.write(`Using docker image ${local} for ${image} ...\n`)
      return local
    }
    if (policy === 'never') throw new Error(`image "${image}" is not present on this machine and the pull policy is "never"`)
  }
  out.write(`Pulling docker image ${image} ...\n`)
  const ref = parseImageRef(image)!
  const auth = authFor(ref.registry, r.auth)
  if (auth) out.write(`Authenticating with credentials from ${auth.source}\n`)
  await pull(docker, image, auth)
  const id = await inspectImage(docker, image)
  if (!id) throw new Error(`the engine pulled "${image}" but does not list it`)
  out.write(`Using docker image ${id} for ${image} ...\n`)
  return id
}

async function inspectImage(docker: Docker, image: string): Promise<string | undefined> {
  try {
    const info = await docker.getImage(image).inspect()
    return info.Id
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return undefined
    throw e
  }
}

async function pull(docker: Docker, image: string, auth: RegistryAuth | undefined): Promise<void> {
  const opts = auth ? { authconfig: { username: auth.username, password: auth.password, serveraddress: auth.registry } } : {}
  const stream = await docker.pull(image, opts).catch((e: unknown) => {
    throw new Error(engineMessage(e))
  })
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, events: { error?: string; errorDetail?: { message?: string } }[]) => {
      const failed = events?.find((ev) => ev.error || ev.errorDetail)
      if (err) reject(new Error(engineMessage(err)))
      else if (failed) reject(new Error(failed.errorDetail?.message ?? failed.error))
      else resolve()
    })
  })
}

/** The engine's own error text (dockerode wraps it as "(HTTP code 500) server error - <text>"). */
function engineMessage(e: unknown): string {
  const j = (e as { json?: { message?: string } }).json
  if (j?.message) return j.message
  return e instanceof Error ? e.message.replace(/^\(HTTP code \d+\)[^-]*- /, '') : String(e)
}

/** What a pull error means, in words, with the fix that matches it. */
export function pullHint(err: string, image: string, policies: readonly string[]): string {
  const e = err.toLowerCase()
  const local = policies.includes('if-not-present') || policies.includes('never') ? '' : ` If the image is already on this machine, pull_policy = ["if-not-present"] in [runners.docker] (or the job's image:pull_policy) uses it without the registry.`
  if (/toomanyrequests|rate limit/.test(e)) return `The registry is rate-limiting pulls. Log in (DOCKER_AUTH_CONFIG), use a pull-through mirror, or keep images with pull_policy if-not-present.`
  if (/unauthorized|authentication required|denied: requested access|no basic auth credentials/.test(e) && !/pull access denied/.test(e)) return `The registry refused the credentials (or none were sent). Set DOCKER_AUTH_CONFIG for the job or log the runner host in with \`docker login\`.`
  if (/not found|manifest unknown|pull access denied|repository does not exist/.test(e)) return `The registry has no image "${image}" (or it is private and no credentials were sent). Check the name and tag, and credentials for private images.`
  if (/x509|certificate|tls:/.test(e)) return `TLS with the registry failed: the engine does not trust its certificate. Install the registry's CA in /etc/docker/certs.d/<registry>/ca.crt on the engine host.`
  if (/http response to https client/.test(e)) return `The registry speaks plain HTTP. Add it to "insecure-registries" in the engine's daemon.json, or serve it over HTTPS.`
  if (/no such host|server misbehaving|name or service not known|temporary failure in name resolution/.test(e)) return `The registry's name does not resolve from the engine host. Check DNS there (or the image name).${local}`
  if (/connection refused/.test(e)) return `Nothing listens at the registry's address: the registry is down or the port is wrong.${local}`
  if (/i\/o timeout|timeout|no route to host|network is unreachable|deadline exceeded/.test(e)) return `The engine host cannot reach the registry (a firewall or missing route: connections time out). Open egress to it, set a proxy or mirror for the engine, or use images already present.${local}`
  return `The engine could not pull the image.${local}`
}
