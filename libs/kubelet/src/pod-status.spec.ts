import { describe, expect, it } from 'vitest';
import { failedStatus, mergeConditions, stoppedStatus } from './pod-status';
import type { Pod } from './types';

const pod: Pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: 'i' }] } };

describe('mergeConditions', () => {
  it('keeps lastTransitionTime when the status does not change and orders by type', () => {
    const merged = mergeConditions(
      [
        { type: 'Ready', status: 'False', lastTransitionTime: 'A' },
        { type: 'PodScheduled', status: 'True', lastTransitionTime: 'A' },
      ],
      [
        { type: 'Ready', status: 'False', reason: 'X', lastTransitionTime: 'B' },
        { type: 'Initialized', status: 'True', lastTransitionTime: 'B' },
      ],
    );
    expect(merged).toEqual([
      { type: 'Initialized', status: 'True', lastTransitionTime: 'B' },
      { type: 'Ready', status: 'False', reason: 'X', lastTransitionTime: 'A' },
      { type: 'PodScheduled', status: 'True', lastTransitionTime: 'A' },
    ]);
  });
});

describe('stoppedStatus', () => {
  it('terminates running containers with exit 0 and makes the pod Succeeded', () => {
    const s = stoppedStatus(
      pod,
      {
        phase: 'Running',
        containerStatuses: [
          { name: 'a', ready: true, restartCount: 2, state: { running: { startedAt: 'S' } }, lastState: {} },
        ],
      },
      'T',
    );
    expect(s.phase).toBe('Succeeded');
    expect(s.containerStatuses).toEqual([
      expect.objectContaining({
        ready: false,
        restartCount: 2,
        state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: 'S', finishedAt: 'T' } },
      }),
    ]);
    expect(s.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'PodCompleted',
    });
  });

  it('leaves a failed pod as it is', () => {
    const failed = failedStatus(pod, { phase: 'Running' }, 'NodeLost', 'gone', 'T');
    expect(stoppedStatus(pod, failed, 'U')).toBe(failed);
    expect(failed).toMatchObject({ phase: 'Failed', reason: 'NodeLost', message: 'gone' });
    expect(failedStatus(pod, {}, 'Error', 'x', 'T').reason).toBeUndefined();
  });
});
