import { beforeAll } from 'vitest'
import { DockerExecutor } from '../../src/executors/docker/docker-executor.js'
import { TEST_DOCKER_HOST, requireEngine } from '../support/docker-env.js'
import { describeExecutorConformance } from './executor-conformance.js'

beforeAll(() => requireEngine())

describeExecutorConformance('docker', () => new DockerExecutor({ host: TEST_DOCKER_HOST, image: 'busybox:latest', pullPolicy: ['if-not-present'] }))
