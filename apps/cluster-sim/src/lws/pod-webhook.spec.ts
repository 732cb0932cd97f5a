import { describe, expect, it } from 'vitest';
import type { Pod } from '../types/workloads';
import { groupKey } from './naming';
import { mutateLwsPod } from './pod-webhook';

const leader: Pod = {
  metadata: {
    name: 'web-2',
    namespace: 'ns',
    labels: { 'leaderworkerset.sigs.k8s.io/name': 'web', 'leaderworkerset.sigs.k8s.io/worker-index': '0' },
    annotations: {
      'leaderworkerset.sigs.k8s.io/size': '4',
      'leaderworkerset.sigs.k8s.io/exclusive-topology': 'rack',
    },
  },
  spec: { subdomain: 'web', containers: [{ name: 'c', image: 'i', env: [{ name: 'MINE', value: '1' }] }] },
};

describe('mutateLwsPod', () => {
  it('labels leaders and injects env first', () => {
    const out = mutateLwsPod(leader);
    expect(out.metadata.labels).toMatchObject({
      'leaderworkerset.sigs.k8s.io/group-index': '2',
      'leaderworkerset.sigs.k8s.io/group-key': groupKey('ns', 'web-2'),
    });
    expect(out.spec.containers[0].env).toEqual([
      { name: 'LWS_LEADER_ADDRESS', value: 'web-2.web.ns' },
      { name: 'LWS_GROUP_SIZE', value: '4' },
      { name: 'LWS_WORKER_INDEX', value: '0' },
      { name: 'MINE', value: '1' },
    ]);
    expect(
      out.spec.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.[0].topologyKey,
    ).toBe('rack');
    expect(
      out.spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.[0].labelSelector
        ?.matchExpressions,
    ).toHaveLength(2);
    expect(leader.metadata.labels).not.toHaveProperty('leaderworkerset.sigs.k8s.io/group-index');
  });

  it('sets worker-index on workers from their ordinal', () => {
    const worker: Pod = {
      metadata: {
        name: 'web-2-3',
        namespace: 'ns',
        labels: { 'leaderworkerset.sigs.k8s.io/name': 'web', 'leaderworkerset.sigs.k8s.io/group-index': '2' },
        annotations: {
          'leaderworkerset.sigs.k8s.io/size': '4',
          'leaderworkerset.sigs.k8s.io/leader-name': 'web-2',
        },
      },
      spec: { subdomain: 'web', containers: [{ name: 'c', image: 'i' }] },
    };
    const out = mutateLwsPod(worker);
    expect(out.metadata.labels?.['leaderworkerset.sigs.k8s.io/worker-index']).toBe('3');
    expect(out.spec.containers[0].env?.map((e) => `${e.name}=${e.value}`)).toEqual([
      'LWS_LEADER_ADDRESS=web-2.web.ns',
      'LWS_GROUP_SIZE=4',
      'LWS_WORKER_INDEX=3',
    ]);
  });

  it('leaves other pods alone', () => {
    const pod: Pod = { metadata: { name: 'x' }, spec: { containers: [] } };
    expect(mutateLwsPod(pod)).toBe(pod);
  });
});
