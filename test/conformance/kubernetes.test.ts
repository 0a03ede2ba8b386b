import { afterAll, beforeAll } from 'vitest'
import { dockerSkip, requireEngine } from '../support/docker-env.js'
import { type K8sEnv, startK8sEnv } from '../support/k8s-env.js'
import { describeExecutorConformance } from './executor-conformance.js'

/**
 * The conformance suite on the kubernetes executor: pods made through the Kubernetes API double
 * (real HTTPS, WebSocket exec/attach, schema-checked requests) and run on the test Docker
 * engine; once with gitlab-runner's default attach strategy, once with the legacy exec strategy
 * ([runners.feature_flags] FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY = true).
 */
const skip = dockerSkip(import.meta.url)
let env: K8sEnv | undefined

beforeAll(async () => {
  requireEngine()
  env = await startK8sEnv()
}, 60_000)

afterAll(async () => {
  await env?.close()
}, 60_000)

describeExecutorConformance('kubernetes', () => env!.executor(), skip)
describeExecutorConformance('kubernetes-exec', () => env!.executor(undefined, undefined, { FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY: true }), skip)
