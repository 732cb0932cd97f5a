import { describe, expect, it } from 'vitest';
import { DEFAULT_NODE_SHAPE, nodeObject } from '@troupe/kubelet';
import { acceptPod } from './agent';
import { eventObject } from './events';
import { adoptedNode, liveStatus, microTime, type NodeObject } from './node-manager';

const manifest = nodeObject(0, DEFAULT_NODE_SHAPE, 'NOW');

describe('adoptedNode', () => {
  it('puts our labels over an existing node, keeps its pod CIDR and foreign taints, drops unreachable ones', () => {
    const existing: NodeObject = {
      metadata: { name: 'node-0', uid: 'u', labels: { team: 'a', rack: 'old' }, annotations: { x: '1' } },
      spec: {
        podCIDR: '10.9.0.0/24',
        taints: [
          { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' },
          { key: 'example.com/gpu-maintenance', effect: 'NoSchedule' },
        ],
      },
    };
    const node = adoptedNode(existing, manifest);
    expect(node.metadata.uid).toBe('u');
    expect(node.metadata.labels).toMatchObject({ team: 'a', rack: 'rack-0', 'nvidia.com/gpu.count': '8' });
    expect(node.metadata.annotations).toMatchObject({ x: '1', 'node.alpha.kubernetes.io/ttl': '0' });
    expect(node.spec?.podCIDR).toBe('10.9.0.0/24');
    expect(node.spec?.taints).toEqual([{ key: 'example.com/gpu-maintenance', effect: 'NoSchedule' }]);
    expect(adoptedNode({ metadata: { name: 'node-0' } }, manifest).spec).toEqual({
      podCIDR: '10.244.0.0/24',
      podCIDRs: ['10.244.0.0/24'],
    });
  });
});

describe('liveStatus', () => {
  it('posts our capacity and info and heartbeats the conditions, keeping other fields', () => {
    const current: NodeObject = {
      metadata: { name: 'node-0' },
      status: {
        images: [],
        capacity: { cpu: '1' },
        conditions: [
          { type: 'Ready', status: 'Unknown', lastTransitionTime: 'OLD', lastHeartbeatTime: 'OLD' },
        ],
      },
    };
    const s = liveStatus(current, manifest, 'T').status;
    expect(s?.images).toEqual([]);
    expect(s?.capacity).toEqual(manifest.status.capacity);
    expect(s?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      lastHeartbeatTime: 'T',
      lastTransitionTime: 'T',
    });
    expect(s?.conditions).toHaveLength(4);
  });
});

describe('small pure parts', () => {
  it('microTime has microseconds', () => {
    expect(microTime(new Date('2030-01-02T03:04:05.678Z'))).toBe('2030-01-02T03:04:05.678000Z');
  });

  it('acceptPod keeps pods bound to our nodes only', () => {
    const nodes = new Set(['node-0']);
    const pod = (nodeName?: string) => ({
      metadata: { name: 'p', namespace: 'd', uid: 'u' },
      spec: { nodeName, containers: [] },
    });
    expect(acceptPod(pod('node-0'), nodes)).toBeDefined();
    expect(acceptPod(pod('node-9'), nodes)).toBeUndefined();
    expect(acceptPod(pod(), nodes)).toBeUndefined();
    expect(acceptPod({ metadata: {} }, nodes)).toBeUndefined();
  });

  it('events name their object and source, in the object’s namespace (nodes: default)', () => {
    const e = eventObject(
      {
        involved: { apiVersion: 'v1', kind: 'Node', name: 'node-0', uid: 'u' },
        type: 'Normal',
        reason: 'NodeReady',
        message: 'm',
        source: { component: 'kubelet', host: 'node-0' },
      },
      'node-0.1',
      'T',
    );
    expect(e).toMatchObject({
      metadata: { name: 'node-0.1', namespace: 'default' },
      involvedObject: { kind: 'Node', name: 'node-0' },
      source: { component: 'kubelet', host: 'node-0' },
      count: 1,
      firstTimestamp: 'T',
      reportingInstance: 'node-0',
    });
  });
});
