import type { Pod } from '@troupe/kube';
import { LWS_LABELS, LeaderWorkerSet } from '@troupe/lws';
import { describe, expect, it } from 'vitest';
import { groupsNow } from './scale-state';

const lws = (replicas: number, size = 2) =>
  ({
    apiVersion: 'leaderworkerset.x-k8s.io/v1',
    kind: 'LeaderWorkerSet',
    metadata: { name: 'llm', namespace: 'ns' },
    spec: { replicas, leaderWorkerTemplate: { size } },
  }) as unknown as LeaderWorkerSet;

type State = 'ready' | 'running' | 'pending' | 'unschedulable' | 'terminating';
const pod = (group: number, worker: number, state: State): Pod => ({
  metadata: {
    name: worker === 0 ? `llm-${group}` : `llm-${group}-${worker}`,
    namespace: 'ns',
    labels: {
      [LWS_LABELS.name]: 'llm',
      [LWS_LABELS.groupIndex]: String(group),
      [LWS_LABELS.workerIndex]: String(worker),
    },
    ...(state === 'terminating' ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
  },
  status: {
    phase: state === 'pending' || state === 'unschedulable' ? 'Pending' : 'Running',
    conditions: [
      ...(state === 'unschedulable'
        ? [
            {
              type: 'PodScheduled',
              status: 'False' as const,
              reason: 'Unschedulable',
              message: '0/4 nodes are available: 4 Insufficient nvidia.com/gpu.',
            },
          ]
        : [{ type: 'PodScheduled', status: 'True' as const }]),
      { type: 'Ready', status: state === 'ready' || state === 'terminating' ? 'True' : 'False' },
    ],
  },
});
const group = (g: number, leader: State, worker: State = leader) => [pod(g, 0, leader), pod(g, 1, worker)];

describe('groupsNow', () => {
  it.each<[string, number, Pod[], Partial<ReturnType<typeof groupsNow>>]>([
    ['no pods yet', 2, [], { current: 2, ready: 0, pending: 2, unschedulable: 0, readyGroupIndexes: [] }],
    [
      'all ready',
      2,
      [...group(0, 'ready'), ...group(1, 'ready')],
      { current: 2, ready: 2, pending: 0, unschedulable: 0, readyGroupIndexes: [0, 1] },
    ],
    [
      'leader ready, worker still starting: group not ready',
      1,
      group(0, 'ready', 'running'),
      { ready: 0, pending: 1, unschedulable: 0 },
    ],
    ['a group missing its worker pod is not ready', 1, [pod(0, 0, 'ready')], { ready: 0, pending: 1 }],
    [
      'one group cannot be placed',
      3,
      [...group(0, 'ready'), ...group(1, 'ready'), ...group(2, 'ready', 'unschedulable')],
      { ready: 2, pending: 1, unschedulable: 1 },
    ],
    [
      'pending but schedulable (pulling image) is not unschedulable',
      2,
      [...group(0, 'ready'), ...group(1, 'pending')],
      { ready: 1, pending: 1, unschedulable: 0 },
    ],
    [
      'groups above spec.replicas (being removed) are ignored',
      1,
      [...group(0, 'ready'), ...group(1, 'ready'), ...group(2, 'unschedulable')],
      { current: 1, ready: 1, pending: 0, unschedulable: 0, readyGroupIndexes: [0] },
    ],
    ['terminating pods do not count', 1, group(0, 'terminating'), { ready: 0, pending: 1 }],
    ['scaled to zero', 0, [], { current: 0, ready: 0, pending: 0, unschedulable: 0 }],
  ])('%s', (_, replicas, pods, expected) => {
    expect(groupsNow(lws(replicas), pods)).toMatchObject(expected);
  });

  it('keeps the scheduler message of an unschedulable group', () => {
    const s = groupsNow(lws(1), group(0, 'unschedulable'));
    expect(s.unschedulableMessage).toMatch(/Insufficient nvidia.com\/gpu/);
  });
});
