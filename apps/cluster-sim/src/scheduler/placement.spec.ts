import { describe, expect, it } from 'vitest';
import { failureMessage, placePod, type ClusterView, type NodeView, type PodView } from './placement';

const node = (name: string, rack: string, gpus = 8, extra: Partial<NodeView> = {}): NodeView => ({
  name,
  labels: { 'kubernetes.io/hostname': name, rack },
  allocatable: { 'nvidia.com/gpu': gpus, cpu: 64, memory: 512 * 2 ** 30, pods: 110 },
  unschedulable: false,
  taints: [],
  ...extra,
});

const gpuPod = (
  gpus: number,
  labels: Record<string, string> = {},
  extra: Partial<PodView> = {},
): PodView => ({
  namespace: 'default',
  labels,
  requests: { 'nvidia.com/gpu': gpus },
  ...extra,
});

const exclusive = (key: string): Partial<PodView> => ({
  affinity: {
    podAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        {
          labelSelector: { matchExpressions: [{ key: 'group-key', operator: 'In', values: [key] }] },
          topologyKey: 'rack',
        },
      ],
    },
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        {
          labelSelector: {
            matchExpressions: [
              { key: 'group-key', operator: 'Exists' },
              { key: 'group-key', operator: 'NotIn', values: [key] },
            ],
          },
          topologyKey: 'rack',
        },
      ],
    },
  },
});

describe('placePod', () => {
  const nodes = [node('n0', 'r0'), node('n1', 'r0'), node('n2', 'r1'), node('n3', 'r1')];

  it('fits GPU requests and reports insufficient capacity', () => {
    const view: ClusterView = { nodes, placed: [] };
    expect(placePod(gpuPod(8), view).node).toBeDefined();
    const full: ClusterView = { nodes, placed: nodes.map((n) => ({ ...gpuPod(8), nodeName: n.name })) };
    const r = placePod(gpuPod(1), full);
    expect(r.node).toBeUndefined();
    expect(r.node === undefined && r.message).toBe('0/4 nodes are available: 4 Insufficient nvidia.com/gpu.');
  });

  it('honours nodeSelector, unschedulable nodes and taints', () => {
    const view: ClusterView = {
      nodes: [
        node('a', 'r0', 8, { unschedulable: true }),
        node('b', 'r0', 8, { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }] }),
        node('c', 'r1'),
        node('d', 'r0'),
      ],
      placed: [],
    };
    expect(placePod(gpuPod(1, {}, { nodeSelector: { rack: 'r1' } }), view)).toEqual({ node: 'c' });
    const r = placePod(gpuPod(1, {}, { nodeSelector: { rack: 'nope' } }), view);
    expect(r.node === undefined && r.message).toBe(
      "0/4 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 1 node(s) were unschedulable, 2 node(s) didn't match Pod's node affinity/selector.",
    );
  });

  it('keeps a group in one rack and groups in different racks (exclusive topology)', () => {
    const placed = [{ ...gpuPod(8, { 'group-key': 'g1' }, exclusive('g1')), nodeName: 'n0' }];
    // the rest of group g1 must go to rack r0
    expect(placePod(gpuPod(8, { 'group-key': 'g1' }, exclusive('g1')), { nodes, placed })).toEqual({
      node: 'n1',
    });
    // group g2 must avoid rack r0
    const g2 = placePod(gpuPod(8, { 'group-key': 'g2' }, exclusive('g2')), { nodes, placed });
    expect(['n2', 'n3']).toContain(g2.node);
    // a third group finds no rack free
    const both = [...placed, { ...gpuPod(8, { 'group-key': 'g2' }, exclusive('g2')), nodeName: 'n2' }];
    const g3 = placePod(gpuPod(8, { 'group-key': 'g3' }, exclusive('g3')), { nodes, placed: both });
    expect(g3.node).toBeUndefined();
  });

  it('formats failure messages like the scheduler', () => {
    expect(failureMessage(8, { 'Insufficient nvidia.com/gpu': 8 })).toBe(
      '0/8 nodes are available: 8 Insufficient nvidia.com/gpu.',
    );
  });
});
