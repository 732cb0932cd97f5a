import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  LWS_ANNOTATIONS,
  LWS_LABELS,
  groupKey,
  hpaPodSelector,
  isQualifiedName,
  isValidLabelValue,
  leaderAddress,
  leaderPodName,
  leaderSelector,
  leaderStatefulSetName,
  podNames,
  subdomainFor,
  workerPodName,
  workerStatefulSetName,
} from './naming';

describe('LWS naming', () => {
  it('uses the upstream label and annotation keys', () => {
    expect(LWS_LABELS).toEqual({
      name: 'leaderworkerset.sigs.k8s.io/name',
      groupIndex: 'leaderworkerset.sigs.k8s.io/group-index',
      workerIndex: 'leaderworkerset.sigs.k8s.io/worker-index',
      groupKey: 'leaderworkerset.sigs.k8s.io/group-key',
      templateRevisionHash: 'leaderworkerset.sigs.k8s.io/template-revision-hash',
      subgroupIndex: 'leaderworkerset.sigs.k8s.io/subgroup-index',
      subgroupKey: 'leaderworkerset.sigs.k8s.io/subgroup-key',
    });
    expect(LWS_ANNOTATIONS).toEqual({
      size: 'leaderworkerset.sigs.k8s.io/size',
      leaderName: 'leaderworkerset.sigs.k8s.io/leader-name',
      exclusiveTopology: 'leaderworkerset.sigs.k8s.io/exclusive-topology',
      subgroupExclusiveTopology: 'leaderworkerset.sigs.k8s.io/subgroup-exclusive-topology',
    });
  });

  it.each([
    ['leader pod', leaderPodName('web', 0), 'web-0'],
    ['leader pod of group 12', leaderPodName('web', 12), 'web-12'],
    ['worker pod', workerPodName('web', 2, 3), 'web-2-3'],
    ['worker StatefulSet', workerStatefulSetName('web', 1), 'web-1'],
    ['leader StatefulSet', leaderStatefulSetName('web'), 'web'],
    ['from an object', leaderPodName({ metadata: { name: 'llama' } }, 1), 'llama-1'],
  ])('%s', (_what, actual, expected) => {
    expect(actual).toBe(expected);
  });

  it('lists the pods of replicas 3, size 4 as kubectl would', () => {
    // prettier-ignore
    expect(podNames('n', 3, 4)).toEqual([
      'n-0', 'n-0-1', 'n-0-2', 'n-0-3',
      'n-1', 'n-1-1', 'n-1-2', 'n-1-3',
      'n-2', 'n-2-1', 'n-2-2', 'n-2-3',
    ]);
    expect(podNames('n', 2, 1)).toEqual(['n-0', 'n-1']);
    expect(podNames('n', 0, 4)).toEqual([]);
  });

  it('group key is sha1 hex of NS/NAME-i', () => {
    const expected = createHash('sha1').update('team-a/llama-2').digest('hex');
    expect(groupKey('team-a', 'llama', 2)).toBe(expected);
    expect(groupKey('team-a', 'llama', 2)).toMatch(/^[0-9a-f]{40}$/);
    expect(groupKey('team-a', 'llama', 3)).not.toBe(expected);
  });

  it.each([
    [leaderAddress('llama', 0, 'team-a'), 'llama-0.llama.team-a'],
    [
      leaderAddress('llama', 3, 'team-a', subdomainFor('llama', 3, 'UniquePerReplica')),
      'llama-3.llama-3.team-a',
    ],
    [leaderAddress('llama', 3, 'team-a', subdomainFor('llama', 3)), 'llama-3.llama.team-a'],
  ])('leader address %s', (actual, expected) => {
    expect(actual).toBe(expected);
  });

  it('selects leaders for the HPA and for a Service', () => {
    expect(hpaPodSelector('llama')).toBe(
      'leaderworkerset.sigs.k8s.io/name=llama,leaderworkerset.sigs.k8s.io/worker-index=0',
    );
    expect(leaderSelector('llama')).toEqual({ 'leaderworkerset.sigs.k8s.io/name': 'llama', role: 'leader' });
  });

  it('refuses an object without a name', () => {
    expect(() => leaderPodName({ metadata: {} }, 0)).toThrow(/no metadata.name/);
  });
});

describe('label rules', () => {
  it.each([
    ['', true],
    ['a', true],
    ['llama-3.1_8b', true],
    ['a'.repeat(63), true],
    ['a'.repeat(64), false],
    ['-a', false],
    ['a-', false],
    ['a b', false],
    ['a/b', false],
  ])('label value %j valid: %s', (value, ok) => {
    expect(isValidLabelValue(value)).toBe(ok);
  });

  it.each([
    ['rack', true],
    ['topology.kubernetes.io/zone', true],
    ['nvidia.com/gpu', true],
    ['Rack_1.x', true],
    ['/rack', false],
    ['a/b/c', false],
    ['UPPER.example/x', false],
    ['', false],
    ['x'.repeat(64), false],
  ])('qualified name %j valid: %s', (key, ok) => {
    expect(isQualifiedName(key)).toBe(ok);
  });
});
