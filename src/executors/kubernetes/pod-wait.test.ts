import type { V1ContainerStatus } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'
import { classifyPullFailure, terminalContainerError } from './pod-wait.js'

// Container statuses as an apiserver serves them. Texts: kubelet pkg/kubelet/images/image_manager.go
// (pre-1.32 back-off message), kubernetes/kubernetes PR #127918 (1.32+: the last pull error appended),
// containerd's resolver errors as quoted in cvisionai/tator#439 and pfnet/image-pull-secrets-provisioner#31.
const waiting = (name: string, image: string, reason: string, message: string): V1ContainerStatus => ({
  name, image, imageID: '', ready: false, restartCount: 0, started: false, state: { waiting: { reason, message } }, lastState: {},
})
const images = new Map([['build', 'alpine:nope'], ['helper', 'helper:1'], ['svc-0', 'postgres:16']])

describe('terminalContainerError: gitlab-runner\'s CheckTerminalContainerErrors', () => {
  it('ImagePullBackOff, the short message of Kubernetes before 1.32', () => {
    const e = terminalContainerError([waiting('build', 'alpine:nope', 'ImagePullBackOff', 'Back-off pulling image "alpine:nope"')], images)
    expect(e?.message).toBe('prepare environment: waiting for pod running: pulling image "alpine:nope" for container build: image pull failed: Back-off pulling image "alpine:nope"')
    expect(e?.failureReason).toBe('image_pull_failure')
  })

  it('ImagePullBackOff since 1.32 carries the pull error, which decides the failure reason', () => {
    const msg = 'Back-off pulling image "registry.internal:5000/x:1": ErrImagePull: rpc error: code = Unknown desc = failed to pull and unpack image "registry.internal:5000/x:1": failed to resolve reference "registry.internal:5000/x:1": failed to do request: Head "https://registry.internal:5000/v2/x/manifests/1": dial tcp 10.0.0.9:5000: i/o timeout'
    const e = terminalContainerError([waiting('build', 'registry.internal:5000/x:1', 'ImagePullBackOff', msg)], new Map([['build', 'registry.internal:5000/x:1']]))
    expect(e?.message).toContain(`image pull failed: ${msg}`)
    expect(e?.failureReason).toBe('runner_external_dependency_failure')
  })

  it('ErrImagePull of a tag that does not exist is a configuration error', () => {
    const msg = 'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/alpine:nope": failed to resolve reference "docker.io/library/alpine:nope": docker.io/library/alpine:nope: not found'
    const e = terminalContainerError([waiting('build', 'alpine:nope', 'ErrImagePull', msg)], images)
    expect(e?.failureReason).toBe('runner_configuration_error')
  })

  it('a service container and an init container count as much as build', () => {
    expect(terminalContainerError([waiting('svc-0', 'postgres:16', 'ErrImagePull', 'pull access denied, repository does not exist or may require authorization')], images)?.message)
      .toContain('pulling image "postgres:16" for container svc-0')
  })

  it('CreateContainerConfigError and CrashLoopBackOff', () => {
    expect(terminalContainerError([waiting('build', 'x', 'CreateContainerConfigError', 'secret "db" not found')], images)?.message).toContain('container configuration error: secret "db" not found')
    const crash: V1ContainerStatus = { ...waiting('svc-0', 'postgres:16', 'CrashLoopBackOff', 'back-off 10s restarting failed container'), lastState: { terminated: { exitCode: 1, message: 'initdb: error' } } }
    expect(terminalContainerError([crash], images)?.message).toContain('container "svc-0" is in CrashLoopBackOff: back-off 10s restarting failed container: initdb: error')
  })

  it('ContainerCreating and PodInitializing are not terminal', () => {
    expect(terminalContainerError([waiting('build', 'x', 'ContainerCreating', ''), waiting('helper', 'y', 'PodInitializing', '')], images)).toBeUndefined()
  })
})

describe('classifyPullFailure (common/classify_image_pull_failure.go)', () => {
  it.each([
    ['dial tcp: lookup registry.invalid on 127.0.0.53:53: no such host', 'runner_external_dependency_failure'],
    ['connection refused', 'runner_external_dependency_failure'],
    ['manifest unknown', 'runner_configuration_error'],
    ['unexpected status from HEAD request: 401 Unauthorized', 'runner_configuration_error'],
    ['toomanyrequests: You have reached your pull rate limit', 'image_pull_failure'],
  ])('%s → %s', (msg, reason) => expect(classifyPullFailure(msg)).toBe(reason))
})
