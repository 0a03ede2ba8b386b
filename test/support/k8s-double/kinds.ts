import { ConfigMap, Event, Namespace, PersistentVolumeClaim, Pod, Secret, Service, ServiceAccount } from 'kubernetes-models/v1'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1'

/** A kubernetes-models class: `new Model(body).validate()` throws ajv errors. */
type Model = new (data: any) => { validate(): void }

/** One resource the double serves: its REST names, its schema class and its client-node type (for field names). */
export interface KindDef {
  resource: string
  kind: string
  group: string
  version: string
  namespaced: boolean
  model: Model
  /** The @kubernetes/client-node model class name whose attributeTypeMap lists the known fields. */
  clientType: string
  verbs: string[]
  shortNames?: string[]
  singular: string
}

const RW = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']

export const KINDS: KindDef[] = [
  { resource: 'pods', singular: 'pod', kind: 'Pod', group: '', version: 'v1', namespaced: true, model: Pod, clientType: 'V1Pod', verbs: RW, shortNames: ['po'] },
  { resource: 'secrets', singular: 'secret', kind: 'Secret', group: '', version: 'v1', namespaced: true, model: Secret, clientType: 'V1Secret', verbs: RW },
  { resource: 'configmaps', singular: 'configmap', kind: 'ConfigMap', group: '', version: 'v1', namespaced: true, model: ConfigMap, clientType: 'V1ConfigMap', verbs: RW, shortNames: ['cm'] },
  { resource: 'serviceaccounts', singular: 'serviceaccount', kind: 'ServiceAccount', group: '', version: 'v1', namespaced: true, model: ServiceAccount, clientType: 'V1ServiceAccount', verbs: RW, shortNames: ['sa'] },
  { resource: 'events', singular: 'event', kind: 'Event', group: '', version: 'v1', namespaced: true, model: Event, clientType: 'CoreV1Event', verbs: RW, shortNames: ['ev'] },
  { resource: 'persistentvolumeclaims', singular: 'persistentvolumeclaim', kind: 'PersistentVolumeClaim', group: '', version: 'v1', namespaced: true, model: PersistentVolumeClaim, clientType: 'V1PersistentVolumeClaim', verbs: RW, shortNames: ['pvc'] },
  { resource: 'services', singular: 'service', kind: 'Service', group: '', version: 'v1', namespaced: true, model: Service, clientType: 'V1Service', verbs: RW, shortNames: ['svc'] },
  { resource: 'namespaces', singular: 'namespace', kind: 'Namespace', group: '', version: 'v1', namespaced: false, model: Namespace, clientType: 'V1Namespace', verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], shortNames: ['ns'] },
  { resource: 'poddisruptionbudgets', singular: 'poddisruptionbudget', kind: 'PodDisruptionBudget', group: 'policy', version: 'v1', namespaced: true, model: PodDisruptionBudget, clientType: 'V1PodDisruptionBudget', verbs: RW, shortNames: ['pdb'] },
]

export function kindOf(group: string, resource: string): KindDef | undefined {
  return KINDS.find((k) => k.group === group && k.resource === resource)
}

export function apiVersionOf(k: KindDef): string {
  return k.group ? `${k.group}/${k.version}` : k.version
}

/** Subresources the double serves, for discovery and routing. */
export const POD_SUBRESOURCES: { name: string; kind: string; verbs: string[] }[] = [
  { name: 'pods/status', kind: 'Pod', verbs: ['get', 'patch', 'update'] },
  { name: 'pods/log', kind: 'Pod', verbs: ['get'] },
  { name: 'pods/exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
  { name: 'pods/attach', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
]
