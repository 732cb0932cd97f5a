import type {
  Container as KubeletContainer,
  EnvVar as KubeletEnvVar,
  NodeStatus as KubeletNodeStatus,
  PodSpec as KubeletPodSpec,
  PodStatus as KubeletPodStatus,
  Taint,
} from '@troupe/kubelet';
import type { KObject, ObjectMeta } from './meta';

export type { ContainerState, ContainerStatus, Taint } from '@troupe/kubelet';

export interface EnvVar extends KubeletEnvVar {
  valueFrom?: unknown;
}

export interface ContainerPort {
  containerPort: number;
  name?: string;
  protocol?: string;
}

export interface ResourceRequirements {
  limits?: Record<string, string | number>;
  requests?: Record<string, string | number>;
}

export interface Container extends KubeletContainer {
  env?: EnvVar[];
  ports?: ContainerPort[];
  resources?: ResourceRequirements;
  [key: string]: unknown;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface PodAffinityTerm {
  labelSelector?: LabelSelector;
  topologyKey: string;
  namespaces?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: LabelSelectorRequirement[];
  matchFields?: LabelSelectorRequirement[];
}

export interface Affinity {
  nodeAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms: NodeSelectorTerm[] };
  };
  podAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: PodAffinityTerm[] };
  podAntiAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: PodAffinityTerm[] };
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

export interface PodSpec extends KubeletPodSpec {
  containers: Container[];
  initContainers?: Container[];
  nodeSelector?: Record<string, string>;
  affinity?: Affinity;
  tolerations?: Toleration[];
  hostname?: string;
  subdomain?: string;
  restartPolicy?: string;
  [key: string]: unknown;
}

export interface PodStatus extends KubeletPodStatus {
  qosClass?: string;
}

export interface Pod extends KObject {
  spec: PodSpec;
  status?: PodStatus;
}

export interface PodTemplateSpec {
  metadata?: ObjectMeta;
  spec: PodSpec;
}

export interface StatefulSetSpec {
  replicas?: number;
  selector: LabelSelector;
  serviceName?: string;
  template: PodTemplateSpec;
  podManagementPolicy?: string;
  ordinals?: { start?: number };
  updateStrategy?: {
    type?: string;
    rollingUpdate?: { partition?: number; maxUnavailable?: number | string };
  };
  [key: string]: unknown;
}

export interface StatefulSetStatus {
  observedGeneration?: number;
  replicas: number;
  readyReplicas?: number;
  currentReplicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
  currentRevision?: string;
  updateRevision?: string;
  collisionCount?: number;
}

export interface StatefulSet extends KObject {
  spec: StatefulSetSpec;
  status?: StatefulSetStatus;
}

export interface NodeStatus extends KubeletNodeStatus {
  [key: string]: unknown;
}

export interface Node extends KObject {
  spec: { unschedulable?: boolean; taints?: Taint[]; [key: string]: unknown };
  status?: NodeStatus;
}
