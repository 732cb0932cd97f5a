// Shapes of the Kubernetes objects Troupe reads, spelled as the API spells them (raw JSON: timestamps are
// RFC 3339 strings), with only the fields the platform uses. They are what the watch cache holds, so that
// code outside libs/kube never needs @kubernetes/client-node's types.

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
}

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: 'Apply' | 'Update';
  subresource?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: Record<string, unknown>;
}

export interface KubeObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  managedFields?: ManagedFieldsEntry[];
}

/** Any object of the API: what the generic cache needs. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: KubeObjectMeta;
}

export interface PodCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface PodContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
}

export interface PodContainer {
  name: string;
  image?: string;
  ports?: PodContainerPort[];
}

export interface ContainerStateDetail {
  reason?: string;
  message?: string;
  exitCode?: number;
  startedAt?: string;
  finishedAt?: string;
}

export interface ContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  state?: {
    running?: ContainerStateDetail;
    waiting?: ContainerStateDetail;
    terminated?: ContainerStateDetail;
  };
  lastState?: { terminated?: ContainerStateDetail };
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

export interface Pod extends KubeObject {
  metadata: KubeObjectMeta & { name: string; namespace: string };
  spec?: { nodeName?: string; containers: PodContainer[] };
  status?: {
    phase?: PodPhase;
    podIP?: string;
    hostIP?: string;
    reason?: string;
    message?: string;
    conditions?: PodCondition[];
    containerStatuses?: ContainerStatus[];
    startTime?: string;
  };
}

/** A ready leader pod of a LeaderWorkerSet group: where the gateway sends requests. */
export interface LeaderEndpoint {
  groupIndex: number;
  podName: string;
  ip: string;
  port: number;
  nodeName?: string;
}

/** The `/scale` subresource of a LeaderWorkerSet. */
export interface LwsScale {
  /** Desired groups (spec.replicas). */
  replicas: number;
  /** Groups that exist (status.replicas). */
  currentReplicas: number;
  /** Label selector of the leader pods (status.selector). */
  selector?: string;
}

export interface KubeEvent {
  namespace: string;
  name: string;
  type: string;
  reason: string;
  message: string;
  involvedObject: { kind?: string; name?: string; namespace?: string; uid?: string };
  count: number;
  /** When it last happened (lastTimestamp, else eventTime, else firstTimestamp), ISO 8601. */
  lastSeen?: string;
  firstSeen?: string;
  source?: string;
}

export interface NodeTaint {
  key: string;
  value?: string;
  effect: string;
}

export interface NodeInfo {
  name: string;
  labels: Record<string, string>;
  /** Condition Ready is True. */
  ready: boolean;
  /** spec.unschedulable (cordoned). */
  unschedulable: boolean;
  taints: NodeTaint[];
  /** status.capacity and status.allocatable as the API reports them (quantities as strings). */
  capacity: Record<string, string>;
  allocatable: Record<string, string>;
  /** `nvidia.com/gpu` capacity and allocatable as numbers (0 when absent); see `nodeResource` for others. */
  gpus: { capacity: number; allocatable: number };
}

export interface SecretInput {
  namespace: string;
  name: string;
  stringData: Record<string, string>;
  labels?: Record<string, string>;
  type?: string;
}

export interface ServicePortInput {
  name: string;
  port: number;
  targetPort?: number | string;
  protocol?: 'TCP' | 'UDP';
}

export interface ServiceInput {
  namespace: string;
  name: string;
  labels?: Record<string, string>;
  selector: Record<string, string>;
  ports: ServicePortInput[];
  /** `None` for a headless service. */
  clusterIP?: string;
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
}
