import { decide } from './decide';
import {
  INITIAL_MEMORY,
  type AutoscalerMemory,
  type AutoscalingPolicy,
  type Decision,
  type GroupSignal,
  type SignalSample,
} from './types';

/** A small deterministic PRNG (mulberry32), so that "noisy" tests replay exactly. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SimOptions {
  policy: AutoscalingPolicy;
  /** Offered load (requests in flight) at t seconds. */
  load: (t: number) => number;
  durationSeconds: number;
  tickSeconds?: number;
  startGroups?: number;
  /** Seconds from a group being asked for to it being ready. */
  startupSeconds?: number;
  /** Groups the cluster can place; the rest stay pending and unschedulable. */
  clusterGroups?: number;
  /** Whether group `i`'s scrape fails at t. */
  groupMissing?: (t: number, i: number) => boolean;
  /** Whether the gateway's counts cannot be read at t. */
  gatewayMissing?: (t: number) => boolean;
}

export interface SimTick {
  t: number;
  load: number;
  current: number;
  ready: number;
  desired: number;
  decision: Decision;
}

const T0 = 1_700_000_000_000;

/**
 * Runs `decide` tick by tick against a toy cluster: groups become ready `startupSeconds` after they
 * are asked for (if the cluster has room); the offered load spreads evenly over ready groups, and is
 * held by the gateway while there is none.
 */
export function simulate(o: SimOptions): SimTick[] {
  const tick = o.tickSeconds ?? 2;
  const startup = o.startupSeconds ?? 0;
  const room = o.clusterGroups ?? Infinity;
  const keepMs = Math.max(o.policy.stableWindowSeconds, o.policy.panicWindowSeconds) * 1000;
  // Times at which each group was asked for; index = group index (LWS removes the highest first).
  let askedAt: number[] = Array.from({ length: o.startGroups ?? 1 }, () => -Infinity);
  let memory: AutoscalerMemory = INITIAL_MEMORY;
  const history: SignalSample[] = [];
  const out: SimTick[] = [];
  for (let t = 0; t <= o.durationSeconds; t += tick) {
    const now = T0 + t * 1000;
    const readyFlags = askedAt.map((a, i) => i < room && a + startup <= t);
    const ready = readyFlags.filter(Boolean).length;
    const unschedulable = Math.max(0, askedAt.length - room);
    const load = o.load(t);
    const perGroup = ready > 0 ? load / ready : 0;
    const groups: (GroupSignal | null)[] = Array.from({ length: ready }, (_, i) =>
      o.groupMissing?.(t, i)
        ? null
        : { running: perGroup, waiting: 0, kvCacheUsage: Math.min(1, perGroup / 32) },
    );
    const gatewayDown = o.gatewayMissing?.(t) ?? false;
    history.push({
      at: now,
      readyGroups: ready,
      groups,
      gatewayInflight: gatewayDown ? -1 : ready > 0 ? load : 0,
      gatewayHeld: gatewayDown ? -1 : ready > 0 ? 0 : load,
    });
    while (history.length > 0 && history[0].at <= now - keepMs) history.shift();
    const state = { current: askedAt.length, ready, pending: askedAt.length - ready, unschedulable };
    const r = decide(o.policy, history, state, memory, now);
    // What the worker persists is JSON: make sure the memory survives a round trip.
    memory = JSON.parse(JSON.stringify(r.memory)) as AutoscalerMemory;
    out.push({ t, load, current: state.current, ready, desired: r.decision.desired, decision: r.decision });
    const d = r.decision.desired;
    if (d > askedAt.length) askedAt = [...askedAt, ...Array.from({ length: d - askedAt.length }, () => t)];
    else askedAt = askedAt.slice(0, d);
  }
  return out;
}

/** Times at which desired changed, with the new value. */
export function changes(ticks: SimTick[]): { t: number; from: number; to: number; reason: string }[] {
  return ticks
    .filter((k) => k.desired !== k.current)
    .map((k) => ({ t: k.t, from: k.current, to: k.desired, reason: k.decision.reason }));
}
