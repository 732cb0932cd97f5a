import { describe, expect, it } from 'vitest';
import type { LeaderWorkerSet } from '../types/lws';
import { defaultLeaderWorkerSet, validateLeaderWorkerSet } from './webhook';

const lws = (spec: Partial<LeaderWorkerSet['spec']> = {}, name = 'web'): LeaderWorkerSet =>
  defaultLeaderWorkerSet({
    metadata: { name },
    spec: {
      replicas: 2,
      leaderWorkerTemplate: {
        size: 2,
        workerTemplate: { spec: { containers: [{ name: 'c', image: 'i' }] } },
      },
      ...spec,
    },
  });

const errors = (o: LeaderWorkerSet, old?: LeaderWorkerSet): string[] =>
  validateLeaderWorkerSet(o, old).map((e) => `${e.field}: ${e.body}`);

describe('defaultLeaderWorkerSet', () => {
  it('fills the rollout strategy, network config and restart policy', () => {
    const out = lws({
      leaderWorkerTemplate: { restartPolicy: 'Default', workerTemplate: { spec: { containers: [] } } },
    });
    expect(out.spec.rolloutStrategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdateConfiguration: { maxUnavailable: 1, maxSurge: 0, partition: 0 },
    });
    expect(out.spec.networkConfig).toEqual({ subdomainPolicy: 'Shared' });
    expect(out.spec.leaderWorkerTemplate.restartPolicy).toBe('None');
  });

  it('adds what the Go round trip adds: template metadata {} and container resources {}', () => {
    const out = lws({
      leaderWorkerTemplate: {
        size: 2,
        leaderTemplate: {
          spec: { containers: [{ name: 'l', image: 'i', resources: { limits: { cpu: '1' } } }] },
        },
        workerTemplate: {
          metadata: { labels: { a: 'b' } },
          spec: { containers: [{ name: 'c', image: 'i' }] },
        },
      },
    });
    expect(out.spec.leaderWorkerTemplate.leaderTemplate).toEqual({
      metadata: {},
      spec: { containers: [{ name: 'l', image: 'i', resources: { limits: { cpu: '1' } } }] },
    });
    expect(out.spec.leaderWorkerTemplate.workerTemplate).toEqual({
      metadata: { labels: { a: 'b' } },
      spec: { containers: [{ name: 'c', image: 'i', resources: {} }] },
    });
  });
});

describe('validateLeaderWorkerSet', () => {
  it.each([
    ['valid', lws(), []],
    [
      'name',
      lws({}, '1web'),
      [
        "metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
      ],
    ],
    [
      'replicas',
      lws({ replicas: -1 }),
      ['spec.replicas: Invalid value: -1: replicas must be equal or greater than 0'],
    ],
    [
      'size',
      lws({
        leaderWorkerTemplate: {
          size: 0,
          workerTemplate: { spec: { containers: [{ name: 'c', image: 'i' }] } },
        },
      }),
      ['spec.leaderWorkerTemplate.size: Invalid value: 0: size must be equal or greater than 1'],
    ],
    [
      'surge and unavailable 0',
      lws({
        rolloutStrategy: {
          type: 'RollingUpdate',
          rollingUpdateConfiguration: { maxUnavailable: 0, maxSurge: 0, partition: 0 },
        },
      }),
      [
        'spec.rolloutStrategy.rollingUpdateConfiguration.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: must not be 0 when `maxSurge` is 0',
      ],
    ],
    [
      'percent over 100',
      lws({
        rolloutStrategy: {
          type: 'RollingUpdate',
          rollingUpdateConfiguration: { maxUnavailable: '150%', maxSurge: 0, partition: 0 },
        },
      }),
      [
        'spec.rolloutStrategy.rollingUpdateConfiguration.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"150%"}: must not be greater than 100%',
      ],
    ],
    [
      // Upstream's webhook does not check pod templates (the StatefulSet API does, when it is created).
      'no image',
      lws({ leaderWorkerTemplate: { size: 2, workerTemplate: { spec: { containers: [{ name: 'c' }] } } } }),
      [],
    ],
    [
      'negative maxUnavailable (an int64 in the message, upstream typo included); partition is not checked',
      lws({
        rolloutStrategy: {
          type: 'RollingUpdate',
          rollingUpdateConfiguration: { maxUnavailable: -1, maxSurge: 1, partition: -1 },
        },
      }),
      [
        'spec.rolloutStrategy.rollingUpdateConfiguration.maxUnavailable: Invalid value: -1: must be grater than or equal to 0',
      ],
    ],
    [
      'subgroup',
      lws({
        leaderWorkerTemplate: {
          size: 4,
          subGroupPolicy: { subGroupSize: 3 },
          workerTemplate: { spec: { containers: [{ name: 'c', image: 'i' }] } },
        },
      }),
      [],
    ],
    [
      'bad subgroup',
      lws({
        leaderWorkerTemplate: {
          size: 5,
          subGroupPolicy: { subGroupSize: 3 },
          workerTemplate: { spec: { containers: [{ name: 'c', image: 'i' }] } },
        },
      }),
      [
        'spec.leaderWorkerTemplate.SubGroupPolicy.subGroupSize: Invalid value: 3: size or size - 1 must be divisible by subGroupSize',
      ],
    ],
  ])('%s', (_name, o, expected) => {
    expect(errors(o)).toEqual(expected);
  });

  it('forbids enabling subGroupSize on update', () => {
    const old = lws();
    const next = lws({
      leaderWorkerTemplate: {
        size: 2,
        subGroupPolicy: { subGroupSize: 1 },
        workerTemplate: { spec: { containers: [{ name: 'c', image: 'i' }] } },
      },
    });
    expect(errors(next, old)).toEqual([
      'spec.leaderWorkerTemplate.SubGroupPolicy.subGroupSize: Invalid value: 1: cannot enable subGroupSize after the lws is already created',
    ]);
  });
});
