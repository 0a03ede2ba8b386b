import { AuthorizationV1Api } from '@kubernetes/client-node'
import { apiErrorText, apiStatus, coreApi, kubeConfigFor } from '../executors/kubernetes/client.js'
import { kubernetesOptions } from '../executors/kubernetes/options.js'
import type { RunnerSettings } from '../runner-config/types.js'
import type { Finding } from './types.js'

interface Need { verb: string; resource: string; subresource?: string; why: string; optional?: boolean }

/** What glrun's kubernetes executor asks of the API, and why (attach adds pods/attach). */
function needed(attach: boolean): Need[] {
  if (!attach) return NEEDED
  const exec = 'move the job\'s files and end a canceled stage in the pod'
  return [
    ...NEEDED.map((n) => (n.subresource === 'exec' ? { ...n, why: n.verb === 'get' ? `${exec} (a WebSocket exec is authorized as get)` : exec } : n)),
    { verb: 'create', resource: 'pods', subresource: 'attach', why: 'run the job\'s scripts in the pod (attach strategy)' },
    { verb: 'get', resource: 'pods', subresource: 'attach', why: 'run the job\'s scripts in the pod (a WebSocket attach is authorized as get)' },
  ]
}

const NEEDED: Need[] = [
  { verb: 'create', resource: 'pods', why: 'create the job pod' },
  { verb: 'get', resource: 'pods', why: 'wait for the pod to run' },
  { verb: 'delete', resource: 'pods', why: 'remove the pod after the job' },
  { verb: 'list', resource: 'pods', why: 'find pods a killed glrun left behind' },
  { verb: 'watch', resource: 'pods', why: 'see the pod start without waiting a whole poll_interval', optional: true },
  { verb: 'create', resource: 'pods', subresource: 'exec', why: 'run the job\'s scripts in the pod' },
  { verb: 'get', resource: 'pods', subresource: 'exec', why: 'run the job\'s scripts in the pod (a WebSocket exec is authorized as get)' },
  { verb: 'list', resource: 'events', why: 'show the pod\'s warning events when it fails to start', optional: true },
  { verb: 'create', resource: 'secrets', why: 'pass the job\'s registry credentials as a pull secret', optional: true },
  { verb: 'delete', resource: 'secrets', why: 'remove that pull secret', optional: true },
]

/**
 * What the runner's credentials may do in its namespace, asked the way kubectl auth can-i asks
 * (SelfSubjectAccessReview: needs no permission of its own), plus what the pods will refer to:
 * the namespace, the service account and the image pull secrets. Found here, a missing rule is
 * one line of the Role; found by a job, it is a failed job.
 */
export async function checkKubernetesAccess(scope: string, runner: RunnerSettings | undefined): Promise<Finding[]> {
  const opts = kubernetesOptions(runner?.kubernetes, runner?.featureFlags)
  let conn: ReturnType<typeof kubeConfigFor>
  try {
    conn = kubeConfigFor(opts)
  } catch (e) {
    return [{ scope, check: 'kubernetes-rbac', status: 'fail', what: (e as Error).message, fix: 'Give the runner an API server first (see the kubernetes finding above).' }]
  }
  const core = coreApi(conn.kc)
  const auth = conn.kc.makeApiClient(AuthorizationV1Api)
  // namespace_per_job: the pods go to ci-job-<id> namespaces made per job; the rules asked are the
  // same, in such a namespace (a ClusterRole), plus creating and deleting namespaces.
  const ns = opts.namespacePerJob ? 'ci-job-0' : opts.namespace
  const out: Finding[] = []
  if (opts.namespacePerJob) {
    for (const verb of ['create', 'delete']) {
      try {
        const r = await auth.createSelfSubjectAccessReview({ body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb, resource: 'namespaces' } } } })
        if (!r.status?.allowed) out.push({ scope, check: 'kubernetes-rbac', status: 'fail', what: `namespace_per_job is on but the runner may not ${verb} namespaces: every job would fail before its pod`, fix: 'Bind the runner\'s service account to a ClusterRole with these rules (pods and their exec/attach in any namespace, too):', snippet: '- apiGroups: [""]\n  resources: ["namespaces"]\n  verbs: ["create", "delete"]' })
      } catch (e) {
        out.push({ scope, check: 'kubernetes-rbac', status: 'warn', what: `the runner's permissions could not be checked: ${apiErrorText(e)}` })
        return out
      }
    }
  } else {
    try {
      await core.readNamespace({ name: ns })
      out.push({ scope, check: 'kubernetes-namespace', status: 'ok', what: `the namespace ${ns} exists` })
    } catch (e) {
      const s = apiStatus(e)
      if (s?.code === 404) out.push({ scope, check: 'kubernetes-namespace', status: 'fail', what: `the namespace ${ns} does not exist: every job pod would be refused`, fix: `Create it (kubectl create namespace ${ns}) or set namespace under [runners.kubernetes] to one that exists.` })
      else if (s?.code !== 403) out.push({ scope, check: 'kubernetes-namespace', status: 'warn', what: `the namespace ${ns} could not be checked: ${apiErrorText(e)}` })
    }
  }
  const denied: string[] = []
  const deniedOptional: string[] = []
  const attach = opts.featureFlags['FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY'] !== true
  for (const n of needed(attach)) {
    const what = `${n.verb} ${n.resource}${n.subresource ? `/${n.subresource}` : ''}`
    try {
      const r = await auth.createSelfSubjectAccessReview({ body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { namespace: ns, verb: n.verb, resource: n.resource, ...(n.subresource ? { subresource: n.subresource } : {}) } } } })
      if (!r.status?.allowed) (n.optional ? deniedOptional : denied).push(`${what} (to ${n.why})`)
    } catch (e) {
      out.push({ scope, check: 'kubernetes-rbac', status: 'warn', what: `the runner's permissions could not be checked: ${apiErrorText(e)}` })
      return out
    }
  }
  const role = (list: string[]): string => {
    const byResource = new Map<string, string[]>()
    for (const l of list) {
      const [verb, res] = l.split(' ')
      byResource.set(res!, [...(byResource.get(res!) ?? []), verb!])
    }
    return [...byResource].map(([res, verbs]) => `- apiGroups: [""]\n  resources: ["${res}"]\n  verbs: [${[...new Set([...verbs, ...(res.endsWith('/exec') || res.endsWith('/attach') ? ['get', 'create'] : [])])].map((v) => `"${v}"`).join(', ')}]`).join('\n')
  }
  if (denied.length) {
    out.push({ scope, check: 'kubernetes-rbac', status: 'fail', what: `in the namespace ${ns}, the runner may not: ${denied.join('; ')}`, fix: 'Add these rules to the Role bound to the runner\'s service account (the Helm chart\'s rbac.rules):', snippet: role(denied) })
  } else {
    out.push({ scope, check: 'kubernetes-rbac', status: 'ok', what: `in the namespace ${ns}, the runner may create, watch, ${attach ? 'attach to, ' : ''}exec into and delete job pods` })
  }
  if (deniedOptional.length) out.push({ scope, check: 'kubernetes-rbac', status: 'warn', what: `in the namespace ${ns}, the runner may not: ${deniedOptional.join('; ')}`, fix: 'Jobs still run without these; add them for the features named:', snippet: role(deniedOptional) })
  if (opts.namespacePerJob) {
    // Each job gets a fresh, empty namespace: nothing of the runner's exists there in advance.
    const needs = [...(opts.serviceAccount ? [`the service account ${opts.serviceAccount}`] : []), ...opts.imagePullSecrets.map((n) => `the pull secret ${n}`)]
    if (needs.length) out.push({ scope, check: 'kubernetes-namespace-per-job', status: 'warn', what: `namespace_per_job: ${needs.join(' and ')} must exist in every ci-job-<id> namespace, which starts empty: the cluster refuses the job pods unless something (an operator, an admission controller) adds them there`, fix: 'Drop service_account / image_pull_secrets for these runners, or have the cluster provision them into new namespaces.' })
    return out
  }
  if (opts.serviceAccount) {
    try {
      await core.readNamespacedServiceAccount({ name: opts.serviceAccount, namespace: ns })
      out.push({ scope, check: 'kubernetes-serviceaccount', status: 'ok', what: `the job pods' service account ${opts.serviceAccount} exists` })
    } catch (e) {
      if (apiStatus(e)?.code === 404) out.push({ scope, check: 'kubernetes-serviceaccount', status: 'fail', what: `service_account ${opts.serviceAccount} does not exist in ${ns}: the cluster refuses the pods ("error looking up service account")`, fix: `Create it (kubectl -n ${ns} create serviceaccount ${opts.serviceAccount}) or fix service_account.` })
    }
  }
  for (const name of opts.imagePullSecrets) {
    try {
      await core.readNamespacedSecret({ name, namespace: ns })
      out.push({ scope, check: 'kubernetes-pull-secret', status: 'ok', what: `the image pull secret ${name} exists in ${ns}` })
    } catch (e) {
      const s = apiStatus(e)
      if (s?.code === 404) out.push({ scope, check: 'kubernetes-pull-secret', status: 'fail', what: `image_pull_secrets names ${name}, which does not exist in ${ns}: pulls from a private registry fail with "pull access denied"`, fix: `Create it: kubectl -n ${ns} create secret docker-registry ${name} --docker-server=<registry> --docker-username=<user> --docker-password=<token>` })
      else out.push({ scope, check: 'kubernetes-pull-secret', status: 'warn', what: `the image pull secret ${name} could not be checked: ${apiErrorText(e)}` })
    }
  }
  return out
}
