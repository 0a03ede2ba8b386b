import type { PullPolicy } from './pull.js'

/** A service from [[runners.docker.services]] (they start before the job's own services). */
export interface ConfigService {
  name: string
  alias?: string
  command?: string[]
  entrypoint?: string[]
  environment?: string[]
}

/**
 * What the Docker executor takes from config.toml ([runners.docker] and the runner's own keys).
 * Every field is optional: with none, jobs run like `docker run` on the local engine.
 */
export interface DockerExecutorOptions {
  host?: string
  tlsVerify?: boolean
  tlsCertPath?: string
  /** Used when the job has no image: (gitlab-runner's [runners.docker] image). */
  image?: string
  /** The image that runs get_sources for GIT_STRATEGY clone/fetch (needs sh and git). */
  helperImage?: string
  hostname?: string
  privileged?: boolean
  servicesPrivileged?: boolean
  networkMode?: string
  extraHosts?: string[]
  dns?: string[]
  dnsSearch?: string[]
  /** `"/ctr"` (an anonymous volume per job) or `"/host:/ctr[:ro]"` binds. */
  volumes?: string[]
  pullPolicy?: PullPolicy[]
  allowedPullPolicies?: PullPolicy[]
  allowedImages?: string[]
  allowedServices?: string[]
  /** Seconds; 0/unset = 30, negative = do not wait. */
  waitForServicesTimeout?: number
  memory?: string
  cpus?: string
  capAdd?: string[]
  capDrop?: string[]
  shmSize?: number
  user?: string
  disableEntrypointOverwrite?: boolean
  services?: ConfigService[]
}
