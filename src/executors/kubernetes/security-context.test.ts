import { describe, expect, it } from 'vitest'
import { kubernetesOptions } from './options.js'
import { containerContextWithIds, containerSecurityContext, podSecurityContext } from './security-context.js'

const opts = (raw: Record<string, unknown>) => kubernetesOptions({ raw, pullPolicy: [], hostAliases: [], pollInterval: 3, pollTimeout: 180, imagePullSecrets: [] })
const caps = (raw: Record<string, unknown>, kind: 'build' | 'helper' = 'build') => containerSecurityContext(opts(raw), kind)?.['capabilities']

describe('security contexts as gitlab-runner builds them (common/config.go)', () => {
  it('cap_add and cap_drop over the default drop of NET_RAW: cap_drop adds to it, cap_add takes one out', () => {
    expect(caps({})).toEqual({ drop: ['NET_RAW'] })
    expect(caps({ cap_drop: ['SYS_ADMIN'] })).toEqual({ drop: ['NET_RAW', 'SYS_ADMIN'] })
    expect(caps({ cap_add: ['NET_RAW'] })).toEqual({ add: ['NET_RAW'] })
    expect(caps({ cap_add: ['SYS_TIME', 'NET_RAW'], cap_drop: ['NET_RAW'] })).toEqual({ add: ['SYS_TIME'], drop: ['NET_RAW'] })
  })

  it('a kind\'s own capabilities replace the runner-wide list they name, the other stays', () => {
    const raw = { cap_add: ['SYS_TIME'], build_container_security_context: { capabilities: { drop: ['ALL'] } } }
    expect(caps(raw)).toEqual({ add: ['SYS_TIME'], drop: ['ALL'] })
    expect(caps(raw, 'helper')).toEqual({ add: ['SYS_TIME'], drop: ['NET_RAW'] })
  })

  it('a kind\'s privileged / allow_privilege_escalation win over the runner-wide ones', () => {
    const raw = { privileged: true, allow_privilege_escalation: true, helper_container_security_context: { privileged: false } }
    expect(containerSecurityContext(opts(raw), 'build')).toMatchObject({ privileged: true, allowPrivilegeEscalation: true })
    expect(containerSecurityContext(opts(raw), 'helper')).toMatchObject({ privileged: false, allowPrivilegeEscalation: true })
  })

  it('the pod\'s context only when it sets something; a Localhost profile needs its file', () => {
    expect(podSecurityContext({})).toBeUndefined()
    expect(podSecurityContext({ run_as_user: 1000, seccomp_profile: { type: 'Localhost' } })).toEqual({ runAsUser: 1000 })
    expect(podSecurityContext({ seccomp_profile: { type: 'Localhost', localhost_profile: 'ci.json' } })).toEqual({ seccompProfile: { type: 'Localhost', localhostProfile: 'ci.json' } })
  })

  it('the job\'s image user (uid:gid): used where config.toml sets none, validated against allowed_users / allowed_groups, root only when listed', () => {
    expect(containerContextWithIds(opts({}), 'build', 'build', '1234:5678').context).toMatchObject({ runAsUser: 1234, runAsGroup: 5678 })
    const root = containerContextWithIds(opts({}), 'build', 'build', '0')
    expect(root.context?.['runAsUser']).toBeUndefined()
    expect(root.lines[0]).toContain('WARNING: Error parsing \'uid\' from image options for container "build", using the configured security context: validating UID: user "0" is not in the allowed list: []')
    expect(containerContextWithIds(opts({ allowed_users: ['0'] }), 'build', 'build', '0').context).toMatchObject({ runAsUser: 0 })
    expect(containerContextWithIds(opts({ allowed_users: ['1000'] }), 'build', 'build', '1001').lines[0]).toContain('user "1001" is not in the allowed list: [1000]')
    expect(containerContextWithIds(opts({}), 'build', 'build', 'nobody').lines[0]).toContain('failed to parse UID')
  })

  it('a security context in config.toml wins over the job\'s user, and says so; the pod\'s run_as_user reaches every container', () => {
    const r = containerContextWithIds(opts({ build_container_security_context: { run_as_user: 1000 }, pod_security_context: { run_as_group: 3000 } }), 'build', 'build', '1234:5678')
    expect(r.context).toMatchObject({ runAsUser: 1000, runAsGroup: 3000 })
    expect(r.lines).toEqual([
      'Overriding user for container "build" to "1234" is not allowed: user is set to 1000 in container security context',
      'Overriding group for container "build" to "5678" is not allowed: group is set to 3000 in pod security context',
    ])
  })

  it('ids past what a container user can be are refused, not rounded', () => {
    expect(containerContextWithIds(opts({}), 'build', 'build', '9223372036854775808').lines[0]).toContain('value out of range')
    expect(containerContextWithIds(opts({}), 'build', 'build', '9007199254740993').context?.['runAsUser']).toBeUndefined()
  })
})
