import { ApiError, failure, forbidden } from './status.js'

/** One PolicyRule of a Role bound to the token's service account. `resources` like 'pods', 'pods/exec', '*', '*\/exec'. */
export interface RbacRule { apiGroups: string[]; resources: string[]; verbs: string[] }

export interface Account { token: string; serviceAccount: string; rules: RbacRule[] }

/** What the authorizer is asked: the apiserver's authorizer.Attributes for a resource request. */
export interface Attributes {
  verb: string
  group: string
  resource: string
  subresource?: string
  namespace?: string
  name?: string
}

/**
 * Bearer tokens → service accounts, and the RBAC decision for each request, answering with the
 * Forbidden Status the apiserver's `forbiddenMessage` builds (responsewriters/errors.go).
 */
export class Rbac {
  private readonly byToken = new Map<string, Account>()

  constructor(accounts: Record<string, { serviceAccount: string; rules: RbacRule[] }>) {
    for (const [token, a] of Object.entries(accounts)) this.byToken.set(token, { token, ...a })
  }

  /** The account of `Authorization: Bearer <token>`; anything else is 401 (anonymous auth is off, as on managed clusters). */
  authenticate(header: string | undefined): Account {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
    const account = m ? this.byToken.get(m[1]!) : undefined
    if (!account) throw new ApiError(failure(401, 'Unauthorized', 'Unauthorized'))
    return account
  }

  allowed(account: Account, a: Attributes): boolean {
    const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource
    return account.rules.some((r) =>
      (r.apiGroups.includes('*') || r.apiGroups.includes(a.group)) &&
      (r.verbs.includes('*') || r.verbs.includes(a.verb)) &&
      r.resources.some((x) => resourceMatches(x, a.resource, resource, a.subresource)))
  }

  /** Throws the apiserver's 403 unless allowed. */
  authorize(account: Account, a: Attributes): void {
    if (this.allowed(account, a)) return
    throw forbidden(a.resource, a.name ?? '', forbiddenReason(account, a), a.group)
  }
}

/** `system:serviceaccount:<ns>:<name>` — the user name RBAC messages show for a service-account token. */
export function userName(account: Account): string {
  return `system:serviceaccount:${account.serviceAccount}`
}

/** `User "…" cannot get resource "pods/exec" in API group "" in the namespace "ci"` (or `at the cluster scope`). */
export function forbiddenReason(account: Account, a: Attributes): string {
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope'
  return `User "${userName(account)}" cannot ${a.verb} resource "${resource}" in API group "${a.group}" ${scope}`
}

function resourceMatches(rule: string, resource: string, full: string, subresource?: string): boolean {
  if (rule === '*' || rule === full) return true
  // RBAC: "*/exec" matches every resource's exec subresource; "pods/*" is not a thing in RBAC (it would only match literally).
  return subresource !== undefined && rule === `*/${subresource}` && resource !== ''
}

/** Every verb on every resource in every group: the default admin's rule. */
export const ALL: RbacRule[] = [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]
