// LeaderWorkerSet controller behaviour: objects, labels and env, status and events, scale by group,
// LeaderReady ordering, group recreation, rolling update with maxSurge.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PatchStrategy,
  setHeaderOptions,
  Watch,
  type CoreV1Event,
  type V1Pod,
} from '@kubernetes/client-node';
import { LWS, lwsManifest, startSim, waitFor, type SimClients } from './helpers';

let c: SimClients;
beforeAll(async () => {
  c = await startSim({ nodes: 16, podReadyMs: 30 });
});
afterAll(() => c.close());

const pods = async (name: string): Promise<V1Pod[]> =>
  (
    await c.core.listNamespacedPod({
      namespace: 'default',
      labelSelector: `leaderworkerset.sigs.k8s.io/name=${name}`,
    })
  ).items;
const ready = (p: V1Pod): boolean =>
  p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') ?? false;
const allReady = async (name: string, n: number): Promise<V1Pod[] | undefined> => {
  const list = await pods(name);
  return list.length === n && list.every(ready) ? list : undefined;
};
type LwsObj = {
  status?: {
    readyReplicas?: number;
    replicas?: number;
    updatedReplicas?: number;
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
  spec: Record<string, unknown>;
};
const getLws = async (name: string): Promise<LwsObj> =>
  (await c.custom.getNamespacedCustomObject({ ...LWS, namespace: 'default', name })) as LwsObj;
const create = (m: Record<string, unknown>): Promise<unknown> =>
  c.custom.createNamespacedCustomObject({ ...LWS, namespace: 'default', body: m });
const events = async (name: string): Promise<CoreV1Event[]> =>
  (
    await c.core.listNamespacedEvent({
      namespace: 'default',
      fieldSelector: `involvedObject.name=${name},involvedObject.kind=LeaderWorkerSet`,
    })
  ).items;
const fault = (path: string, body: unknown = {}): Promise<Response> =>
  fetch(`${c.sim.url}/sim/${path}`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' },
  });

describe('objects, labels and env', () => {
  it('creates the StatefulSets, the headless Service and labelled pods with LWS env first', async () => {
    await create(lwsManifest({ name: 'shape', replicas: 2, size: 3 }));
    const list = await waitFor(() => allReady('shape', 6), 10_000, 'ready pods');
    const byName = new Map(list.map((p) => [p.metadata?.name, p]));
    const worker = byName.get('shape-1-2') as V1Pod;
    expect(worker.metadata?.labels).toMatchObject({
      'leaderworkerset.sigs.k8s.io/name': 'shape',
      'leaderworkerset.sigs.k8s.io/group-index': '1',
      'leaderworkerset.sigs.k8s.io/worker-index': '2',
      'leaderworkerset.sigs.k8s.io/group-key':
        byName.get('shape-1')?.metadata?.labels?.['leaderworkerset.sigs.k8s.io/group-key'],
    });
    expect(worker.metadata?.labels?.['leaderworkerset.sigs.k8s.io/template-revision-hash']).toBeTruthy();
    expect(worker.metadata?.annotations).toMatchObject({
      'leaderworkerset.sigs.k8s.io/size': '3',
      'leaderworkerset.sigs.k8s.io/leader-name': 'shape-1',
    });
    expect(worker.spec?.containers[0].env?.slice(0, 3)).toEqual([
      { name: 'LWS_LEADER_ADDRESS', value: 'shape-1.shape.default' },
      { name: 'LWS_GROUP_SIZE', value: '3' },
      { name: 'LWS_WORKER_INDEX', value: '2' },
    ]);
    const leader = byName.get('shape-0') as V1Pod;
    expect(leader.metadata?.labels?.['leaderworkerset.sigs.k8s.io/worker-index']).toBe('0');
    expect(leader.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'StatefulSet',
      name: 'shape',
      controller: true,
    });
    expect(worker.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'StatefulSet', name: 'shape-1' });

    const sts = (
      await c.apps.listNamespacedStatefulSet({
        namespace: 'default',
        labelSelector: 'leaderworkerset.sigs.k8s.io/name=shape',
      })
    ).items;
    expect(sts.map((s) => `${s.metadata?.name}:${s.spec?.replicas}`).sort()).toEqual([
      'shape-0:2',
      'shape-1:2',
      'shape:2',
    ]);
    const workerSts = sts.find((s) => s.metadata?.name === 'shape-0');
    expect(workerSts?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Pod', name: 'shape-0' });
    expect(workerSts?.spec?.ordinals?.start).toBe(1);
    const svc = await c.core.readNamespacedService({ namespace: 'default', name: 'shape' });
    expect(svc.spec?.clusterIP).toBe('None');
    expect(svc.spec?.selector).toEqual({ 'leaderworkerset.sigs.k8s.io/name': 'shape' });
  });

  it('reports status, conditions and events as upstream', async () => {
    const lws = await waitFor(async () => {
      const l = await getLws('shape');
      return l.status?.readyReplicas === 2 ? l : undefined;
    });
    expect(lws.status).toMatchObject({ replicas: 2, readyReplicas: 2, updatedReplicas: 2 });
    const available = lws.status?.conditions?.find((x) => x.type === 'Available');
    expect(available).toMatchObject({
      status: 'True',
      reason: 'AllGroupsReady',
      message: 'All replicas are ready',
    });
    expect(lws.status?.conditions?.find((x) => x.type === 'Progressing')?.status).toBe('False');
    const messages = (await events('shape')).map((e) => `${e.reason}: ${e.message}`);
    expect(messages).toContain(
      'AllGroupsReady: All replicas are ready, with 2 groups ready of total 2 groups',
    );
    expect(messages).toContain(
      'GroupsProgressing: Replicas are progressing, with 0 groups ready of total 2 groups',
    );
  });
});

describe('scale by group', () => {
  it('adds and removes whole groups, highest indexes first', async () => {
    await create(lwsManifest({ name: 'scale', replicas: 3, size: 2 }));
    const before = await waitFor(() => allReady('scale', 6));
    const uid0 = before.find((p) => p.metadata?.name === 'scale-0')?.metadata?.uid;
    await c.custom.patchNamespacedCustomObjectScale(
      { ...LWS, namespace: 'default', name: 'scale', body: { spec: { replicas: 1 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const after = await waitFor(() => allReady('scale', 2));
    expect(after.map((p) => p.metadata?.name)).toEqual(['scale-0', 'scale-0-1']);
    expect(after[0].metadata?.uid).toBe(uid0);
    await c.custom.patchNamespacedCustomObject({
      ...LWS,
      namespace: 'default',
      name: 'scale',
      body: [{ op: 'replace', path: '/spec/replicas', value: 0 }],
    });
    await waitFor(async () => (await pods('scale')).length === 0);
    // status.replicas is an `omitempty` int32 upstream: 0 is not written.
    expect((await getLws('scale')).status?.replicas).toBeUndefined();
  });
});

describe('startupPolicy', () => {
  async function creationOrder(
    name: string,
    startupPolicy: 'LeaderReady' | 'LeaderCreated',
  ): Promise<{ leaderReadyAt: number; firstWorkerAt: number }> {
    let leaderReadyAt = 0;
    let firstWorkerAt = 0;
    const controller = await new Watch(c.kc).watch(
      '/api/v1/namespaces/default/pods',
      { labelSelector: `leaderworkerset.sigs.k8s.io/name=${name}` },
      (type, pod: V1Pod) => {
        const isLeader = pod.metadata?.labels?.['leaderworkerset.sigs.k8s.io/worker-index'] === '0';
        if (isLeader && ready(pod) && !leaderReadyAt) leaderReadyAt = performance.now();
        if (!isLeader && type === 'ADDED' && !firstWorkerAt) firstWorkerAt = performance.now();
      },
      () => undefined,
    );
    await create(lwsManifest({ name, replicas: 1, size: 3, startupPolicy }));
    await waitFor(() => allReady(name, 3));
    controller.abort();
    return { leaderReadyAt, firstWorkerAt };
  }

  it('LeaderReady creates workers only once the leader is ready', async () => {
    const t = await creationOrder('lr', 'LeaderReady');
    expect(t.firstWorkerAt).toBeGreaterThanOrEqual(t.leaderReadyAt);
    const sts = await c.apps.readNamespacedStatefulSet({ namespace: 'default', name: 'lr-0' });
    expect(sts.metadata?.creationTimestamp).toBeDefined();
  });

  it('LeaderCreated creates workers before the leader is ready', async () => {
    const t = await creationOrder('lc', 'LeaderCreated');
    expect(t.firstWorkerAt).toBeLessThan(t.leaderReadyAt);
  });
});

describe('restart policy', () => {
  it('RecreateGroupOnPodRestart recreates the whole group when one pod fails', async () => {
    await create(lwsManifest({ name: 'rg', replicas: 2, size: 3 }));
    const before = await waitFor(() => allReady('rg', 6));
    const uids = new Map(before.map((p) => [p.metadata?.name, p.metadata?.uid]));
    expect((await fault('pods/default/rg-1-2/fail', { message: 'boom' })).status).toBe(200);
    const after = await waitFor(async () => {
      const l = await allReady('rg', 6);
      return l &&
        l
          .filter((p) => p.metadata?.name?.startsWith('rg-1'))
          .every((p) => p.metadata?.uid !== uids.get(p.metadata?.name))
        ? l
        : undefined;
    });
    for (const p of after.filter((x) => x.metadata?.name?.startsWith('rg-0')))
      expect(p.metadata?.uid).toBe(uids.get(p.metadata?.name));
    const messages = (await events('rg')).map((e) => `${e.reason}: ${e.message}`);
    expect(messages).toContain(
      'RecreateGroupOnPodRestart: Worker pod rg-1-2 failed, deleted leader pod rg-1 to recreate group 1',
    );
  });

  it('RecreateGroupOnPodRestart also reacts to a container restart', async () => {
    const before = await waitFor(() => allReady('rg', 6));
    const leaderUid = before.find((p) => p.metadata?.name === 'rg-0')?.metadata?.uid;
    expect((await fault('pods/default/rg-0-1/restart')).status).toBe(200);
    await waitFor(async () => {
      const l = await allReady('rg', 6);
      return l?.find((p) => p.metadata?.name === 'rg-0' && p.metadata.uid !== leaderUid);
    });
  });

  it('RecreateGroupOnPodRestart recreates the group when a worker pod is deleted', async () => {
    const before = await waitFor(() => allReady('rg', 6));
    const leaderUid = before.find((p) => p.metadata?.name === 'rg-1')?.metadata?.uid;
    await c.core.deleteNamespacedPod({ namespace: 'default', name: 'rg-1-1' });
    await waitFor(async () => {
      const l = await allReady('rg', 6);
      return l?.find((p) => p.metadata?.name === 'rg-1' && p.metadata.uid !== leaderUid);
    });
  });

  it('None restarts only the failed pod', async () => {
    await create(lwsManifest({ name: 'rn', replicas: 1, size: 3, restartPolicy: 'None' }));
    const before = await waitFor(() => allReady('rn', 3));
    const uids = new Map(before.map((p) => [p.metadata?.name, p.metadata?.uid]));
    await fault('pods/default/rn-0-1/fail');
    const after = await waitFor(async () => {
      const l = await allReady('rn', 3);
      return l?.find((p) => p.metadata?.name === 'rn-0-1')?.metadata?.uid !== uids.get('rn-0-1')
        ? l
        : undefined;
    });
    expect(after.find((p) => p.metadata?.name === 'rn-0')?.metadata?.uid).toBe(uids.get('rn-0'));
    expect(after.find((p) => p.metadata?.name === 'rn-0-2')?.metadata?.uid).toBe(uids.get('rn-0-2'));
    await fault('pods/default/rn-0-2/restart');
    const restarted = await waitFor(async () => {
      const p = await c.core.readNamespacedPod({ namespace: 'default', name: 'rn-0-2' });
      return ready(p) && p.status?.containerStatuses?.[0].restartCount === 1 ? p : undefined;
    });
    expect(restarted.metadata?.uid).toBe(uids.get('rn-0-2'));
  });
});

describe('rolling update', () => {
  it('updates group by group from the highest index, with a surge group removed at the end', async () => {
    await create(lwsManifest({ name: 'ru', replicas: 3, size: 2, maxSurge: 1, maxUnavailable: 1 }));
    await waitFor(() => allReady('ru', 6));
    const leaderAdds: number[] = [];
    let maxLeaders = 0;
    const controller = await new Watch(c.kc).watch(
      '/api/v1/namespaces/default/pods',
      { labelSelector: 'leaderworkerset.sigs.k8s.io/name=ru,leaderworkerset.sigs.k8s.io/worker-index=0' },
      (type, pod: V1Pod) => {
        if (type === 'ADDED')
          leaderAdds.push(Number(pod.metadata?.labels?.['leaderworkerset.sigs.k8s.io/group-index']));
      },
      () => undefined,
    );
    await waitFor(() => leaderAdds.length === 3);
    leaderAdds.length = 0;
    const monitor = setInterval(() => {
      void pods('ru').then((l) => {
        maxLeaders = Math.max(
          maxLeaders,
          l.filter((p) => p.metadata?.labels?.['leaderworkerset.sigs.k8s.io/worker-index'] === '0').length,
        );
      });
    }, 5);
    await c.custom.patchNamespacedCustomObject({
      ...LWS,
      namespace: 'default',
      name: 'ru',
      body: [
        {
          op: 'replace',
          path: '/spec/leaderWorkerTemplate/workerTemplate/spec/containers/0/image',
          value: 'nginx:1.25',
        },
      ],
    });
    const sawUpdating = await waitFor(async () =>
      (await getLws('ru')).status?.conditions?.some(
        (x) => x.type === 'UpdateInProgress' && x.status === 'True',
      ),
    );
    expect(sawUpdating).toBe(true);
    const done = await waitFor(
      async () => {
        const l = await allReady('ru', 6);
        const lws = await getLws('ru');
        return l &&
          l.every((p) => p.spec?.containers[0].image === 'nginx:1.25') &&
          lws.status?.updatedReplicas === 3 &&
          lws.status.conditions?.some((x) => x.type === 'Available' && x.status === 'True')
          ? l
          : undefined;
      },
      20_000,
      'rolled out',
    );
    clearInterval(monitor);
    controller.abort();
    expect(done.map((p) => p.metadata?.name)).toEqual(['ru-0', 'ru-0-1', 'ru-1', 'ru-1-1', 'ru-2', 'ru-2-1']);
    expect(leaderAdds[0]).toBe(3);
    expect([...leaderAdds.slice(1)].sort()).toEqual([0, 1, 2]);
    for (let i = 2; i < leaderAdds.length; i++) expect(leaderAdds[i]).toBeLessThanOrEqual(leaderAdds[i - 1]);
    expect(maxLeaders).toBe(4);
    const updating = (await events('ru')).filter((e) => e.reason === 'GroupsUpdating').map((e) => e.message);
    expect(updating).toContain('Rolling Upgrade is in progress, with 3 groups ready of total 3 groups');
  });

  it('leaves groups below the partition alone', async () => {
    await create(lwsManifest({ name: 'rp', replicas: 3, size: 1, partition: 2, maxUnavailable: 3 }));
    await waitFor(() => allReady('rp', 3));
    await c.custom.patchNamespacedCustomObject({
      ...LWS,
      namespace: 'default',
      name: 'rp',
      body: [
        {
          op: 'replace',
          path: '/spec/leaderWorkerTemplate/workerTemplate/spec/containers/0/image',
          value: 'nginx:2',
        },
      ],
    });
    const l = await waitFor(async () => {
      const list = await allReady('rp', 3);
      return list?.find((p) => p.metadata?.name === 'rp-2')?.spec?.containers[0].image === 'nginx:2'
        ? list
        : undefined;
    });
    expect(l.map((p) => p.spec?.containers[0].image)).toEqual(['nginx:1.14.2', 'nginx:1.14.2', 'nginx:2']);
  });
});
