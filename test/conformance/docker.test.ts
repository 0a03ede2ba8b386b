import { beforeAll } from 'vitest'
import { DockerExecutor } from '../../src/executors/docker/docker-executor.js'
import { TEST_DOCKER_HOST, dockerSkip, requireEngine } from '../support/docker-env.js'
import { describeExecutorConformance } from './executor-conformance.js'

/** Skipped, and saying why, without an engine outside CI (see test/support/docker-env.ts). */
const skip = dockerSkip(import.meta.url)

beforeAll(() => requireEngine())

describeExecutorConformance('docker', () => new DockerExecutor({ host: TEST_DOCKER_HOST, image: 'busybox:latest', pullPolicy: ['if-not-present'] }), skip)
