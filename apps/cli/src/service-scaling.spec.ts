import { describe, expect, it } from 'vitest';
import { ScalingView } from './api-client';
import { autoscalingBody, metricName, positiveNumber, showScaling } from './service-scaling';

describe('autoscalingBody', () => {
  it.each<[string, Parameters<typeof autoscalingBody>[0], Record<string, unknown> | undefined]>([
    ['no flags: show, do not PUT', {}, undefined],
    ['--enable alone resumes', { enable: true }, { enabled: true }],
    ['--disable', { disable: true }, { enabled: false }],
    [
      'bounds, metric and target',
      { min: 1, max: 4, metric: 'waiting', target: 2 },
      { minReplicas: 1, maxReplicas: 4, metric: 'waiting', target: 2 },
    ],
    [
      'windows and steps',
      {
        stableWindow: 60,
        panicWindow: 6,
        panicThreshold: 2,
        scaleUpStabilization: 0,
        scaleDownStabilization: 300,
        maxScaleUpStep: 2,
        maxScaleDownStep: 1,
        scaleDownStep: 30,
      },
      {
        stableWindowSeconds: 60,
        panicWindowSeconds: 6,
        panicThreshold: 2,
        scaleUpStabilizationSeconds: 0,
        scaleDownStabilizationSeconds: 300,
        maxScaleUpStep: 2,
        maxScaleDownStep: 1,
        scaleDownStepSeconds: 30,
      },
    ],
    [
      'scale to zero with idle period',
      { min: 0, scaleToZero: true, idle: 600 },
      { minReplicas: 0, scaleToZero: { enabled: true, idleSeconds: 600 } },
    ],
    ['--no-scale-to-zero', { scaleToZero: false }, { scaleToZero: { enabled: false } }],
    ['idle period alone', { idle: 60 }, { scaleToZero: { idleSeconds: 60 } }],
  ])('%s', (_, opts, expected) => {
    expect(autoscalingBody(opts)).toEqual(expected);
  });

  it('refuses --enable with --disable', () => {
    expect(() => autoscalingBody({ enable: true, disable: true })).toThrow(/exclude/);
  });
});

describe('option parsers', () => {
  it.each(['0', '-1', 'x', '', 'Infinity'])('positiveNumber rejects %j', (v) => {
    expect(() => positiveNumber(v)).toThrow();
  });
  it('positiveNumber takes fractions (kvCache targets)', () => {
    expect(positiveNumber('0.8')).toBe(0.8);
  });
  it('metricName takes the three metrics only', () => {
    expect(metricName('kvCache')).toBe('kvCache');
    expect(() => metricName('tokens')).toThrow(/concurrency, waiting, kvCache/);
  });
});

describe('showScaling', () => {
  const policy = {
    enabled: true,
    minReplicas: 1,
    maxReplicas: 4,
    metric: 'concurrency',
    target: 16,
    stableWindowSeconds: 60,
    panicWindowSeconds: 6,
    panicThreshold: 2,
    scaleUpStabilizationSeconds: 0,
    scaleDownStabilizationSeconds: 300,
    maxScaleUpStep: 4,
    maxScaleDownStep: 1,
    scaleDownStepSeconds: 30,
    scaleToZero: { enabled: false, idleSeconds: 600 },
  };
  it('says who sets the groups, the policy and the last decision', () => {
    const s: ScalingView = {
      owner: 'autoscaler',
      pinnedReplicas: null,
      policy,
      lastDecision: {
        desired: 3,
        current: 1,
        reason: 'panic-scale-up',
        message: 'A burst of 40 requests',
        at: '2026-01-01T00:00:00.000Z',
      },
    };
    const text = showScaling('llm', s);
    expect(text).toContain('groups set by the autoscaler');
    expect(text).toContain('1..4 groups, concurrency target 16 per group');
    expect(text).toContain('panic-scale-up, 1 -> 3 groups');
    expect(text).toContain('A burst of 40 requests');
  });
  it('shows a pin', () => {
    expect(showScaling('llm', { owner: 'admin', pinnedReplicas: 2, policy, lastDecision: null })).toContain(
      'an admin (pinned at 2; autoscaling paused)',
    );
  });
  it('shows a service the spec scales', () => {
    expect(
      showScaling('llm', { owner: 'spec', pinnedReplicas: null, policy: null, lastDecision: null }),
    ).toMatch(/the spec[\s\S]*policy: none/);
  });
});
