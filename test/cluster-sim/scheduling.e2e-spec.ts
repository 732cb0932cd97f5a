// Scheduler: GPU requests, Pending with FailedScheduling when nothing fits, retry when capacity frees,
// exclusive topology (one group per rack), node down / up.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { LWS, lwsManifest, startSim, waitFor, type SimClients } from './helpers';

let c: SimClients;
// 8 nodes x 8 GPUs in 4 racks of 2 nodes
beforeAll(async () => {
  c = await startSim({ nodes: 8, gpusPerNode: 8, racks: 4 });
});
afterAll(() => c.close());

const pods = async (name: string): Promise<V1Pod[]> =>
  (
    await c.core.listNamespacedPod({
      namespace: 'default',
      labelSelector: `leaderworkerset.sigs.k8s.io/name=${name}`,
    })
  ).items;
const running = (p: V1Pod): boolean => p.status?.phase === 'Running';
const nodes = async (): Promise<Map<string, V1Node>> =>
  new Map((await c.core.listNode()).items.map((n) => [n.metadata?.name as string, n]));
const create = (m: Record<string, unknown>): Promise<unknown> =>
  c.custom.createNamespacedCustomObject({ ...LWS, namespace: 'default', body: m });
const remove = (name: string): Promise<unknown> =>
  c.custom.deleteNamespacedCustomObject({ ...LWS, namespace: 'default', name });

describe('nodes', () => {
  it('advertise GPUs, racks and the GPU product', async () => {
    const n = (await nodes()).get('node-0') as V1Node;
    expect(n.status?.capacity).toMatchObject({ 'nvidia.com/gpu': '8' });
    expect(n.status?.allocatable?.['nvidia.com/gpu']).toBe('8');
    expect(n.metadata?.labels).toMatchObject({
      'kubernetes.io/hostname': 'node-0',
      rack: 'rack-0',
      'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3',
    });
    expect((await nodes()).get('node-7')?.metadata?.labels?.rack).toBe('rack-3');
  });
});

describe('exclusive topology', () => {
  it('puts every group in one rack and no two groups in the same rack', async () => {
    await create(
      lwsManifest({
        name: 'ex',
        replicas: 3,
        size: 2,
        gpus: 8,
        annotations: { 'leaderworkerset.sigs.k8s.io/exclusive-topology': 'rack' },
      }),
    );
    const list = await waitFor(async () => {
      const l = await pods('ex');
      return l.length === 6 && l.every(running) ? l : undefined;
    });
    const nodeMap = await nodes();
    const rackOf = (p: V1Pod): string =>
      nodeMap.get(p.spec?.nodeName as string)?.metadata?.labels?.rack as string;
    const racks = new Map<string, Set<string>>();
    for (const p of list) {
      const g = p.metadata?.labels?.['leaderworkerset.sigs.k8s.io/group-index'] as string;
      racks.set(g, (racks.get(g) ?? new Set()).add(rackOf(p)));
    }
    expect([...racks.values()].every((s) => s.size === 1)).toBe(true);
    expect(new Set([...racks.values()].map((s) => [...s][0])).size).toBe(3);
    const leader = list.find((p) => p.metadata?.name === 'ex-0') as V1Pod;
    expect(
      leader.spec?.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.[0].topologyKey,
    ).toBe('rack');
    const worker = list.find((p) => p.metadata?.name === 'ex-0-1') as V1Pod;
    expect(worker.spec?.nodeSelector).toEqual({ rack: rackOf(leader) });
  });

  it('leaves a fifth exclusive group Pending when the racks are taken', async () => {
    await c.custom.patchNamespacedCustomObject({
      ...LWS,
      namespace: 'default',
      name: 'ex',
      body: [{ op: 'replace', path: '/spec/replicas', value: 5 }],
    });
    const pending = await waitFor(async () => {
      const l = await pods('ex');
      const p = l.find((x) => x.metadata?.name === 'ex-4');
      return p?.status?.conditions?.find((x) => x.type === 'PodScheduled' && x.status === 'False')
        ? p
        : undefined;
    });
    expect(pending.status?.phase).toBe('Pending');
    const cond = pending.status?.conditions?.find((x) => x.type === 'PodScheduled');
    expect(cond?.reason).toBe('Unschedulable');
    expect(cond?.message).toMatch(/^0\/8 nodes are available: /);
    expect(cond?.message).toContain("node(s) didn't match pod anti-affinity rules");
    await remove('ex');
    await waitFor(async () => (await pods('ex')).length === 0);
  });
});

describe('GPU capacity', () => {
  it('keeps pods Pending with a FailedScheduling event and schedules them once capacity frees', async () => {
    // 8 nodes x 8 GPUs = 64 GPUs; the first LWS takes 48 (6 groups x 1 pod x 8 GPUs).
    await create(lwsManifest({ name: 'big', replicas: 6, size: 1, gpus: 8 }));
    await waitFor(async () => (await pods('big')).filter(running).length === 6);
    await create(lwsManifest({ name: 'more', replicas: 1, size: 4, gpus: 8 }));
    const stuck = await waitFor(async () => {
      const l = await pods('more');
      const pending = l.filter((p) =>
        p.status?.conditions?.some((x) => x.type === 'PodScheduled' && x.status === 'False'),
      );
      return l.length === 4 && l.filter(running).length === 2 && pending.length === 2 ? pending : undefined;
    });
    const msg = stuck[0].status?.conditions?.find((x) => x.type === 'PodScheduled')?.message;
    expect(msg).toBe('0/8 nodes are available: 8 Insufficient nvidia.com/gpu.');
    const events = await waitFor(async () => {
      const ev = (
        await c.core.listNamespacedEvent({
          namespace: 'default',
          fieldSelector: `involvedObject.name=${stuck[0].metadata?.name},reason=FailedScheduling`,
        })
      ).items;
      return ev.length ? ev : undefined;
    });
    expect(events[0]).toMatchObject({
      type: 'Warning',
      message: '0/8 nodes are available: 8 Insufficient nvidia.com/gpu.',
    });
    expect(events[0].source?.component).toBe('default-scheduler');

    await c.custom.patchNamespacedCustomObject({
      ...LWS,
      namespace: 'default',
      name: 'big',
      body: [{ op: 'replace', path: '/spec/replicas', value: 4 }],
    });
    await waitFor(
      async () => (await pods('more')).filter(running).length === 4,
      10_000,
      'pending pods scheduled',
    );
    await remove('big');
    await remove('more');
  });
});

describe('node failure', () => {
  it('fails the pods of a down node, marks it NotReady and unschedulable, and recovers', async () => {
    await create(lwsManifest({ name: 'nd', replicas: 2, size: 2, gpus: 8 }));
    const list = await waitFor(async () => {
      const l = await pods('nd');
      return l.length === 4 && l.every(running) ? l : undefined;
    });
    const victim = list.find((p) => p.metadata?.name === 'nd-1-1')?.spec?.nodeName as string;
    const res = await fetch(`${c.sim.url}/sim/nodes/${victim}/down`, { method: 'POST' });
    expect(res.status).toBe(200);
    const node = await c.core.readNode({ name: victim });
    expect(node.status?.conditions?.find((x) => x.type === 'Ready')?.status).toBe('Unknown');
    expect(node.spec?.taints?.map((t) => `${t.key}:${t.effect}`)).toContain(
      'node.kubernetes.io/unreachable:NoSchedule',
    );
    // the group on the node is recreated elsewhere
    const after = await waitFor(async () => {
      const l = await pods('nd');
      return l.length === 4 && l.every(running) && l.every((p) => p.spec?.nodeName !== victim)
        ? l
        : undefined;
    });
    expect(after).toHaveLength(4);
    await fetch(`${c.sim.url}/sim/nodes/${victim}/up`, { method: 'POST' });
    const back = await c.core.readNode({ name: victim });
    expect(back.status?.conditions?.find((x) => x.type === 'Ready')?.status).toBe('True');
    expect(back.spec?.taints ?? []).toEqual([]);
    await remove('nd');
  });
});
