import { describe, expect, it } from 'vitest';
import { computeStatus, type GroupObservation } from './status';

const g = (index: number, ready: boolean, updated = true, missingWorkers = false): GroupObservation => ({
  index,
  ready,
  updated,
  missingWorkers,
});
const now = '2025-01-01T00:00:00Z';

describe('computeStatus', () => {
  it('is Progressing while groups are not ready', () => {
    const out = computeStatus({
      replicas: 2,
      partition: 0,
      groups: [g(0, true), g(1, false)],
      conditions: [],
      now,
    });
    expect(out.readyReplicas).toBe(1);
    expect(out.conditions).toEqual([
      expect.objectContaining({ type: 'Progressing', status: 'True', reason: 'GroupsProgressing' }),
    ]);
    expect(out.event).toEqual({
      reason: 'GroupsProgressing',
      message: 'Replicas are progressing, with 1 groups ready of total 2 groups',
    });
  });

  it('becomes Available and flips Progressing to False', () => {
    const first = computeStatus({
      replicas: 2,
      partition: 0,
      groups: [g(0, false), g(1, false)],
      conditions: [],
      now,
    });
    const out = computeStatus({
      replicas: 2,
      partition: 0,
      groups: [g(0, true), g(1, true)],
      conditions: first.conditions,
      now,
    });
    expect(out.conditions.map((c) => [c.type, c.status])).toEqual([
      ['Progressing', 'False'],
      ['Available', 'True'],
    ]);
    expect(out.event?.message).toBe('All replicas are ready, with 2 groups ready of total 2 groups');
    const again = computeStatus({
      replicas: 2,
      partition: 0,
      groups: [g(0, true), g(1, true)],
      conditions: out.conditions,
      now,
    });
    expect(again.event).toBeUndefined();
  });

  it('reports UpdateInProgress while groups are on the old revision', () => {
    const out = computeStatus({
      replicas: 2,
      partition: 0,
      groups: [g(0, true, false), g(1, true)],
      conditions: [],
      now,
    });
    expect(out.updatedReplicas).toBe(1);
    expect(out.conditions.map((c) => c.type)).toEqual(['UpdateInProgress', 'Progressing']);
    expect(out.event?.reason).toBe('GroupsUpdating');
  });

  it('does not count surge groups toward availability, nor groups without workers', () => {
    const out = computeStatus({
      replicas: 1,
      partition: 0,
      groups: [g(0, true), g(1, false), g(2, true, true, true)],
      conditions: [],
      now,
    });
    expect(out.readyReplicas).toBe(1);
    expect(out.conditions[0].type).toBe('Available');
  });
});
