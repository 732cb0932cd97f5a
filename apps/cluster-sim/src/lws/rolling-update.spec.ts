import { describe, expect, it } from 'vitest';
import { rollingUpdateParameters, rollingUpdatePartition, type ReplicaState } from './rolling-update';

const S = (code: string): ReplicaState[] =>
  // r = ready+updated, o = ready old, u = updated not ready, x = not ready old
  [...code].map((c) => ({ ready: c === 'r' || c === 'o', updated: c === 'r' || c === 'u' }));

describe('rollingUpdatePartition', () => {
  it.each([
    // states, stsReplicas, step, current partition, expected
    ['oooo', 4, 1, 4, 3],
    ['ooor', 4, 1, 3, 2],
    ['oorr', 4, 1, 2, 1],
    ['oour', 4, 1, 2, 2], // group 2 updating, not ready yet: wait
    ['orrr', 4, 1, 1, 0],
    ['oooo', 4, 2, 4, 2],
    ['xooo', 4, 1, 4, 4], // an unready group below the step uses up maxUnavailable: wait
    ['xxxx', 4, 1, 4, 3], // nothing is available: keep going
  ])('%s step %i', (states, sts, step, current, expected) => {
    expect(
      rollingUpdatePartition(S(states as string), sts as number, step as number, current as number),
    ).toBe(expected);
  });
});

describe('rollingUpdateParameters', () => {
  it('creates the leader StatefulSet with partition 0', () => {
    expect(
      rollingUpdateParameters({
        lwsReplicas: 3,
        maxSurge: 1,
        maxUnavailable: 1,
        lwsPartition: 0,
        lwsUpdated: false,
        states: () => [],
      }),
    ).toEqual({ partition: 0, replicas: 3 });
  });

  it('scales without a rolling update', () => {
    const sts = { replicas: 3, partition: 0, lwsReplicasAnnotation: 3 };
    expect(
      rollingUpdateParameters({
        lwsReplicas: 4,
        maxSurge: 0,
        maxUnavailable: 1,
        lwsPartition: 0,
        lwsUpdated: false,
        sts,
        states: () => S('ooo'),
      }),
    ).toMatchObject({ partition: 0, replicas: 4 });
    expect(
      rollingUpdateParameters({
        lwsReplicas: 2,
        maxSurge: 0,
        maxUnavailable: 1,
        lwsPartition: 0,
        lwsUpdated: false,
        sts,
        states: () => S('ooo'),
      }),
    ).toMatchObject({ partition: 0, replicas: 2 });
  });

  it('respects spec partition', () => {
    const sts = { replicas: 4, partition: 4, lwsReplicasAnnotation: 4 };
    const out = rollingUpdateParameters({
      lwsReplicas: 4,
      maxSurge: 0,
      maxUnavailable: 4,
      lwsPartition: 2,
      lwsUpdated: false,
      sts,
      states: () => S('oooo'),
    });
    expect(out.partition).toBe(2);
  });

  /**
   * Drives a whole rolling update of 4 groups with maxSurge 1, maxUnavailable 1: each step applies the
   * controller output, then groups at or above the partition get the new template (unready), and
   * groups updated in the previous step become ready.
   */
  it('updates groups from the highest index down, using a surge group', () => {
    const lwsReplicas = 4;
    let groups: string[] = ['o', 'o', 'o', 'o'];
    let sts = { replicas: 4, partition: 0, lwsReplicasAnnotation: 4 };
    const trace: string[] = [];
    let lwsUpdated = true;
    for (let step = 0; step < 30; step++) {
      const out = rollingUpdateParameters({
        lwsReplicas,
        maxSurge: 1,
        maxUnavailable: 1,
        lwsPartition: 0,
        lwsUpdated,
        sts,
        states: () => S(groups.join('')),
      });
      lwsUpdated = false;
      sts = { replicas: out.replicas, partition: out.partition, lwsReplicasAnnotation: lwsReplicas };
      // apply: groups updating since the last step become ready; resize; recreate outdated groups
      // at or above the partition (they come back updated but not ready)
      groups = groups.map((g) => (g === 'u' ? 'r' : g)).slice(0, out.replicas);
      while (groups.length < out.replicas) groups.push('u');
      groups = groups.map((g, i) => (i >= out.partition && g === 'o' ? 'u' : g));
      trace.push(`${out.replicas}/${out.partition}:${groups.join('')}`);
      if (out.partition === 0 && out.replicas === lwsReplicas && groups.every((g) => g === 'r')) break;
    }
    expect(trace[0]).toBe('5/4:oooou');
    expect(trace.at(-1)).toBe('4/0:rrrr');
    // the surge group (index 4) exists during the update and is gone at the end
    expect(trace.some((t) => t.startsWith('5/'))).toBe(true);
    // groups are updated from the highest index down
    const firstUpdate = (i: number): number => trace.findIndex((t) => t.split(':')[1][i] !== 'o');
    expect(firstUpdate(3)).toBeLessThanOrEqual(firstUpdate(2));
    expect(firstUpdate(2)).toBeLessThanOrEqual(firstUpdate(1));
    expect(firstUpdate(1)).toBeLessThanOrEqual(firstUpdate(0));
  });
});
