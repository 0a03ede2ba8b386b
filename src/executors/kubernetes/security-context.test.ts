import { describe, expect, it } from 'vitest'
import { kubernetesOptions } from './options.js'
import { containerSecurityContext, podSecurityContext } from './security-context.js'

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
})
