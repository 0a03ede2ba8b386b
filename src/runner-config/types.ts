import type { DockerExecutorOptions } from '../executors/docker/options.js'
import type { PullPolicy } from '../payload/types.js'

/** One `[[runners]]` entry, with what glrun uses named and typed. */
export interface RunnerSettings {
  name: string
  url?: string
  token?: string
  executor: string
  shell?: string
  buildsDir?: string
  cacheDir?: string
  cloneUrl?: string
  /** "KEY=VALUE" entries added to every job (below the job's own variables). */
  environment: string[]
  limit: number
  /** How many `/jobs/request` calls may be under way at once for this runner (gitlab-runner's default 1). */
  requestConcurrency: number
  /** Failed job requests in a row (403, network errors) after which the runner is skipped for `unhealthyIntervalMs`. */
  unhealthyRequestsLimit: number
  unhealthyIntervalMs: number
  /** Trace size limit in KiB (gitlab-runner's default 4096). */
  outputLimitKb: number
  preGetSourcesScript?: string
  postGetSourcesScript?: string
  preBuildScript?: string
  postBuildScript?: string
  tlsCaFile?: string
  tlsCertFile?: string
  tlsKeyFile?: string
  featureFlags: Record<string, boolean>
  docker?: DockerExecutorOptions
  kubernetes?: KubernetesSettings
}

/** [runners.kubernetes]: parsed and validated; the executor's typed view is executors/kubernetes/options.ts. */
export interface KubernetesSettings {
  namespace?: string
  image?: string
  helperImage?: string
  pullPolicy: PullPolicy[]
  hostAliases: { ip: string; hostnames: string[] }[]
  dnsPolicy?: string
  privileged?: boolean
  pollInterval: number
  pollTimeout: number
  serviceAccount?: string
  imagePullSecrets: string[]
  /** Every other key as written. */
  raw: Record<string, unknown>
}

export interface RunnerConfigFile {
  path: string
  concurrent: number
  checkInterval: number
  logLevel?: string
  /** `host:port` where `glrun runner` serves Prometheus metrics (gitlab-runner's listen_address). */
  listenAddress?: string
  runners: RunnerSettings[]
}
