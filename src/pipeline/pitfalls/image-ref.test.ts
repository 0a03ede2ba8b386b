import { describe, expect, it } from 'vitest'
import { serviceHostnames } from '../../executors/docker/image-ref.js'
import { isRepository, parseImageRef } from './image-ref.js'

describe('image references', () => {
  it('splits registry, repository and tag; Docker Hub prefixes do not matter', () => {
    expect(parseImageRef('docker.io/library/docker:24.0-dind')).toEqual({ repository: 'docker', tag: '24.0-dind', written: 'docker.io/library/docker' })
    expect(parseImageRef('registry.example.com:5000/tools/kubectl@sha256:abc')).toEqual({ repository: 'registry.example.com:5000/tools/kubectl', tag: '', written: 'registry.example.com:5000/tools/kubectl' })
    expect(parseImageRef('$IMAGE:1')).toBeUndefined()
  })
  it('matches a repository through mirrors and the dependency proxy, not look-alikes', () => {
    const proxied = parseImageRef('gitlab.example.com:443/group/dependency_proxy/containers/hashicorp/terraform:1.6')!
    expect(isRepository(proxied, 'hashicorp/terraform')).toBe(true)
    expect(isRepository(parseImageRef('hashicorp/terraform-ls')!, 'hashicorp/terraform')).toBe(false)
  })
  it('service host names: the written name with / as __ and as -, plus every alias', () => {
    expect(serviceHostnames('docker:dind', 'dind')).toEqual(['docker', 'dind'])
    expect(serviceHostnames('registry.example.com:5000/mirror/docker:dind', 'a, b')).toEqual(['registry.example.com__mirror__docker', 'registry.example.com-mirror-docker', 'a', 'b'])
  })
})
