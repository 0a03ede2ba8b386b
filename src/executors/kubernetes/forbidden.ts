/**
 * What an apiserver's Forbidden message says (k8s.io/apiserver responsewriters forbiddenMessage):
 * `User "<u>" cannot <verb> resource "<resource>" in API group "<g>" in the namespace "<ns>"`.
 */
export interface Denial { user: string; verb: string; resource: string; group: string; namespace?: string }

const FORBIDDEN = /User "([^"]+)" cannot (\w+) resource "([^"]+)" in API group "([^"]*)"(?: in the namespace "([^"]+)"| at the cluster scope)?/

export function parseDenial(message: string): Denial | undefined {
  const m = FORBIDDEN.exec(message)
  if (!m) return undefined
  return { user: m[1]!, verb: m[2]!, resource: m[3]!, group: m[4]!, ...(m[5] ? { namespace: m[5] } : {}) }
}

/** The Role rule that would allow what was denied, for the hint (the runner docs' role grants these). */
export function denialHint(d: Denial): string {
  const sa = /^system:serviceaccount:([^:]+):(.+)$/.exec(d.user)
  const who = sa ? `the service account ${sa[2]} (namespace ${sa[1]})` : `the user ${d.user}`
  const [resource, sub] = d.resource.split('/')
  return `${who} may not ${d.verb} ${d.resource}${d.namespace ? ` in the namespace ${d.namespace}` : ''}. Grant it in the Role bound to it (the Helm chart's rbac.rules), e.g. ` +
    `{ apiGroups: ["${d.group}"], resources: ["${resource}${sub ? `/${sub}` : ''}"], verbs: ["${d.verb}"${sub === 'exec' || sub === 'attach' ? ', "get"' : ''}] }; ` +
    '`glrun doctor --config config.toml` lists every permission the kubernetes executor needs and which are missing.'
}
