import { describe, expect, it } from 'vitest';
import { decide, groupsFor } from './decide';
import { DEFAULT_AUTOSCALING_POLICY } from './policy';
import { changes, seeded, simulate, type SimTick } from './test-helpers';
import {
  INITIAL_MEMORY,
  type AutoscalerMemory,
  type AutoscalingPolicy,
  type GroupSignal,
  type ScaleState,
  type SignalSample,
} from './types';

// Defaults: target 16 requests per group, stable 60 s, panic 6 s at 2×, scale-down window 300 s,
// one group removed per 30 s, at most 4 added per decision, 1..4 groups.
const P: AutoscalingPolicy = { ...DEFAULT_AUTOSCALING_POLICY };
const NOW = 1_700_000_000_000;

/** Samples every 2 s over `seconds`, each group carrying `perGroup` running requests. */
function steady(
  perGroup: number,
  ready: number,
  opts: {
    seconds?: number;
    held?: number;
    inflight?: number;
    tweak?: (s: SignalSample, i: number) => void;
  } = {},
): SignalSample[] {
  const seconds = opts.seconds ?? 60;
  const out: SignalSample[] = [];
  for (let i = 0; i * 2 < seconds; i++) {
    const groups: GroupSignal[] = Array.from({ length: ready }, () => ({
      running: perGroup,
      waiting: 0,
      kvCacheUsage: 0.5,
    }));
    const s: SignalSample = {
      at: NOW - (seconds - 2 - i * 2) * 1000,
      readyGroups: ready,
      groups,
      gatewayInflight: opts.inflight ?? perGroup * ready,
      gatewayHeld: opts.held ?? 0,
    };
    opts.tweak?.(s, i);
    out.push(s);
  }
  return out;
}

/** Memory of a worker that has watched the service for an hour, its recent recommendations at `desired`. */
const watched = (desired: number): AutoscalerMemory => ({
  ...INITIAL_MEMORY,
  observedSince: NOW - 3_600_000,
  recommendations: [{ at: NOW - 2000, desired }],
});

const state = (current: number, ready = current, unschedulable = 0): ScaleState => ({
  current,
  ready,
  pending: current - ready,
  unschedulable,
});

function firstAfter(ticks: SimTick[], t0: number, pred: (k: SimTick) => boolean): SimTick | undefined {
  return ticks.find((k) => k.t >= t0 && pred(k));
}

describe('decide: step up', () => {
  const stepAt = 120;
  const ticks = simulate({
    policy: P,
    load: (t) => (t < stepAt ? 16 : 64),
    durationSeconds: 400,
    startupSeconds: 10,
  });

  it('holds one group at 1× the target', () => {
    expect(ticks.filter((k) => k.t < stepAt).every((k) => k.desired === 1)).toBe(true);
  });

  it('adds the first group within one panic window of the step, in panic', () => {
    const first = firstAfter(ticks, stepAt, (k) => k.desired > k.current)!;
    expect(first.t - stepAt).toBeLessThanOrEqual(P.panicWindowSeconds);
    expect(first.decision.reason).toBe('panic-scale-up');
    expect(first.decision.panic).toBe(true);
  });

  it('asks for all four groups within 30 s and has them ready within 30 s + start-up', () => {
    expect(firstAfter(ticks, stepAt, (k) => k.desired === 4)!.t - stepAt).toBeLessThanOrEqual(30);
    expect(firstAfter(ticks, stepAt, (k) => k.ready === 4)!.t - stepAt).toBeLessThanOrEqual(40);
  });

  it('never asks for more than the load needs, and never goes down while it lasts', () => {
    const after = ticks.filter((k) => k.t >= stepAt);
    expect(Math.max(...after.map((k) => k.desired))).toBe(4);
    expect(changes(after).every((c) => c.to > c.from)).toBe(true);
  });
});

describe('decide: ticks slower than the panic window (e.g. a fast policy clock)', () => {
  it('still panics on a step, and still comes back down in steps', () => {
    const ticks = simulate({
      policy: P,
      load: (t) => (t < 200 || t >= 400 ? 16 : 64),
      durationSeconds: 1400,
      tickSeconds: 20,
    });
    const c = changes(ticks);
    expect(c[0]).toMatchObject({ t: 200, from: 1, reason: 'panic-scale-up' });
    expect(Math.max(...ticks.map((k) => k.desired))).toBe(4);
    const downs = c.filter((x) => x.to < x.from);
    expect(downs.map((x) => x.to)).toEqual([3, 2, 1]);
    // the last sample at 4× was taken at t = 380
    expect(downs[0].t - 380).toBeGreaterThanOrEqual(P.scaleDownStabilizationSeconds);
  });
});

describe('decide: ramp', () => {
  // 1× to 4× over ten minutes: slow enough for the stable window, no panic.
  const load = (t: number) => 16 + 48 * Math.min(1, t / 600);
  const ticks = simulate({ policy: P, load, durationSeconds: 900, startupSeconds: 10 });

  it('follows the ramp up to four groups in single steps, without panic', () => {
    const c = changes(ticks);
    expect(c.map((x) => x.to)).toEqual([2, 3, 4]);
    expect(c.every((x) => x.reason === 'scale-up')).toBe(true);
    expect(ticks.some((k) => k.decision.panic)).toBe(false);
  });

  it('adds each group within a stable window of the load needing it', () => {
    for (const c of changes(ticks)) {
      // load needs `c.to` groups once it exceeds (c.to - 1) × target
      const needAt = ((c.to - 1) * 16 - 16) / (48 / 600);
      expect(c.t).toBeGreaterThan(needAt);
      expect(c.t - needAt).toBeLessThanOrEqual(P.stableWindowSeconds);
    }
  });
});

describe('decide: short spike', () => {
  const spike = [200, 206] as const;
  const ticks = simulate({
    policy: P,
    load: (t) => (t >= spike[0] && t < spike[1] ? 96 : 16),
    durationSeconds: 1200,
    startupSeconds: 10,
  });

  it('scales up at once in panic', () => {
    const up = firstAfter(ticks, spike[0], (k) => k.desired > k.current)!;
    expect(up.t).toBeLessThan(spike[1]);
    expect(up.decision.reason).toBe('panic-scale-up');
  });

  it('gives nothing back during panic nor within the scale-down window', () => {
    const downs = changes(ticks).filter((c) => c.to < c.from);
    expect(downs.length).toBeGreaterThan(0);
    expect(downs[0].t - spike[1]).toBeGreaterThanOrEqual(P.scaleDownStabilizationSeconds);
    const holds = ticks.filter((k) => k.t > spike[1] && k.t < spike[1] + P.stableWindowSeconds);
    expect(holds.some((k) => k.decision.reason === 'hold-panic')).toBe(true);
  });

  it('returns to one group in steps of one, and never goes up again', () => {
    const after = changes(ticks).filter((c) => c.t >= spike[1]);
    expect(after.every((c) => c.to === c.from - 1 && c.reason === 'scale-down')).toBe(true);
    expect(ticks[ticks.length - 1].desired).toBe(1);
  });
});

describe('decide: noisy steady load does not flap', () => {
  // 30 simulated minutes, ±noise uniformly around the mean, a fresh draw every 2 s tick.
  const cases: [string, number, number, number, number][] = [
    // name, mean load, noise fraction, starting groups, expected changes at most
    ['2.5 groups’ worth ±30%', 40, 0.3, 3, 0],
    ['1 group’s worth ±30%', 12, 0.3, 1, 0],
    ['3.5 groups’ worth ±40%', 56, 0.4, 4, 0],
    ['exactly 3 groups’ worth ±20% (on the boundary)', 48, 0.2, 3, 1],
    ['exactly 1 group’s worth ±30% (on the boundary)', 16, 0.3, 1, 1],
  ];

  it.each(cases)('%s', (_name, mean, noise, start, maxChanges) => {
    const rnd = seeded(mean * 1000 + start);
    const ticks = simulate({
      policy: P,
      load: () => mean * (1 + noise * (2 * rnd() - 1)),
      durationSeconds: 1800,
      startGroups: start,
      startupSeconds: 10,
    });
    const c = changes(ticks);
    expect(c.length).toBeLessThanOrEqual(maxChanges);
    // a boundary load may settle one group higher once, never back and forth
    expect(c.every((x) => x.to > x.from)).toBe(true);
    expect(ticks.some((k) => k.decision.panic)).toBe(false);
  });
});

describe('decide: drop to idle', () => {
  const drop = 120;
  const ticks = simulate({
    policy: P,
    load: (t) => (t < drop ? 64 : 0),
    durationSeconds: 1200,
    startGroups: 4,
  });
  const downs = changes(ticks);

  it('holds four groups for the scale-down window after the drop', () => {
    expect(downs[0].t - drop).toBeGreaterThanOrEqual(P.scaleDownStabilizationSeconds);
    const held = ticks.filter((k) => k.t > drop + P.stableWindowSeconds && k.t < downs[0].t);
    expect(held.every((k) => k.decision.reason === 'hold-stabilization')).toBe(true);
    expect(held[0].decision.message).toMatch(/scale-down stabilization/);
  });

  it('goes down to minReplicas one group at a time, at least scaleDownStepSeconds apart', () => {
    expect(downs.map((c) => c.to)).toEqual([3, 2, 1]);
    expect(downs.every((c) => c.reason === 'scale-down')).toBe(true);
    for (let i = 1; i < downs.length; i++) {
      expect(downs[i].t - downs[i - 1].t).toBeGreaterThanOrEqual(P.scaleDownStepSeconds);
    }
    expect(ticks[ticks.length - 1].decision.reason).toBe('within-target');
  });
});

describe('decide: a fresh or restarted watch', () => {
  it('does not scale down on its first samples', () => {
    const ticks = simulate({ policy: P, load: () => 20, durationSeconds: 1200, startGroups: 4 });
    const downs = changes(ticks);
    expect(downs[0].t).toBeGreaterThanOrEqual(P.scaleDownStabilizationSeconds);
    expect(ticks[0].decision.message).toMatch(/watched for only 0 s/);
    expect(ticks[ticks.length - 1].desired).toBe(2);
  });

  it('starts watching over after a gap in decisions', () => {
    const before = watched(1);
    before.recommendations = [{ at: NOW - 61_000, desired: 1 }];
    const { decision, memory } = decide(P, steady(0, 3), state(3), before, NOW);
    expect(decision.reason).toBe('hold-stabilization');
    expect(memory.observedSince).toBe(NOW);
    // without the gap, or with a gap shorter than the stable window (slow ticks), the same input scales down
    expect(decide(P, steady(0, 3), state(3), watched(1), NOW).decision.reason).toBe('scale-down');
    const slow = { ...watched(1), recommendations: [{ at: NOW - 40_000, desired: 1 }] };
    expect(decide(P, steady(0, 3), state(3), slow, NOW).decision.reason).toBe('scale-down');
  });
});

describe('decide: scale to zero and wake from zero', () => {
  const policy: AutoscalingPolicy = {
    ...P,
    minReplicas: 0,
    scaleToZero: { enabled: true, idleSeconds: 120 },
  };
  const lastRequest = 98;
  const back = 600;
  const ticks = simulate({
    policy,
    load: (t) => (t <= lastRequest || t >= back ? 8 : 0),
    durationSeconds: 800,
    startupSeconds: 20,
  });

  it('goes to zero idleSeconds after the last request, not before', () => {
    const zero = changes(ticks).find((c) => c.to === 0)!;
    expect(zero.reason).toBe('scale-to-zero');
    expect(zero.from).toBe(1);
    expect(zero.t - lastRequest).toBeGreaterThanOrEqual(120);
    expect(zero.t - lastRequest).toBeLessThanOrEqual(124);
    expect(ticks.filter((k) => k.t > zero.t && k.t < back).every((k) => k.desired === 0)).toBe(true);
  });

  it('wakes at once when a request is held, and does not go back to zero while the group starts', () => {
    const wake = ticks.find((k) => k.t === back)!;
    expect(wake.decision.reason).toBe('wake-from-zero');
    expect(wake.desired).toBe(1);
    expect(wake.decision.message).toMatch(/8 requests held at 0 groups/);
    expect(ticks.filter((k) => k.t > back).every((k) => k.desired === 1)).toBe(true);
  });

  const wakeCases: [string, number, Partial<AutoscalingPolicy>, number][] = [
    ['one held request starts one group', 1, {}, 1],
    ['a crowd starts as many groups as it needs', 40, {}, 3],
    ['…but no more than one step', 100, { maxScaleUpStep: 2 }, 2],
    ['…and no more than maxReplicas', 100, { maxReplicas: 3 }, 3],
    ['nothing held: stays at zero', 0, {}, 0],
  ];
  it.each(wakeCases)('%s', (_name, held, overrides, desired) => {
    const d = decide(
      { ...policy, ...overrides },
      steady(0, 0, { held, seconds: 6 }),
      state(0),
      INITIAL_MEMORY,
      NOW,
    );
    expect(d.decision.desired).toBe(desired);
    expect(d.decision.reason).toBe(held > 0 ? 'wake-from-zero' : 'within-target');
  });

  it('with metric kvCache, an idle group holding KV cache (prefix cache) still scales to zero', () => {
    const kv = { ...policy, metric: 'kvCache' as const, target: 0.8 };
    const idle = steady(0, 1, { tweak: (s) => (s.groups = [{ running: 0, waiting: 0, kvCacheUsage: 0.1 }]) });
    const memory = { ...watched(1), lastActiveAt: NOW - 121_000 };
    const { decision } = decide(kv, idle, state(1), memory, NOW);
    expect(decision).toMatchObject({ desired: 0, reason: 'scale-to-zero' });
    // …but not while a request runs
    const busy = steady(1, 1);
    expect(decide(kv, busy, state(1), memory, NOW).decision.desired).toBe(1);
  });

  it('does not scale to zero when scale-to-zero is off', () => {
    const t = simulate({ policy: P, load: () => 0, durationSeconds: 1200 });
    expect(t.every((k) => k.desired === 1)).toBe(true);
  });

  it('at zero, a held request wakes the service even if the in-flight count could not be read', () => {
    const d = decide(policy, steady(0, 0, { held: 1, inflight: -1 }), state(0), INITIAL_MEMORY, NOW);
    expect(d.decision).toMatchObject({ desired: 1, reason: 'wake-from-zero' });
  });

  it('at zero with the gateway unreadable, says so and stays', () => {
    const d = decide(policy, steady(0, 0, { held: -1, inflight: -1 }), state(0), INITIAL_MEMORY, NOW);
    expect(d.decision).toMatchObject({ desired: 0, reason: 'hold-missing-metrics' });
    expect(d.decision.message).toMatch(/held requests could not be read/);
  });
});

describe('decide: missing metrics are not zero load', () => {
  const missingFirstGroup = (s: SignalSample) => {
    s.groups[0] = null;
  };
  type Case = [
    string,
    SignalSample[],
    ScaleState,
    Partial<{ desired: number; reason: string; missing: number }>,
    RegExp,
  ];
  const cases: Case[] = [
    [
      'one group unseen, little load: hold',
      steady(1, 3, { tweak: missingFirstGroup }),
      state(3),
      { desired: 3, reason: 'hold-missing-metrics', missing: 1 },
      /metrics of 1 of 3 ready groups could not be seen/,
    ],
    [
      'gateway unreadable: hold',
      steady(0, 3, { inflight: -1, held: -1 }),
      state(3),
      { desired: 3, reason: 'hold-missing-metrics', missing: 1 },
      /gateway's in-flight and held requests could not be seen/,
    ],
    [
      'all groups and the gateway unseen: hold',
      steady(0, 2, {
        inflight: -1,
        held: -1,
        tweak: (s) => {
          s.groups = [null, null];
        },
      }),
      state(2),
      { desired: 2, reason: 'hold-missing-metrics', missing: 3 },
      /2 of 2 ready groups and the gateway/,
    ],
    [
      'groups visible at panic level scale up anyway',
      steady(60, 3, { tweak: missingFirstGroup, inflight: -1, held: -1 }),
      state(3),
      { desired: 4, reason: 'panic-scale-up', missing: 2 },
      /could not be seen, yet what can be seen is a burst/,
    ],
    [
      'no sample at all: hold',
      [],
      state(2),
      { desired: 2, reason: 'hold-missing-metrics' },
      /No load sample/,
    ],
    [
      'newest sample is stale: hold',
      steady(0, 2).map((s) => ({ ...s, at: s.at - 60_000 })),
      state(2),
      { desired: 2, reason: 'hold-missing-metrics' },
      /No load sample from the last 10 s/,
    ],
    [
      'a gap earlier in the stable window blocks scale-down',
      steady(0, 3, { tweak: (s, i) => i === 5 && missingFirstGroup(s) }),
      state(3),
      { desired: 3, reason: 'hold-missing-metrics', missing: 0 },
      /some metrics were missing within that window/,
    ],
    [
      '…but not scale-up',
      steady(20, 3, { tweak: (s, i) => i === 5 && missingFirstGroup(s) }),
      state(3),
      { desired: 4, reason: 'scale-up', missing: 0 },
      /scaling up from 3 to 4/,
    ],
  ];

  it.each(cases)('%s', (_name, history, st, expected, message) => {
    const { decision } = decide(P, history, st, INITIAL_MEMORY, NOW);
    expect({
      desired: decision.desired,
      reason: decision.reason,
      missing: decision.inputs.missing,
    }).toMatchObject(expected);
    expect(decision.message).toMatch(message);
  });

  it('a group whose scrape keeps failing never lets the service scale down', () => {
    const ticks = simulate({
      policy: P,
      load: () => 0,
      durationSeconds: 1800,
      startGroups: 3,
      groupMissing: (_t, i) => i === 2,
    });
    expect(ticks.every((k) => k.desired === 3)).toBe(true);
    expect(ticks.every((k) => k.decision.reason === 'hold-missing-metrics')).toBe(true);
  });

  it('a blip of missing metrics delays scale-down, and the service still reaches min afterwards', () => {
    const ticks = simulate({
      policy: P,
      load: (t) => (t < 60 ? 64 : 0),
      durationSeconds: 1500,
      startGroups: 4,
      gatewayMissing: (t) => t >= 400 && t < 420,
    });
    const downs = changes(ticks);
    expect(downs.every((c) => c.t < 400 || c.t >= 420)).toBe(true);
    expect(ticks[ticks.length - 1].desired).toBe(1);
  });
});

describe('decide: capacity exhausted', () => {
  it('cluster with room for two groups: asks once, then holds and says why', () => {
    const policy = { ...P, maxReplicas: 8 };
    const ticks = simulate({
      policy,
      load: (t) => (t < 60 ? 16 : 128),
      durationSeconds: 900,
      clusterGroups: 2,
      startupSeconds: 10,
    });
    expect(Math.max(...ticks.map((k) => k.ready))).toBe(2);
    const firstStuck = ticks.findIndex((k) => k.current > 2 && k.decision.reason === 'hold-capacity');
    expect(firstStuck).toBeGreaterThan(0);
    const stuck = ticks[firstStuck];
    expect(stuck.decision.message).toMatch(/the cluster could not place \d+ pending groups?/);
    // no runaway: once the cluster said no, the ask never grows
    expect(ticks.slice(firstStuck).every((k) => k.desired === stuck.current)).toBe(true);
    expect(stuck.current).toBeLessThanOrEqual(1 + policy.maxScaleUpStep);
  });

  const cases: [string, SignalSample[], ScaleState, number, string][] = [
    ['panic with an unplaceable group pending', steady(64, 1), state(2, 1, 1), 2, 'hold-capacity'],
    ['steady growth with an unplaceable group pending', steady(25, 3), state(4, 3, 1), 4, 'hold-capacity'],
    ['scale-down is still allowed', steady(0, 2), state(3, 2, 1), 2, 'scale-down'],
  ];
  it.each(cases)('%s', (_name, history, st, desired, reason) => {
    const { decision } = decide({ ...P, maxReplicas: 8 }, history, st, watched(1), NOW);
    expect(decision).toMatchObject({ desired, reason });
    expect(decision.inputs.unschedulable).toBe(st.unschedulable);
  });
});

describe('decide: bounds', () => {
  const cases: [string, Partial<AutoscalingPolicy>, SignalSample[], ScaleState, number, string, RegExp][] = [
    [
      'above maxReplicas after a policy change',
      { maxReplicas: 4 },
      steady(16, 6),
      state(6),
      4,
      'clamped-to-bounds',
      /above maxReplicas 4/,
    ],
    [
      'below minReplicas after a policy change',
      { minReplicas: 2 },
      steady(0, 1),
      state(1),
      2,
      'clamped-to-bounds',
      /below minReplicas 2/,
    ],
    [
      'load beyond maxReplicas at max',
      { maxReplicas: 4 },
      steady(20, 4),
      state(4),
      4,
      'clamped-to-bounds',
      /maxReplicas is 4/,
    ],
    [
      'burst beyond maxReplicas at max',
      { maxReplicas: 4 },
      steady(50, 4),
      state(4),
      4,
      'clamped-to-bounds',
      /maxReplicas is 4/,
    ],
    [
      'burst capped by maxReplicas',
      { maxReplicas: 3 },
      steady(200, 1),
      state(1),
      3,
      'panic-scale-up',
      /maxReplicas is 3/,
    ],
    [
      'burst capped by maxScaleUpStep',
      { maxReplicas: 8, maxScaleUpStep: 2 },
      steady(200, 1),
      state(1),
      3,
      'panic-scale-up',
      /at most 2 added per step/,
    ],
    [
      'no load at minReplicas',
      { minReplicas: 1 },
      steady(0, 1),
      state(1),
      1,
      'within-target',
      /staying at minReplicas 1/,
    ],
    [
      'at zero with minReplicas 1 (policy changed)',
      { minReplicas: 1 },
      steady(0, 0),
      state(0),
      1,
      'clamped-to-bounds',
      /0 groups is below minReplicas 1/,
    ],
  ];
  it.each(cases)('%s', (_name, overrides, history, st, desired, reason, message) => {
    const { decision } = decide({ ...P, ...overrides }, history, st, INITIAL_MEMORY, NOW);
    expect(decision).toMatchObject({ desired, reason });
    expect(decision.message).toMatch(message);
  });
});

describe('decide: metrics', () => {
  const sample = (groups: GroupSignal[], inflight: number, held = 0): SignalSample[] =>
    steady(0, groups.length, { inflight, held, tweak: (s) => (s.groups = groups.map((g) => ({ ...g }))) });
  const g = (running: number, waiting: number, kvCacheUsage: number): GroupSignal => ({
    running,
    waiting,
    kvCacheUsage,
  });
  const cases: [string, Partial<AutoscalingPolicy>, SignalSample[], number][] = [
    ['concurrency = running + waiting over groups', {}, sample([g(10, 6, 0), g(10, 6, 0)], 0), 32],
    [
      'concurrency sees what the gateway proxies to an unseen group',
      {},
      sample([g(10, 0, 0), g(10, 0, 0)], 30),
      30,
    ],
    ['concurrency counts held requests', {}, sample([g(8, 0, 0)], 8, 5), 13],
    [
      'waiting = queued + held',
      { metric: 'waiting', target: 4 },
      sample([g(30, 3, 0), g(30, 1, 0)], 60, 2),
      6,
    ],
    [
      'kvCache = sum of KV use',
      { metric: 'kvCache', target: 0.8 },
      sample([g(1, 0, 0.9), g(1, 0, 0.7)], 2),
      1.6,
    ],
  ];
  it.each(cases)('%s', (_name, overrides, history, stableValue) => {
    const { decision } = decide(
      { ...P, ...overrides },
      history,
      state(history[0].readyGroups),
      INITIAL_MEMORY,
      NOW,
    );
    expect(decision.inputs.stableValue).toBeCloseTo(stableValue, 9);
  });

  it.each([
    [16, 16, 1],
    [16.0000000001, 16, 1],
    [17, 16, 2],
    [0, 16, 0],
    [2.4, 0.8, 3],
  ])('groupsFor(%s, %s) = %s', (load, target, groups) => {
    expect(groupsFor(load, target)).toBe(groups);
  });
});

describe('decide: purity', () => {
  it('does not change its inputs and answers the same twice', () => {
    const history = steady(40, 2);
    const memory: AutoscalerMemory = {
      ...INITIAL_MEMORY,
      recommendations: [{ at: NOW - 10_000, desired: 3 }],
    };
    const snapshot = JSON.stringify({ history, memory });
    const a = decide(P, history, state(2), memory, NOW);
    const b = decide(P, history, state(2), memory, NOW);
    expect(JSON.stringify({ history, memory })).toBe(snapshot);
    expect(a).toEqual(b);
  });

  it('carries every input in the decision', () => {
    const { decision } = decide(P, steady(20, 2), state(3, 2), INITIAL_MEMORY, NOW);
    expect(decision.inputs).toEqual({
      metric: 'concurrency',
      stableValue: 40,
      panicValue: 40,
      target: 16,
      current: 3,
      ready: 2,
      pending: 1,
      unschedulable: 0,
      missing: 0,
    });
  });

  it('forgets recommendations older than its windows', () => {
    const old = { at: NOW - 3_600_000, desired: 9 };
    const { memory } = decide(P, steady(16, 1), state(1), { ...INITIAL_MEMORY, recommendations: [old] }, NOW);
    expect(memory.recommendations).toEqual([{ at: NOW, desired: 1 }]);
  });
});
