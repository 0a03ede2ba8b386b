import type { JobPayload } from '../payload/types.js'
import { type RunnerVariable, expandAll } from './variables/runner-expand.js'

export const GLRUN_VERSION = '0.1.0'

export interface ExecutorFacts {
  executor: string
  projectDir: string
  buildsDir: string
  /** shell executors share the machine (CI_SHARED_ENVIRONMENT); containers are disposable. */
  shared: boolean
  timeoutSeconds: number
  /** config.toml `environment` entries ("KEY=VALUE"): below the job's own variables. */
  environment?: readonly string[]
  /** The runner's tls-ca-file contents: becomes the file variable CI_SERVER_TLS_CA_FILE. */
  caPem?: string
}

/**
 * The variables a job's scripts see, in gitlab-runner's order (later wins): runner-added ones
 * (CI_PROJECT_DIR, CI_BUILDS_DIR, CI_SERVER, CI_JOB_STATUS, CI_JOB_TIMEOUT, …), then the job's
 * own from the payload, then what the job may not override (CI_SHARED_ENVIRONMENT,
 * CI_RUNNER_VERSION, …). Values are expanded once, like the runner does.
 */
export function jobVariables(job: JobPayload, facts: ExecutorFacts, status = 'running', dotenv: readonly { key: string; value: string }[] = []): RunnerVariable[] {
  const runner = (key: string, value: string): RunnerVariable => ({ key, value, public: true })
  const list: RunnerVariable[] = [
    ...(job.image ? [runner('CI_JOB_IMAGE', job.image.name)] : []),
    ...(facts.environment ?? []).filter((kv) => kv.includes('=')).map((kv): RunnerVariable => ({ key: kv.slice(0, kv.indexOf('=')), value: kv.slice(kv.indexOf('=') + 1), public: false })),
    runner('CI_BUILDS_DIR', facts.buildsDir),
    runner('CI_PROJECT_DIR', facts.projectDir),
    runner('CI_CONCURRENT_ID', '0'),
    runner('CI_CONCURRENT_PROJECT_ID', '0'),
    runner('CI_SERVER', 'yes'),
    runner('CI_JOB_STATUS', status),
    runner('CI_JOB_TIMEOUT', String(facts.timeoutSeconds)),
    ...(facts.caPem ? [{ key: 'CI_SERVER_TLS_CA_FILE', value: facts.caPem, file: true, public: true } satisfies RunnerVariable] : []),
    ...job.variables.map((v): RunnerVariable => ({ key: v.key, value: v.value, ...(v.raw ? { raw: true } : {}), ...(v.file ? { file: true } : {}), ...(v.masked ? { masked: true } : {}), public: v.public })),
    // dotenv reports of the jobs this one depends on (GitLab ranks them above YAML variables).
    ...dotenv.map((v): RunnerVariable => ({ key: v.key, value: v.value, public: true })),
    facts.shared ? runner('CI_SHARED_ENVIRONMENT', 'true') : runner('CI_DISPOSABLE_ENVIRONMENT', 'true'),
    runner('CI_RUNNER_VERSION', GLRUN_VERSION),
    runner('CI_RUNNER_REVISION', 'glrun'),
    runner('CI_RUNNER_EXECUTABLE_ARCH', `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`),
    runner('RUNNER_TEMP_PROJECT_DIR', `${facts.projectDir}.tmp`),
  ]
  return expandAll(list, (key) => `${facts.projectDir}.tmp/${key}`)
}

/** The values to mask: masked variables plus the job token. */
export function maskedValues(job: JobPayload): string[] {
  return [...job.variables.filter((v) => v.masked).map((v) => v.value), job.token]
}
