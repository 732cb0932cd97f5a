import { describe, expect, it } from 'vitest';
import { ReplicasFacts, replicasOwner, replicasToApply } from './replicas';

const base: ReplicasFacts = {
  spec: { replicas: { initial: 2 } },
  autoscaling: null,
  pinnedReplicas: null,
  autoscalerState: null,
};

describe('replicas ownership', () => {
  it.each([
    ['no policy, no pin', base, false, 'spec', 2],
    ['no policy, LWS exists', base, true, 'spec', 2],
    ['policy disabled', { ...base, autoscaling: { enabled: false } }, true, 'spec', 2],
    [
      'autoscaled, LWS exists: field left to the autoscaler',
      { ...base, autoscaling: { enabled: true } },
      true,
      'autoscaler',
      undefined,
    ],
    [
      'autoscaled, LWS missing, no decision yet',
      { ...base, autoscaling: { enabled: true } },
      false,
      'autoscaler',
      2,
    ],
    [
      'autoscaled, LWS missing: starts from the last decision',
      { ...base, autoscaling: { enabled: true }, autoscalerState: { desired: 0 } },
      false,
      'autoscaler',
      0,
    ],
    [
      'pinned wins over the policy',
      { ...base, autoscaling: { enabled: true }, pinnedReplicas: 5 },
      true,
      'admin',
      5,
    ],
    ['pinned at zero', { ...base, pinnedReplicas: 0 }, false, 'admin', 0],
  ] as const)('%s', (_name, facts, exists, owner, apply) => {
    expect(replicasOwner(facts)).toBe(owner);
    expect(replicasToApply(facts as ReplicasFacts, exists)).toBe(apply);
  });
});
