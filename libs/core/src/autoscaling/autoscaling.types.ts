import type { AutoscalerMemory, AutoscalingPolicy, DecisionInputs, DecisionReason } from '@troupe/autoscaler';
import type { ReplicasOwner } from '../services/replicas';

/**
 * What the autoscaler stores in `inference_services.autoscaler_state` after each decision: the last
 * decision (shown by GET), the decision memory (so another worker taking over continues where this
 * one stopped) and the fence of the lease it acted under (a stale actor's later write is refused).
 */
export interface AutoscalerStateRecord {
  desired: number;
  /** LWS spec.replicas when the decision was made. */
  current: number;
  reason: DecisionReason;
  message: string;
  panic: boolean;
  inputs: DecisionInputs;
  /** ISO time of the decision (real clock). */
  at: string;
  memory: AutoscalerMemory;
  fence: number;
}

/** `scaling` of a service as GET shows it: who owns the number of groups now, and why it is what it is. */
export interface ScalingView {
  owner: ReplicasOwner;
  pinnedReplicas: number | null;
  /** The stored policy (null: never set); `enabled: false` means autoscaling is off. */
  policy: AutoscalingPolicy | null;
  lastDecision: {
    desired: number;
    current: number;
    reason: DecisionReason;
    message: string;
    panic: boolean;
    inputs: DecisionInputs;
    at: string;
  } | null;
}
