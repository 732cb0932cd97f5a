import type { LeaderWorkerSet } from '@troupe/lws';
import { describe, expect, it } from 'vitest';
import { observe, PodFacts } from './service-phase';

const lws = (
  replicas: number,
  status: Partial<NonNullable<LeaderWorkerSet['status']>> = {},
): LeaderWorkerSet =>
  ({
    apiVersion: 'leaderworkerset.x-k8s.io/v1',
    kind: 'LeaderWorkerSet',
    metadata: { name: 's', namespace: 'ns' },
    spec: { replicas, leaderWorkerTemplate: { size: 2, workerTemplate: { spec: { containers: [] } } } },
    status: { replicas, readyReplicas: 0, updatedReplicas: replicas, ...status },
  }) as unknown as LeaderWorkerSet;
const leader = (g: number, ready = true, extra: Partial<PodFacts> = {}): PodFacts => ({
  name: `s-${g}`,
  groupIndex: g,
  workerIndex: 0,
  phase: 'Running',
  ready,
  ip: `127.0.1.${g + 1}`,
  port: 8000,
  terminating: false,
  ...extra,
});
const now = new Date('2026-01-01T00:00:00Z');

describe('observe', () => {
  it.each([
    ['no LWS yet', undefined, [], 'PENDING'],
    ['nothing ready', lws(2), [leader(0, false)], 'DEPLOYING'],
    ['some ready', lws(2, { readyReplicas: 1 }), [leader(0), leader(1, false)], 'DEGRADED'],
    ['all ready', lws(2, { readyReplicas: 2 }), [leader(0), leader(1)], 'READY'],
    [
      'rolling update',
      lws(2, {
        readyReplicas: 1,
        updatedReplicas: 1,
        conditions: [
          {
            type: 'UpdateInProgress',
            status: 'True',
            reason: 'GroupsUpdating',
            message: '',
            lastTransitionTime: '',
          },
        ],
      }),
      [leader(0)],
      'UPDATING',
    ],
    [
      'unschedulable',
      lws(2),
      [
        leader(0, false, {
          phase: 'Pending',
          ip: undefined,
          unschedulableMessage: '0/4 nodes are available: 4 Insufficient nvidia.com/gpu.',
        }),
      ],
      'FAILED',
    ],
  ] as const)('%s -> %s', (_, l, pods, phase) => {
    expect(observe(l as LeaderWorkerSet | undefined, [...pods], 2, now).phase).toBe(phase);
  });

  it('lists only ready, running, non-terminating leaders as endpoints', () => {
    const { observed } = observe(
      lws(3, { readyReplicas: 1 }),
      [
        leader(2),
        leader(0, true, { terminating: true }),
        leader(1, false),
        { ...leader(0), name: 's-0-1', workerIndex: 1 },
      ],
      3,
      now,
    );
    expect(observed.leaderEndpoints).toEqual([{ group: 2, pod: 's-2', ip: '127.0.1.3', port: 8000 }]);
  });

  it('says why an unschedulable service failed', () => {
    const r = observe(
      lws(1),
      [leader(0, false, { phase: 'Pending', unschedulableMessage: 'Insufficient nvidia.com/gpu' })],
      1,
      now,
    );
    expect(r.reason).toBe('unschedulable: Insufficient nvidia.com/gpu');
    expect(r.observed.unschedulable).toBe('Insufficient nvidia.com/gpu');
  });
});
