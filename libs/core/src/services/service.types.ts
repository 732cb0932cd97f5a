import { DEFAULT_ENGINE_KIND, isEngineKind, type EngineKind, type IntOrString } from '@troupe/lws';

export type WeightsMode = 'init-container' | 'streamer';

/** The stored, validated desired state of an inference service (the JSON `spec` column). */
export interface ServiceSpec {
  parallelism: { tensor: number; pipeline: number; allowTensorAcrossNodes?: boolean };
  gpusPerNode: number;
  gpu: { resource: string; type?: string; nodeSelector?: Record<string, string> };
  replicas: { initial: number; min: number; max: number };
  engine: {
    /** `vllm` or `sglang`; absent in specs stored before engines could be chosen (vLLM). */
    kind?: EngineKind;
    image: string;
    extraArgs: string[];
    env: Record<string, string>;
    maxModelLen?: number;
    dtype?: string;
    gpuMemoryUtilization?: number;
    maxNumSeqs?: number;
  };
  placement: {
    exclusiveTopology?: string;
    startupPolicy: 'LeaderCreated' | 'LeaderReady';
    restartPolicy: 'RecreateGroupOnPodRestart' | 'None';
  };
  rollout: { maxUnavailable: IntOrString; maxSurge: IntOrString };
  /**
   * How pods get the weights: `init-container` (default: every pod syncs the version from object
   * storage into a local volume before vLLM starts) or `streamer` (vLLM's Run:ai streamer reads the
   * safetensors from S3 as it loads; no local copy). Absent in specs stored before the option.
   */
  weights?: { mode: WeightsMode };
  /** How the layout was chosen when the user gave none. */
  layoutExplanation?: string;
}

/** The engine of a stored spec (any JSON): its `engine.kind`, vLLM when absent. */
export function engineKindOf(spec: unknown): EngineKind {
  const kind = (spec as { engine?: { kind?: unknown } } | null)?.engine?.kind;
  return isEngineKind(kind) ? kind : DEFAULT_ENGINE_KIND;
}

export type ServicePhase =
  'PENDING' | 'DEPLOYING' | 'READY' | 'DEGRADED' | 'UPDATING' | 'FAILED' | 'DELETING' | 'DELETED';

export interface LeaderEndpoint {
  group: number;
  pod: string;
  ip: string;
  port: number;
}

/** What the cluster was last seen doing. */
export interface ObservedState {
  groups: { desired: number; current: number; ready: number; updated: number };
  conditions: { type: string; status: string; reason?: string; message?: string }[];
  leaderEndpoints: LeaderEndpoint[];
  pendingPods: number;
  unschedulable?: string;
  observedAt: string;
}

export interface ServiceView {
  id: string;
  projectId: string;
  name: string;
  servedModelName: string;
  namespace: string;
  model: { name: string; version: string; versionId: string };
  spec: ServiceSpec;
  generation: number;
  status: {
    phase: ServicePhase;
    reason: string | null;
    lastError: string | null;
    appliedGeneration: number | null;
    observed: ObservedState | null;
  };
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
}

export interface ServiceEventView {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  data: unknown;
  createdAt: string;
}

/**
 * Redis channel announcing that a service changed (created, spec patched, deleted, scaled, autoscaling
 * changed): JSON `{ serviceId, projectId }`. Gateway processes refresh their in-memory table on it.
 */
export const SERVICES_CHANGED_CHANNEL = 'troupe:services:changed';
