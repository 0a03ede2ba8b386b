import { describe, expect, it } from 'vitest'
import { denialHint, parseDenial } from './forbidden.js'

// The apiserver's Forbidden messages (k8s.io/apiserver responsewriters forbiddenMessage), as
// quoted in hardillb/multi-tenant-node-red-k8s#4 and flanksource/config-db#259.
describe('parseDenial', () => {
  it('a create (no name) in a namespace', () => {
    const d = parseDenial('pods is forbidden: User "system:serviceaccount:ci:runner" cannot create resource "pods" in API group "" in the namespace "ci"')
    expect(d).toEqual({ user: 'system:serviceaccount:ci:runner', verb: 'create', resource: 'pods', group: '', namespace: 'ci' })
    expect(denialHint(d!)).toContain('the service account runner (namespace ci) may not create pods in the namespace ci')
  })

  it('a subresource: the exec that runs the scripts', () => {
    const d = parseDenial('pods "postgresql-0" is forbidden: User "system:serviceaccount:ci:runner" cannot create resource "pods/exec" in API group "" in the namespace "ci"')
    expect(d?.resource).toBe('pods/exec')
    expect(denialHint(d!)).toContain('resources: ["pods/exec"], verbs: ["create", "get"]')
  })

  it('not a Forbidden message', () => expect(parseDenial('pods "x" not found')).toBeUndefined())
})
