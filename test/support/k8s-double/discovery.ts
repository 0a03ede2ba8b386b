import type { DoubleContext } from './context.js'
import { KINDS, POD_SUBRESOURCES } from './kinds.js'
import type { Account, Rbac } from './rbac.js'
import { badRequest } from './status.js'

/**
 * The non-resource endpoints: GET /version, legacy discovery (/api, /apis, /api/v1,
 * /apis/<group>/<version>), and POST selfsubjectaccessreviews answered from the same role table
 * the requests are authorized with. The aggregated-discovery Accept types are answered with
 * the legacy documents, which clients (kubectl, client-go) fall back to.
 */
export function version(ctx: DoubleContext): Record<string, string> {
  const m = /^v(\d+)\.(\d+)/.exec(ctx.gitVersion)
  return {
    major: m?.[1] ?? '1', minor: m?.[2] ?? '33', gitVersion: ctx.gitVersion, gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean', buildDate: '2025-06-17T18:41:27Z', goVersion: 'go1.24.4', compiler: 'gc', platform: 'linux/amd64',
  }
}

export function apiVersions(host: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: host }] }
}

const GROUPS: { name: string; version: string }[] = [
  { name: 'authorization.k8s.io', version: 'v1' },
  { name: 'policy', version: 'v1' },
]

export function apiGroups(): Record<string, unknown> {
  return {
    kind: 'APIGroupList', apiVersion: 'v1',
    groups: GROUPS.map((g) => {
      const gv = { groupVersion: `${g.name}/${g.version}`, version: g.version }
      return { name: g.name, versions: [gv], preferredVersion: gv }
    }),
  }
}

/** The APIResourceList of one group version, or undefined when the double does not serve it. */
export function resourceList(group: string, version: string): Record<string, unknown> | undefined {
  const groupVersion = group ? `${group}/${version}` : version
  const resources: Record<string, unknown>[] = []
  for (const k of KINDS.filter((k) => k.group === group && k.version === version)) {
    resources.push({ name: k.resource, singularName: k.singular, namespaced: k.namespaced, kind: k.kind, verbs: k.verbs, ...(k.shortNames ? { shortNames: k.shortNames } : {}) })
    if (k.resource === 'pods') for (const s of POD_SUBRESOURCES) resources.push({ name: s.name, singularName: '', namespaced: true, kind: s.kind, verbs: s.verbs })
  }
  if (group === 'authorization.k8s.io' && version === 'v1') {
    resources.push({ name: 'selfsubjectaccessreviews', singularName: 'selfsubjectaccessreview', namespaced: false, kind: 'SelfSubjectAccessReview', verbs: ['create'] })
  }
  if (resources.length === 0) return undefined
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources }
}

/**
 * POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews: every authenticated user may
 * create it (system:basic-user); the answer is the RBAC decision for the asked attributes.
 */
export function selfSubjectAccessReview(rbac: Rbac, account: Account, body: any): Record<string, unknown> {
  const ra = body?.spec?.resourceAttributes
  const nra = body?.spec?.nonResourceAttributes
  if (!ra && !nra) throw badRequest('SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified')
  let allowed = false
  if (ra) {
    allowed = rbac.allowed(account, {
      verb: ra.verb ?? '', group: ra.group ?? '', resource: ra.resource ?? '', subresource: ra.subresource || undefined,
      namespace: ra.namespace || undefined, name: ra.name || undefined,
    })
  } else {
    // Non-resource URLs (/version, /healthz …) are public-info for every authenticated user.
    allowed = ['/version', '/healthz', '/livez', '/readyz', '/api', '/apis'].includes(nra.path) && nra.verb === 'get'
  }
  const status: Record<string, unknown> = { allowed }
  if (allowed) status.reason = `RBAC: allowed by RoleBinding "k8s-double" of Role "k8s-double" to ServiceAccount "${account.serviceAccount.split(':')[1]}/${account.serviceAccount.split(':')[0]}"`
  return {
    kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null, ...(body?.metadata ?? {}) }, spec: body.spec, status,
  }
}
