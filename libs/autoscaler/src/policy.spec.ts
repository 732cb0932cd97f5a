import { describe, expect, it } from 'vitest';
import { DEFAULT_AUTOSCALING_POLICY, DEFAULT_TARGETS, resolvePolicy } from './policy';
import type { AutoscalingPolicy } from './types';

function ok(input: unknown, previous?: AutoscalingPolicy): AutoscalingPolicy {
  const r = resolvePolicy(input, previous);
  if ('issues' in r) throw new Error(`unexpected issues: ${JSON.stringify(r.issues)}`);
  return r.policy;
}

describe('resolvePolicy: merging', () => {
  it('an empty or absent input gives the defaults', () => {
    expect(ok({})).toEqual(DEFAULT_AUTOSCALING_POLICY);
    expect(ok(undefined)).toEqual(DEFAULT_AUTOSCALING_POLICY);
  });

  it('a stored policy reads back unchanged', () => {
    const stored = JSON.parse(JSON.stringify({ ...DEFAULT_AUTOSCALING_POLICY, maxReplicas: 9 })) as unknown;
    expect(ok(stored)).toEqual({ ...DEFAULT_AUTOSCALING_POLICY, maxReplicas: 9 });
  });

  it('fields not given keep the previous policy, nested ones included', () => {
    const previous: AutoscalingPolicy = {
      ...DEFAULT_AUTOSCALING_POLICY,
      minReplicas: 0,
      maxReplicas: 8,
      target: 10,
      scaleToZero: { enabled: true, idleSeconds: 300 },
    };
    expect(ok({ scaleToZero: { idleSeconds: 60 } }, previous)).toEqual({
      ...previous,
      scaleToZero: { enabled: true, idleSeconds: 60 },
    });
    expect(ok({ maxReplicas: 6 }, previous)).toEqual({ ...previous, maxReplicas: 6 });
  });

  it.each([
    [
      'a new metric without a target takes that metric’s default target',
      { metric: 'kvCache' },
      'kvCache',
      DEFAULT_TARGETS.kvCache,
    ],
    ['a new metric with a target keeps that target', { metric: 'kvCache', target: 0.6 }, 'kvCache', 0.6],
    ['the same metric keeps the previous target', { metric: 'concurrency' }, 'concurrency', 10],
    ['only a target changes the target', { target: 12 }, 'concurrency', 12],
  ])('%s', (_name, input, metric, target) => {
    const previous = { ...DEFAULT_AUTOSCALING_POLICY, target: 10 };
    expect(ok(input, previous)).toMatchObject({ metric, target });
  });
});

describe('resolvePolicy: problems name the field', () => {
  const cases: [string, unknown, string, RegExp][] = [
    ['negative minReplicas', { minReplicas: -1 }, 'minReplicas', /at least 0/],
    ['fractional minReplicas', { minReplicas: 1.5 }, 'minReplicas', /whole number/],
    ['zero maxReplicas', { maxReplicas: 0 }, 'maxReplicas', /at least 1/],
    ['unknown metric', { metric: 'rps' }, 'metric', /one of concurrency, waiting, kvCache/],
    ['zero target', { target: 0 }, 'target', /greater than 0/],
    ['kvCache target above 1', { metric: 'kvCache', target: 5 }, 'target', /fraction/],
    ['min above max', { minReplicas: 5, maxReplicas: 3 }, 'minReplicas', /above maxReplicas \(3\)/],
    [
      'panic window longer than the stable window',
      { panicWindowSeconds: 120 },
      'panicWindowSeconds',
      /stableWindowSeconds \(60\)/,
    ],
    ['stable window too short', { stableWindowSeconds: 2 }, 'stableWindowSeconds', /at least 6/],
    ['panic threshold of 100%', { panicThreshold: 1 }, 'panicThreshold', /at least 1.1/],
    ['minReplicas 0 without scale-to-zero', { minReplicas: 0 }, 'minReplicas', /scaleToZero.enabled/],
    [
      'scale-to-zero with minReplicas 1',
      { scaleToZero: { enabled: true } },
      'scaleToZero.enabled',
      /minReplicas 0/,
    ],
    ['idle period of 0', { scaleToZero: { idleSeconds: 0 } }, 'scaleToZero.idleSeconds', /at least 1/],
    ['scaleToZero not an object', { scaleToZero: true }, 'scaleToZero', /object/],
    ['unknown field', { minReplica: 1 }, 'minReplica', /unknown field/],
    ['unknown nested field', { scaleToZero: { idle: 5 } }, 'scaleToZero.idle', /unknown field/],
    ['enabled not a boolean', { enabled: 'yes' }, 'enabled', /true or false/],
    ['zero scale-up step', { maxScaleUpStep: 0 }, 'maxScaleUpStep', /at least 1/],
    ['not an object', 'fast please', 'autoscaling', /JSON object/],
  ];

  it.each(cases)('%s', (_name, input, field, message) => {
    const r = resolvePolicy(input);
    expect('issues' in r).toBe(true);
    const issues = 'issues' in r ? r.issues : [];
    expect(issues).toContainEqual({ field, message: expect.stringMatching(message) as unknown as string });
  });

  it('reports every field problem at once', () => {
    const r = resolvePolicy({ minReplicas: -1, metric: 'x', nope: true });
    expect('issues' in r && r.issues.map((i) => i.field).sort()).toEqual(['metric', 'minReplicas', 'nope']);
  });

  it('a valid partial input over a previous policy can still break a cross-field rule', () => {
    const previous = { ...DEFAULT_AUTOSCALING_POLICY, maxReplicas: 2 };
    const r = resolvePolicy({ minReplicas: 3 }, previous);
    expect(r).toEqual({
      issues: [{ field: 'minReplicas', message: 'minReplicas (3) is above maxReplicas (2)' }],
    });
  });
});
