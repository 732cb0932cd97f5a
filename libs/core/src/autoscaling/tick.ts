// Pure helpers of one autoscaler tick: the clock, the history window, the sample, what to record.

import type { AutoscalingPolicy, Decision, DecisionReason, SignalSample } from '@troupe/autoscaler';
import type { GatewayLoad } from './gateway-load';
import type { EngineLoad } from './engine-load';

/**
 * The autoscaler's clock: real time, or faster by `rate` from `origin` (tests and benchmarks run
 * policy windows of minutes in seconds). Rate 1 is the wall clock. Worker processes must share the
 * origin (the default, 0) so that the decision memory one writes means the same to the next.
 */
export function scaledClock(rate: number, origin = 0): (realNow: number) => number {
  if (rate === 1) return (realNow) => realNow;
  return (realNow) => Math.round(origin + (realNow - origin) * rate);
}

/** How far back `decide` looks: the longer of the stable and panic windows. */
export function historyWindowMs(policy: AutoscalingPolicy): number {
  return Math.max(policy.stableWindowSeconds, policy.panicWindowSeconds) * 1000;
}

/** Appends a sample and drops those older than the window (and any from a clock that went back). */
export function pushSample(history: SignalSample[], sample: SignalSample, windowMs: number): SignalSample[] {
  const from = sample.at - windowMs;
  return [...history.filter((s) => s.at >= from && s.at < sample.at), sample];
}

/**
 * One tick's view of a service. A group whose scrape failed is `null` (unseen, not idle). A wake signal
 * received recently counts as one held request even before the gateway's load hash shows it, so the
 * request that woke the service is never missed by a race between the signal and the hash.
 */
export function buildSample(args: {
  at: number;
  loads: (EngineLoad | null)[];
  gateway: GatewayLoad | null | undefined;
  gatewayReadable: boolean;
  wokenRecently: boolean;
}): SignalSample {
  const gw = args.gateway ?? { inflight: 0, held: 0 };
  const held = args.gatewayReadable ? gw.held : -1;
  return {
    at: args.at,
    readyGroups: args.loads.length,
    groups: args.loads.map((l) =>
      l ? { running: l.running, waiting: l.waiting, kvCacheUsage: l.kvCacheUsage } : null,
    ),
    gatewayInflight: args.gatewayReadable ? gw.inflight : -1,
    gatewayHeld: args.wokenRecently ? Math.max(held, 1) : held,
  };
}

/** PascalCase of a decision reason, for the event's reason column: `panic-scale-up` -> `PanicScaleUp`. */
export function eventReason(reason: DecisionReason): string {
  return reason
    .split('-')
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join('');
}

const WARNING_REASONS: ReadonlySet<DecisionReason> = new Set(['hold-missing-metrics', 'hold-capacity']);

/**
 * The service event a decision deserves: every change of the number of groups; a decision that keeps
 * it only when its reason differs from the last one recorded (not one event per tick).
 */
export function eventFor(
  decision: Decision,
  current: number,
  previousReason: DecisionReason | undefined,
): { type: 'Normal' | 'Warning'; reason: string; message: string } | null {
  const changes = decision.desired !== current;
  if (!changes && decision.reason === previousReason) return null;
  return {
    type: WARNING_REASONS.has(decision.reason) ? 'Warning' : 'Normal',
    reason: eventReason(decision.reason),
    message: changes
      ? `autoscaler: ${current} -> ${decision.desired} groups: ${decision.message}`
      : `autoscaler: stays at ${current} groups: ${decision.message}`,
  };
}
