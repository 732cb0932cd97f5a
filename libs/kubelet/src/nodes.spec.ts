import { describe, expect, it } from 'vitest';
import { DEFAULT_NODE_SHAPE, heartbeatConditions, nodeDownUpdate, nodeObject, rackOf } from './nodes';
import type { Condition, Node } from './types';

describe('nodeObject', () => {
  it('gives GPU capacity, rack and zone labels, and an InternalIP in 127.100/16', () => {
    const n = nodeObject(5, { ...DEFAULT_NODE_SHAPE, namePrefix: 'gpu-', topologyKey: 'example.com/rack' });
    expect(n.metadata.name).toBe('gpu-5');
    expect(n.metadata.labels).toMatchObject({
      'kubernetes.io/hostname': 'gpu-5',
      'example.com/rack': 'rack-1',
      'topology.kubernetes.io/zone': 'rack-1',
      'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3',
    });
    expect(n.status.capacity).toMatchObject({
      cpu: '96',
      memory: '1024Gi',
      pods: '110',
      'nvidia.com/gpu': '8',
    });
    expect(n.status.allocatable).toEqual(n.status.capacity);
    expect(n.status.addresses[0]).toEqual({ type: 'InternalIP', address: '127.100.0.7' });
    expect(n.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  it('has no GPU resource or labels without GPUs, and splits racks in contiguous blocks', () => {
    const n = nodeObject(0, { ...DEFAULT_NODE_SHAPE, gpusPerNode: 0 });
    expect(n.status.capacity['nvidia.com/gpu']).toBeUndefined();
    expect(n.metadata.labels['nvidia.com/gpu.product']).toBeUndefined();
    expect([0, 1, 2, 3, 4, 5].map((i) => rackOf(i, { count: 6, racks: 3 }))).toEqual([
      'rack-0',
      'rack-0',
      'rack-1',
      'rack-1',
      'rack-2',
      'rack-2',
    ]);
  });
});

describe('nodeDownUpdate', () => {
  const node: Node = {
    metadata: { name: 'n' },
    spec: { taints: [{ key: 'example.com/dedicated', effect: 'NoSchedule' }] },
    status: {
      conditions: [
        { type: 'MemoryPressure', status: 'False' },
        { type: 'Ready', status: 'True', reason: 'KubeletReady' },
      ],
    },
  };

  it('adds the unreachable taints and Ready=Unknown, keeping the rest; up reverses it', () => {
    const down = nodeDownUpdate(node, true, 'T');
    expect(down.taints?.map((t) => `${t.key}:${t.effect}`)).toEqual([
      'example.com/dedicated:NoSchedule',
      'node.kubernetes.io/unreachable:NoSchedule',
      'node.kubernetes.io/unreachable:NoExecute',
    ]);
    expect(down.conditions[1]).toMatchObject({
      status: 'Unknown',
      reason: 'NodeStatusUnknown',
      lastTransitionTime: 'T',
    });
    expect(down.conditions[0]).toBe(node.status?.conditions?.[0]);
    const up = nodeDownUpdate({ ...node, spec: { taints: down.taints } }, false, 'U');
    expect(up.taints).toEqual([{ key: 'example.com/dedicated', effect: 'NoSchedule' }]);
    expect(up.conditions[1]).toMatchObject({ status: 'True', reason: 'KubeletReady' });
    expect(nodeDownUpdate({ metadata: {} }, false, 'U').taints).toBeUndefined();
  });
});

describe('heartbeatConditions', () => {
  it('bumps lastHeartbeatTime, keeps lastTransitionTime while the status holds, keeps others', () => {
    const current: Condition[] = [
      { type: 'Ready', status: 'True', lastHeartbeatTime: 'A', lastTransitionTime: 'A' },
      { type: 'DiskPressure', status: 'True', lastHeartbeatTime: 'A', lastTransitionTime: 'A' },
      { type: 'NetworkUnavailable', status: 'False', lastTransitionTime: 'A' },
    ];
    const wanted: Condition[] = [
      { type: 'Ready', status: 'True' },
      { type: 'DiskPressure', status: 'False' },
    ];
    expect(heartbeatConditions(current, wanted, 'B')).toEqual([
      { type: 'Ready', status: 'True', lastHeartbeatTime: 'B', lastTransitionTime: 'A' },
      { type: 'DiskPressure', status: 'False', lastHeartbeatTime: 'B', lastTransitionTime: 'B' },
      { type: 'NetworkUnavailable', status: 'False', lastTransitionTime: 'A' },
    ]);
  });
});
