import type { Decision, SignalSample } from '@troupe/autoscaler';
import { describe, expect, it } from 'vitest';
import { buildSample, eventFor, eventReason, pushSample, scaledClock } from './tick';

const sample = (at: number): SignalSample => ({
  at,
  readyGroups: 0,
  groups: [],
  gatewayInflight: 0,
  gatewayHeld: 0,
});

describe('scaledClock', () => {
  it('is the wall clock at rate 1', () => {
    expect(scaledClock(1, 1000)(5000)).toBe(5000);
  });
  it('runs faster from a shared origin, so that two processes agree', () => {
    expect(scaledClock(10)(1_700_000_000_000)).toBe(scaledClock(10)(1_700_000_000_000));
    expect(scaledClock(10)(2000) - scaledClock(10)(1000)).toBe(10_000);
  });
  it('runs faster from its origin', () => {
    const now = scaledClock(10, 1000);
    expect(now(1000)).toBe(1000);
    expect(now(1500)).toBe(6000);
  });
});

describe('pushSample', () => {
  it('keeps the window, drops older samples and ones from the future', () => {
    const h = [sample(0), sample(4000), sample(9000), sample(20_000)];
    expect(pushSample(h, sample(12_000), 10_000).map((s) => s.at)).toEqual([4000, 9000, 12_000]);
  });
});

describe('buildSample', () => {
  const load = { running: 2, waiting: 1, kvCacheUsage: 0.3, generationTokensTotal: 5 };
  it.each([
    [
      'scrapes and gateway counts',
      { loads: [load, null], gateway: { inflight: 4, held: 0 }, gatewayReadable: true, wokenRecently: false },
      {
        readyGroups: 2,
        groups: [{ running: 2, waiting: 1, kvCacheUsage: 0.3 }, null],
        gatewayInflight: 4,
        gatewayHeld: 0,
      },
    ],
    [
      'a service no gateway reported is zero gateway load',
      { loads: [], gateway: undefined, gatewayReadable: true, wokenRecently: false },
      { readyGroups: 0, groups: [], gatewayInflight: 0, gatewayHeld: 0 },
    ],
    [
      'Redis unreadable: -1, not zero',
      { loads: [], gateway: null, gatewayReadable: false, wokenRecently: false },
      { gatewayInflight: -1, gatewayHeld: -1 },
    ],
    [
      'a wake signal counts as a held request before the hash shows it',
      { loads: [], gateway: undefined, gatewayReadable: true, wokenRecently: true },
      { gatewayHeld: 1 },
    ],
    [
      'a wake with Redis unreadable still wakes',
      { loads: [], gateway: null, gatewayReadable: false, wokenRecently: true },
      { gatewayHeld: 1, gatewayInflight: -1 },
    ],
    [
      'a wake does not lower what the gateways report',
      { loads: [], gateway: { inflight: 0, held: 7 }, gatewayReadable: true, wokenRecently: true },
      { gatewayHeld: 7 },
    ],
  ])('%s', (_, args, expected) => {
    expect(buildSample({ at: 1, ...args })).toMatchObject(expected);
  });
});

describe('eventFor', () => {
  const decision = (desired: number, reason: Decision['reason']): Decision => ({
    desired,
    reason,
    message: 'why',
    panic: false,
    inputs: {
      metric: 'concurrency',
      stableValue: 1,
      panicValue: 1,
      target: 1,
      current: 1,
      ready: 1,
      pending: 0,
      unschedulable: 0,
      missing: 0,
    },
  });
  it.each<[string, Decision, number, Decision['reason'] | undefined, string | null]>([
    ['a change is always recorded', decision(3, 'scale-up'), 1, 'scale-up', 'Normal ScaleUp'],
    ['a hold with the same reason is not', decision(2, 'hold-capacity'), 2, 'hold-capacity', null],
    [
      'a hold with a new reason is, as a warning',
      decision(2, 'hold-capacity'),
      2,
      'scale-up',
      'Warning HoldCapacity',
    ],
    ['the first decision is recorded', decision(1, 'within-target'), 1, undefined, 'Normal WithinTarget'],
    [
      'missing metrics warn',
      decision(1, 'hold-missing-metrics'),
      1,
      'within-target',
      'Warning HoldMissingMetrics',
    ],
  ])('%s', (_, d, current, previous, expected) => {
    const e = eventFor(d, current, previous);
    expect(e ? `${e.type} ${e.reason}` : null).toBe(expected);
  });
  it('says what changed', () => {
    expect(eventFor(decision(3, 'panic-scale-up'), 1, undefined)?.message).toBe(
      'autoscaler: 1 -> 3 groups: why',
    );
  });
  it('names reasons in PascalCase', () => {
    expect(eventReason('hold-missing-metrics')).toBe('HoldMissingMetrics');
  });
});
