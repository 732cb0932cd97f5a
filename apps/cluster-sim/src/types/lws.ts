import type { Condition, KObject } from './meta';
import type { PodTemplateSpec } from './workloads';

export interface RollingUpdateConfiguration {
  maxUnavailable?: number | string;
  maxSurge?: number | string;
  partition?: number;
}

export interface LeaderWorkerSetSpec {
  replicas?: number;
  startupPolicy?: 'LeaderCreated' | 'LeaderReady';
  leaderWorkerTemplate: {
    size?: number;
    restartPolicy?: 'RecreateGroupOnPodRestart' | 'None' | 'Default';
    leaderTemplate?: PodTemplateSpec;
    workerTemplate: PodTemplateSpec;
    subGroupPolicy?: { subGroupSize?: number; subGroupPolicyType?: string };
    [key: string]: unknown;
  };
  rolloutStrategy?: { type?: string; rollingUpdateConfiguration?: RollingUpdateConfiguration };
  networkConfig?: { subdomainPolicy?: 'Shared' | 'UniquePerReplica' };
  [key: string]: unknown;
}

export interface LeaderWorkerSetStatus {
  conditions?: Condition[];
  replicas?: number;
  readyReplicas?: number;
  updatedReplicas?: number;
  hpaPodSelector?: string;
}

export interface LeaderWorkerSet extends KObject {
  spec: LeaderWorkerSetSpec;
  status?: LeaderWorkerSetStatus;
}
