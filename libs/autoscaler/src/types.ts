/**
 * Types of the autoscaling decision (contract between the decision library and the worker loop that
 * feeds it and actuates what it decides). Everything here is plain JSON-serialisable data.
 */

/**
 * What load is measured in:
 * - `concurrency`: requests running + waiting per group (vLLM `num_requests_running` +
 *   `num_requests_waiting`), plus the requests the gateway holds for the service;
 * - `waiting`: requests queued per group, plus the requests the gateway holds;
 * - `kvCache`: mean KV-cache use of the groups (0..1).
 */
export type ScalingMetric = 'concurrency' | 'waiting' | 'kvCache';

export interface AutoscalingPolicy {
  enabled: boolean;
  /** Fewest groups while autoscaling (0 only together with `scaleToZero.enabled`). */
  minReplicas: number;
  maxReplicas: number;
  metric: ScalingMetric;
  /** Load one group should carry: requests (concurrency, waiting) or a fraction 0..1 (kvCache). */
  target: number;
  /** Window whose average load decides the steady number of groups. */
  stableWindowSeconds: number;
  /** Short window watched for bursts; its average drives panic mode. */
  panicWindowSeconds: number;
  /** Panic when the panic window asks for at least this many times the ready groups (2 = 200%). */
  panicThreshold: number;
  /** Scale up only to the lowest recommendation seen over this long (0 = at once). */
  scaleUpStabilizationSeconds: number;
  /** Scale down only to the highest recommendation seen over this long. */
  scaleDownStabilizationSeconds: number;
  /** Groups added per decision at most. */
  maxScaleUpStep: number;
  /** Groups removed per decision at most (added to the contract: scale-down goes in steps). */
  maxScaleDownStep: number;
  /** Least time between two scale-downs, so each step is observed before the next (added). */
  scaleDownStepSeconds: number;
  /** Go to zero groups after `idleSeconds` without any request (needs `minReplicas` 0). */
  scaleToZero: { enabled: boolean; idleSeconds: number };
}

/** One ready group's load as its leader's `/metrics` reported it. */
export interface GroupSignal {
  running: number;
  waiting: number;
  /** KV-cache use, 0..1. */
  kvCacheUsage: number;
}

/** What the worker saw at one tick. */
export interface SignalSample {
  /** ms epoch of the tick. */
  at: number;
  readyGroups: number;
  /** One per ready group; `null` = scrape failed or stale (NOT zero load). */
  groups: (GroupSignal | null)[];
  /** Summed over gateway processes (from Redis); -1 when Redis could not be read. */
  gatewayInflight: number;
  gatewayHeld: number;
}

/**
 * The service's groups now. `current` = LWS `spec.replicas`; `pending` = asked for, not ready;
 * `unschedulable` = pending groups the scheduler cannot place.
 */
export interface ScaleState {
  current: number;
  ready: number;
  pending: number;
  unschedulable: number;
}

export type DecisionReason =
  | 'within-target'
  | 'scale-up'
  | 'panic-scale-up'
  | 'scale-down'
  | 'scale-to-zero'
  | 'wake-from-zero'
  | 'hold-missing-metrics'
  | 'hold-capacity'
  | 'hold-stabilization'
  | 'hold-panic'
  | 'clamped-to-bounds';

export interface DecisionInputs {
  metric: ScalingMetric;
  /**
   * Average total load over the stable window, summed over the groups, in the metric's unit
   * (requests; for kvCache the sum of the groups' KV-cache use). `null` = no usable sample.
   */
  stableValue: number | null;
  /** Same over the panic window. */
  panicValue: number | null;
  target: number;
  current: number;
  ready: number;
  pending: number;
  unschedulable: number;
  /** Signals not seen in the newest sample: groups without metrics, +1 when the gateway's counts could not be read. */
  missing: number;
}

export interface Decision {
  /** Groups the service should have (what to write into LWS `spec.replicas`). */
  desired: number;
  reason: DecisionReason;
  /** One sentence for humans: what was seen and why this number. */
  message: string;
  /** Whether the service is in panic mode after this decision. */
  panic: boolean;
  inputs: DecisionInputs;
}

/** What the decision remembers between ticks; JSON-serialisable, persisted by the worker. */
export interface AutoscalerMemory {
  /** Panic mode lasts until this ms epoch (extended while the burst lasts). */
  panicUntil: number | null;
  /** Recent recommendations (groups the load asked for), oldest first, for the stabilization windows. */
  recommendations: { at: number; desired: number }[];
  /** Last time any request was seen (or metrics were incomplete, which counts as load). */
  lastActiveAt: number | null;
  /** Last time the decision changed the number of groups. */
  lastScaleAt: number | null;
  /**
   * Since when decisions have been made without a gap (added to the contract; absent in memory
   * persisted before it = unknown). Scale-down waits until the load has been watched for a full
   * scale-down window, so a restarted worker does not give groups back on a few samples.
   */
  observedSince?: number | null;
}

export const INITIAL_MEMORY: AutoscalerMemory = Object.freeze({
  panicUntil: null,
  recommendations: [],
  lastActiveAt: null,
  lastScaleAt: null,
  observedSince: null,
}) as AutoscalerMemory;
