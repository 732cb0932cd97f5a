import { describe, expect, it } from 'vitest';
import { fieldManagers, isPodReady, leaderEndpoints, podHttpPort, podProblem } from './pods';
import type { Pod } from './types';

interface PodOptions {
  name: string;
  group?: number;
  worker?: number;
  lws?: string;
  phase?: 'Pending' | 'Running' | 'Failed';
  ready?: boolean;
  ip?: string;
  deleting?: boolean;
  created?: string;
  ports?: { name?: string; containerPort: number }[];
}

function pod(o: PodOptions): Pod {
  const labels: Record<string, string> = { 'leaderworkerset.sigs.k8s.io/name': o.lws ?? 'llm' };
  if (o.group !== undefined) labels['leaderworkerset.sigs.k8s.io/group-index'] = String(o.group);
  if (o.worker !== undefined) labels['leaderworkerset.sigs.k8s.io/worker-index'] = String(o.worker);
  return {
    metadata: {
      name: o.name,
      namespace: 'ns',
      labels,
      creationTimestamp: o.created ?? '2025-01-01T00:00:00Z',
      ...(o.deleting ? { deletionTimestamp: '2025-01-01T00:01:00Z' } : {}),
    },
    spec: { nodeName: 'node-0', containers: [{ name: 'main', ports: o.ports }] },
    status: {
      phase: o.phase ?? 'Running',
      ...(o.ip === '' ? {} : { podIP: o.ip ?? '127.0.1.1' }),
      conditions: [{ type: 'Ready', status: (o.ready ?? true) ? 'True' : 'False' }],
    },
  };
}

describe('isPodReady', () => {
  it.each([
    ['running and ready', {}, true],
    ['not ready', { ready: false }, false],
    ['pending', { phase: 'Pending' as const }, false],
    ['failed but still marked ready', { phase: 'Failed' as const }, false],
    ['terminating', { deleting: true }, false],
  ])('%s', (_, o, expected) => {
    expect(isPodReady(pod({ name: 'p', ...o }))).toBe(expected);
  });

  it('is false without conditions or status', () => {
    const p = pod({ name: 'p' });
    expect(isPodReady({ ...p, status: { phase: 'Running' } })).toBe(false);
    expect(isPodReady({ ...p, status: undefined })).toBe(false);
  });
});

describe('podHttpPort', () => {
  it('takes the port named http, else 8000', () => {
    expect(
      podHttpPort(
        pod({
          name: 'p',
          ports: [
            { name: 'ray', containerPort: 6379 },
            { name: 'http', containerPort: 9000 },
          ],
        }),
      ),
    ).toBe(9000);
    expect(podHttpPort(pod({ name: 'p', ports: [{ containerPort: 9000 }] }))).toBe(8000);
    expect(podHttpPort(pod({ name: 'p' }))).toBe(8000);
  });
});

describe('leaderEndpoints', () => {
  it('lists one endpoint per ready group, leaders only, by group index', () => {
    const pods = [
      pod({
        name: 'llm-1',
        group: 1,
        worker: 0,
        ip: '127.0.1.3',
        ports: [{ name: 'http', containerPort: 8000 }],
      }),
      pod({ name: 'llm-1-1', group: 1, worker: 1, ip: '127.0.1.4' }),
      pod({ name: 'llm-0', group: 0, worker: 0, ip: '127.0.1.1' }),
      pod({ name: 'llm-0-1', group: 0, worker: 1, ip: '127.0.1.2' }),
      pod({ name: 'llm-2', group: 2, worker: 0, ip: '127.0.1.5', ready: false }),
      pod({ name: 'llm-3', group: 3, worker: 0, ip: '127.0.1.6', deleting: true }),
      pod({ name: 'llm-4', group: 4, worker: 0, ip: '' }),
      pod({ name: 'llm-5', worker: 0, ip: '127.0.1.7' }),
    ];
    expect(leaderEndpoints(pods)).toEqual([
      { groupIndex: 0, podName: 'llm-0', ip: '127.0.1.1', port: 8000, nodeName: 'node-0' },
      { groupIndex: 1, podName: 'llm-1', ip: '127.0.1.3', port: 8000, nodeName: 'node-0' },
    ]);
  });

  it('keeps the newest pod when two claim a group', () => {
    const pods = [
      pod({ name: 'llm-0', group: 0, worker: 0, ip: '127.0.1.1', created: '2025-01-01T00:00:00Z' }),
      pod({ name: 'llm-0', group: 0, worker: 0, ip: '127.0.1.9', created: '2025-01-01T00:05:00Z' }),
    ];
    expect(leaderEndpoints(pods).map((e) => e.ip)).toEqual(['127.0.1.9']);
  });

  it('is empty for no pods', () => {
    expect(leaderEndpoints([])).toEqual([]);
  });
});

describe('podProblem', () => {
  it('explains why a pod is not ready', () => {
    expect(podProblem(pod({ name: 'p' }))).toBeUndefined();
    const unschedulable = pod({ name: 'p', phase: 'Pending', ip: '' });
    unschedulable.status!.conditions = [
      { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/8 nodes are available' },
    ];
    expect(podProblem(unschedulable)).toBe('Unschedulable: 0/8 nodes are available');
    expect(podProblem(pod({ name: 'p', ready: false }))).toBe('not ready');
    expect(podProblem(pod({ name: 'p', deleting: true }))).toBe('terminating');
    const failed = pod({ name: 'p', phase: 'Failed' });
    failed.status!.reason = 'NodeLost';
    expect(podProblem(failed)).toBe('failed (NodeLost)');
  });
});

describe('fieldManagers', () => {
  it('names the managers owning a field', () => {
    const lws = {
      metadata: {
        managedFields: [
          {
            manager: 'troupe-reconciler',
            operation: 'Apply' as const,
            fieldsV1: { 'f:spec': { 'f:leaderWorkerTemplate': {} } },
          },
          {
            manager: 'troupe-autoscaler',
            operation: 'Update' as const,
            subresource: 'scale',
            fieldsV1: { 'f:spec': { 'f:replicas': {} } },
          },
        ],
      },
    };
    expect(fieldManagers(lws, ['spec', 'replicas'])).toEqual([
      { manager: 'troupe-autoscaler', operation: 'Update', subresource: 'scale' },
    ]);
    expect(fieldManagers(lws, ['spec', 'startupPolicy'])).toEqual([]);
    expect(fieldManagers({ metadata: {} }, ['spec'])).toEqual([]);
  });
});
