import { describe, expect, it } from 'vitest'
import { parseImageRef, serviceHostnames, withDefaultTag } from './image-ref.js'

describe('image references', () => {
  it('reads registry, path, tag and digest as the engine does', () => {
    expect(parseImageRef('busybox')).toEqual({ registry: 'docker.io', path: 'busybox' })
    expect(parseImageRef('busybox:latest')).toEqual({ registry: 'docker.io', path: 'busybox', tag: 'latest' })
    expect(parseImageRef('registry.mylab.com/root/app:abc')).toEqual({ registry: 'registry.mylab.com', path: 'root/app', tag: 'abc' })
    expect(parseImageRef('127.0.0.1:5000/x/y')).toEqual({ registry: '127.0.0.1:5000', path: 'x/y' })
    expect(parseImageRef('localhost/y:1')).toEqual({ registry: 'localhost', path: 'y', tag: '1' })
    expect(parseImageRef(`alpine@sha256:${'a'.repeat(64)}`)?.digest).toBe(`sha256:${'a'.repeat(64)}`)
  })
  it('refuses what docker calls "invalid reference format"', () => {
    for (const bad of [':latest', 'Busybox', 'registry.mylab.com/root/app:', 'a b', '$CI_REGISTRY_IMAGE:x', 'x:tag with space', 'img@sha256:zz']) {
      expect(parseImageRef(bad), bad).toBeUndefined()
    }
  })
  it('completes the latest tag', () => {
    expect(withDefaultTag('busybox')).toBe('busybox:latest')
    expect(withDefaultTag('127.0.0.1:5000/x')).toBe('127.0.0.1:5000/x:latest')
    expect(withDefaultTag('alpine:3')).toBe('alpine:3')
  })
  it('derives service aliases like gitlab-runner', () => {
    expect(serviceHostnames('postgres:16')).toEqual(['postgres'])
    expect(serviceHostnames('docker:dind')).toEqual(['docker'])
    expect(serviceHostnames('tutum/wordpress:latest')).toEqual(['tutum__wordpress', 'tutum-wordpress'])
    expect(serviceHostnames('registry.example.com/ns/db:1')).toEqual(['registry.example.com__ns__db', 'registry.example.com-ns-db'])
    // GitLab's documented example: the registry port is dropped.
    expect(serviceHostnames('registry.gitlab-wp.com:4999/tutum/wordpress')).toEqual(['registry.gitlab-wp.com__tutum__wordpress', 'registry.gitlab-wp.com-tutum-wordpress'])
    expect(serviceHostnames('postgres@sha256:' + 'a'.repeat(64), 'db, pg')).toEqual(['postgres', 'db', 'pg'])
  })
})
