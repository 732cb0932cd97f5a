// One conformance table of LeaderWorkerSet and API server behaviour, run against whichever cluster
// test/support/cluster.ts gives: the simulator (default) or the upstream control plane with the node
// agent (TROUPE_TEST_CLUSTER=kube). Every row asserts what UPSTREAM does (kube-apiserver v1.36 and the
// LWS v0.7.0 controller and webhooks; the points of ../shared/reference/lws-semantics.md). A row the
// simulator is known to get wrong says why in `simDiffers` and runs as `it.fails` there, so it fails
// the day the simulator is fixed; docs/cluster-sim.md ("Conformance with upstream Kubernetes") lists
// every difference found. Each row has its own namespace; rows share the file's cluster.

import { createHash, randomBytes } from 'node:crypto';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  Watch,
  type CoreV1Event,
  type KubernetesObject,
  type V1Pod,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectApiError, kubectl, kubectlAvailable, SAMPLE_FILE } from '../cluster-sim/helpers';
import { clusterKind, startTestCluster, type TestCluster } from '../support/cluster';
import { pollUntil } from '../support/until';

const KIND = clusterKind();
const LWS = { group: 'leaderworkerset.x-k8s.io', version: 'v1', plural: 'leaderworkersets' } as const;
const L = {
  name: 'leaderworkerset.sigs.k8s.io/name',
  groupIndex: 'leaderworkerset.sigs.k8s.io/group-index',
  workerIndex: 'leaderworkerset.sigs.k8s.io/worker-index',
  groupKey: 'leaderworkerset.sigs.k8s.io/group-key',
  revision: 'leaderworkerset.sigs.k8s.io/template-revision-hash',
  size: 'leaderworkerset.sigs.k8s.io/size',
  leaderName: 'leaderworkerset.sigs.k8s.io/leader-name',
  exclusive: 'leaderworkerset.sigs.k8s.io/exclusive-topology',
} as const;
/** The real cluster is slower (graceful deletion confirmed by the node agent, controller queues). */
const WAIT_MS = KIND === 'kube' ? 90_000 : 20_000;
const ROW_TIMEOUT_MS = KIND === 'kube' ? 180_000 : 60_000;
const POD_START_MS = 100;
const POD_READY_MS = 400;

// ------------------------------------------------------------------ clients and helpers

let cluster: TestCluster;
let kc: KubeConfig;
let core: CoreV1Api;
let apps: AppsV1Api;
let custom: CustomObjectsApi;
let objects: KubernetesObjectApi;

type Obj = Record<string, unknown>;
interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
interface LwsObj {
  metadata: { name: string; namespace: string; resourceVersion: string; uid: string };
  spec: Obj & { replicas?: number };
  status?: {
    replicas?: number;
    readyReplicas?: number;
    updatedReplicas?: number;
    hpaPodSelector?: string;
    conditions?: Condition[];
  };
}

interface LwsOpts {
  replicas?: number;
  size?: number;
  image?: string;
  startupPolicy?: 'LeaderCreated' | 'LeaderReady';
  restartPolicy?: 'RecreateGroupOnPodRestart' | 'None';
  rollout?: { maxUnavailable?: number | string; maxSurge?: number | string; partition?: number };
  annotations?: Record<string, string>;
  env?: { name: string; value: string }[];
  initContainer?: boolean;
  gpus?: number;
}

/** A LeaderWorkerSet of plain (non-vLLM) containers: the kubelet marks them ready after the delays. */
function lws(ns: string, name: string, o: LwsOpts = {}): Obj {
  const container: Obj = { name: 'main', image: o.image ?? 'nginx:1.14.2' };
  if (o.env) container.env = o.env;
  if (o.gpus) container.resources = { limits: { 'nvidia.com/gpu': String(o.gpus) } };
  const podSpec: Obj = { containers: [container] };
  if (o.initContainer) podSpec.initContainers = [{ name: 'init', image: 'busybox:1.36', env: o.env }];
  const spec: Obj = {
    replicas: o.replicas ?? 1,
    leaderWorkerTemplate: {
      size: o.size ?? 1,
      ...(o.restartPolicy ? { restartPolicy: o.restartPolicy } : {}),
      workerTemplate: { spec: podSpec },
    },
  };
  if (o.startupPolicy) spec.startupPolicy = o.startupPolicy;
  if (o.rollout) spec.rolloutStrategy = { type: 'RollingUpdate', rollingUpdateConfiguration: o.rollout };
  return {
    apiVersion: 'leaderworkerset.x-k8s.io/v1',
    kind: 'LeaderWorkerSet',
    metadata: { name, namespace: ns, ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec,
  };
}

const createLws = async (ns: string, body: Obj): Promise<LwsObj> =>
  (await custom.createNamespacedCustomObject({ ...LWS, namespace: ns, body })) as LwsObj;
const getLws = async (ns: string, name: string): Promise<LwsObj> =>
  (await custom.getNamespacedCustomObject({ ...LWS, namespace: ns, name })) as LwsObj;
const patchLws = (ns: string, name: string, ops: Obj[]): Promise<unknown> =>
  custom.patchNamespacedCustomObject({ ...LWS, namespace: ns, name, body: ops });
const setImage = (ns: string, name: string, image: string): Promise<unknown> =>
  patchLws(ns, name, [
    {
      op: 'replace',
      path: '/spec/leaderWorkerTemplate/workerTemplate/spec/containers/0/image',
      value: image,
    },
  ]);

const podsOf = async (ns: string, name: string): Promise<V1Pod[]> =>
  (await core.listNamespacedPod({ namespace: ns, labelSelector: `${L.name}=${name}` })).items.sort((a, b) =>
    (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''),
  );
const stsOf = async (ns: string, name: string): Promise<V1StatefulSet[]> =>
  (await apps.listNamespacedStatefulSet({ namespace: ns, labelSelector: `${L.name}=${name}` })).items.sort(
    (a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''),
  );
const isReady = (p: V1Pod): boolean =>
  p.status?.phase === 'Running' &&
  (p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);
const nameOf = (p: { metadata?: { name?: string } }): string => p.metadata?.name ?? '';
const uids = (list: V1Pod[]): Map<string, string> =>
  new Map(list.map((p) => [nameOf(p), p.metadata?.uid ?? '']));
const groupOf = (p: V1Pod): string => p.metadata?.labels?.[L.groupIndex] ?? '';
const isLeader = (p: V1Pod): boolean => p.metadata?.labels?.[L.workerIndex] === '0';
const cond = (l: LwsObj, type: string): Condition | undefined =>
  l.status?.conditions?.find((c) => c.type === type);
const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');

const until = <T>(what: string, fn: () => Promise<T | undefined | false | null>, ms = WAIT_MS) =>
  pollUntil(what, fn, ms, KIND === 'kube' ? 100 : 20);

/** Every pod of `groups` groups of `size` running and ready (and no other pod of the LWS). */
async function groupsReady(ns: string, name: string, groups: number, size: number): Promise<V1Pod[]> {
  return until(`${groups}x${size} ready pods of ${ns}/${name}`, async () => {
    const list = await podsOf(ns, name);
    return list.length === groups * size && list.every((p) => isReady(p) && !p.metadata?.deletionTimestamp)
      ? list
      : undefined;
  });
}

async function lwsAvailable(ns: string, name: string, extra?: (l: LwsObj) => boolean): Promise<LwsObj> {
  return until(`${ns}/${name} Available`, async () => {
    const l = await getLws(ns, name);
    return cond(l, 'Available')?.status === 'True' && (!extra || extra(l)) ? l : undefined;
  });
}

async function lwsEvents(ns: string, name: string): Promise<string[]> {
  const items: CoreV1Event[] = (
    await core.listNamespacedEvent({
      namespace: ns,
      fieldSelector: `involvedObject.kind=LeaderWorkerSet,involvedObject.name=${name}`,
    })
  ).items;
  return items.map((e) => `${e.reason}: ${e.message}`);
}

async function eventsInclude(ns: string, name: string, expected: string[]): Promise<string[]> {
  return until(`events of ${ns}/${name}: ${expected.join(' | ')}`, async () => {
    const got = await lwsEvents(ns, name);
    return expected.every((e) => got.includes(e)) ? got : undefined;
  });
}

interface Seen<T> {
  type: string;
  obj: T;
}

/** A watch that records every event; `stop()` ends it. */
async function record<T>(
  path: string,
  query: Record<string, string>,
): Promise<{ seen: Seen<T>[]; stop: () => void }> {
  const seen: Seen<T>[] = [];
  const ctrl = await new Watch(kc).watch(
    path,
    query,
    (type: string, obj: T) => seen.push({ type, obj }),
    () => undefined,
  );
  return { seen, stop: () => ctrl.abort() };
}

/** The fault API (simulator or node agent): 200 or the test fails. */
async function fault(path: string, body: unknown = {}): Promise<void> {
  const res = await cluster.sim('POST', `/sim/${path}`, body);
  expect(res.status, `POST /sim/${path}: ${await res.clone().text()}`).toBe(200);
}

// ------------------------------------------------------------------ the table

interface Ctx {
  ns: string;
}

interface Row {
  /** The point of lws-semantics.md (or the brief) the row checks. */
  point: string;
  title: string;
  /** Known difference of the simulator: the row asserts upstream and is expected to fail there. */
  simDiffers?: string;
  /** Why the row cannot run here (printed), or undefined. */
  skipReason?: () => string | undefined;
  run(t: Ctx): Promise<void>;
}

const rows: Row[] = [
  {
    point: '1 naming',
    title:
      'leader StatefulSet NAME, worker StatefulSets NAME-i (ordinals from 1), pods NAME-i / NAME-i-j, ' +
      'headless Service NAME; size 1 creates no worker StatefulSet',
    async run({ ns }) {
      await createLws(ns, lws(ns, 'shape', { replicas: 2, size: 3 }));
      await createLws(ns, lws(ns, 'solo', { replicas: 2, size: 1 }));
      const pods = await groupsReady(ns, 'shape', 2, 3);
      expect(pods.map(nameOf)).toEqual([
        'shape-0',
        'shape-0-1',
        'shape-0-2',
        'shape-1',
        'shape-1-1',
        'shape-1-2',
      ]);
      const byName = new Map(pods.map((p) => [nameOf(p), p]));
      const leader = byName.get('shape-1') as V1Pod;
      const worker = byName.get('shape-1-2') as V1Pod;
      expect(leader.metadata?.ownerReferences).toMatchObject([
        { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'shape', controller: true },
      ]);
      expect(worker.metadata?.ownerReferences).toMatchObject([
        { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'shape-1', controller: true },
      ]);
      expect([leader.spec?.hostname, leader.spec?.subdomain]).toEqual(['shape-1', 'shape']);
      expect([worker.spec?.hostname, worker.spec?.subdomain]).toEqual(['shape-1-2', 'shape']);

      const sts = await stsOf(ns, 'shape');
      expect(sts.map((s) => `${nameOf(s)}:${s.spec?.replicas}`)).toEqual([
        'shape:2',
        'shape-0:2',
        'shape-1:2',
      ]);
      const [leaderSts, workerSts] = sts;
      expect(leaderSts.spec).toMatchObject({ serviceName: 'shape', podManagementPolicy: 'Parallel' });
      expect(leaderSts.metadata?.ownerReferences).toMatchObject([
        {
          apiVersion: 'leaderworkerset.x-k8s.io/v1',
          kind: 'LeaderWorkerSet',
          name: 'shape',
          controller: true,
        },
      ]);
      expect(workerSts.spec).toMatchObject({
        serviceName: 'shape',
        podManagementPolicy: 'Parallel',
        ordinals: { start: 1 },
      });
      expect(workerSts.metadata?.ownerReferences).toMatchObject([
        {
          apiVersion: 'v1',
          kind: 'Pod',
          name: 'shape-0',
          uid: byName.get('shape-0')?.metadata?.uid,
          controller: true,
        },
      ]);

      const svc = await core.readNamespacedService({ namespace: ns, name: 'shape' });
      expect(svc.spec).toMatchObject({
        clusterIP: 'None',
        selector: { [L.name]: 'shape' },
        publishNotReadyAddresses: true,
      });
      expect(svc.metadata?.ownerReferences).toMatchObject([
        { kind: 'LeaderWorkerSet', name: 'shape', controller: true },
      ]);

      const solo = await groupsReady(ns, 'solo', 2, 1);
      expect(solo.map(nameOf)).toEqual(['solo-0', 'solo-1']);
      await lwsAvailable(ns, 'solo');
      expect((await stsOf(ns, 'solo')).map((s) => `${nameOf(s)}:${s.spec?.replicas}`)).toEqual(['solo:2']);
    },
  },
  {
    point: '2 labels, annotations, env',
    title:
      'name / group-index / worker-index / group-key (sha1 of NS/NAME-i) / template-revision-hash labels, ' +
      'size and leader-name annotations, LWS_* env first in containers and init containers',
    async run({ ns }) {
      const env = [{ name: 'MODEL', value: 'llama' }];
      await createLws(ns, lws(ns, 'lbl', { replicas: 2, size: 3, env, initContainer: true }));
      const pods = await until('6 pods of lbl', async () => {
        const l = await podsOf(ns, 'lbl');
        return l.length === 6 ? l : undefined;
      });
      const [leaderSts] = await stsOf(ns, 'lbl');
      const revision = leaderSts.metadata?.labels?.[L.revision];
      expect(revision).toMatch(/^[a-z0-9]+$/);
      for (const p of pods) {
        const [, g, j = '0'] = /^lbl-(\d+)(?:-(\d+))?$/.exec(nameOf(p)) ?? [];
        expect(p.metadata?.labels, nameOf(p)).toMatchObject({
          [L.name]: 'lbl',
          [L.groupIndex]: g,
          [L.workerIndex]: j,
          [L.groupKey]: sha1(`${ns}/lbl-${g}`),
          [L.revision]: revision,
        });
        expect(p.metadata?.annotations?.[L.size], nameOf(p)).toBe('3');
        expect(p.metadata?.annotations?.[L.leaderName], nameOf(p)).toBe(j === '0' ? undefined : `lbl-${g}`);
        const injected = [
          { name: 'LWS_LEADER_ADDRESS', value: `lbl-${g}.lbl.${ns}` },
          { name: 'LWS_GROUP_SIZE', value: '3' },
          { name: 'LWS_WORKER_INDEX', value: j },
          ...env,
        ];
        expect(p.spec?.containers[0].env, nameOf(p)).toEqual(injected);
        expect(p.spec?.initContainers?.[0].env, nameOf(p)).toEqual(injected);
      }
    },
  },
  {
    point: '3 spec defaults',
    title:
      'a minimal LWS comes back with replicas 1, size 1, RecreateGroupOnPodRestart, LeaderCreated, ' +
      'RollingUpdate 1/0/0, subdomainPolicy Shared (and the webhook round trip: template metadata {}, resources {})',
    async run({ ns }) {
      const created = await createLws(ns, {
        apiVersion: 'leaderworkerset.x-k8s.io/v1',
        kind: 'LeaderWorkerSet',
        metadata: { name: 'defaults', namespace: ns },
        spec: {
          leaderWorkerTemplate: {
            workerTemplate: {
              spec: { containers: [{ name: 'main', image: 'nginx:1.14.2', ports: [{ containerPort: 80 }] }] },
            },
          },
        },
      });
      expect(created.spec).toEqual({
        replicas: 1,
        startupPolicy: 'LeaderCreated',
        leaderWorkerTemplate: {
          size: 1,
          restartPolicy: 'RecreateGroupOnPodRestart',
          // The mutating webhook decodes into Go structs and encodes again: non-pointer structs appear.
          workerTemplate: {
            metadata: {},
            spec: {
              containers: [
                {
                  name: 'main',
                  image: 'nginx:1.14.2',
                  ports: [{ containerPort: 80, protocol: 'TCP' }],
                  resources: {},
                },
              ],
            },
          },
        },
        rolloutStrategy: {
          type: 'RollingUpdate',
          rollingUpdateConfiguration: { maxUnavailable: 1, maxSurge: 0, partition: 0 },
        },
        networkConfig: { subdomainPolicy: 'Shared' },
      });
      const partial = await createLws(ns, {
        ...lws(ns, 'partial'),
        spec: {
          ...(lws(ns, 'partial').spec as Obj),
          rolloutStrategy: { type: 'RollingUpdate', rollingUpdateConfiguration: { maxSurge: '50%' } },
        },
      });
      // A partial configuration is defaulted field by field by the CRD schema, not by the webhook.
      expect(partial.spec.rolloutStrategy).toEqual({
        type: 'RollingUpdate',
        rollingUpdateConfiguration: { maxSurge: '50%', maxUnavailable: 1, partition: 0 },
      });
    },
  },
  {
    point: '4 status',
    title:
      'replicas / readyReplicas / updatedReplicas, hpaPodSelector (leaders), Available and Progressing ' +
      'conditions and their events; zero counts are omitted',
    async run({ ns }) {
      await createLws(ns, lws(ns, 'st', { replicas: 2, size: 2 }));
      await groupsReady(ns, 'st', 2, 2);
      const l = await lwsAvailable(ns, 'st', (x) => x.status?.readyReplicas === 2);
      expect(l.status).toMatchObject({
        replicas: 2,
        readyReplicas: 2,
        updatedReplicas: 2,
        hpaPodSelector: `${L.name}=st,${L.workerIndex}=0`,
      });
      expect(cond(l, 'Available')).toMatchObject({
        status: 'True',
        reason: 'AllGroupsReady',
        message: 'All replicas are ready',
      });
      expect(cond(l, 'Progressing')).toMatchObject({
        status: 'False',
        reason: 'GroupsProgressing',
        message: 'Replicas are progressing',
      });
      expect(cond(l, 'UpdateInProgress')).toBeUndefined();
      const revision = (await stsOf(ns, 'st'))[0].metadata?.labels?.[L.revision];
      await eventsInclude(ns, 'st', [
        `CreatingRevision: Creating revision with key ${revision} for a newly created LeaderWorkerSet`,
        'GroupsProgressing: Created leader statefulset st',
        'GroupsProgressing: Created worker statefulset for leader pod st-0',
        'GroupsProgressing: Created worker statefulset for leader pod st-1',
        'GroupsProgressing: Replicas are progressing, with 0 groups ready of total 2 groups',
        'AllGroupsReady: All replicas are ready, with 2 groups ready of total 2 groups',
      ]);

      await createLws(ns, lws(ns, 'none', { replicas: 0, size: 2 }));
      const empty = await lwsAvailable(ns, 'none', (x) => !!x.status?.hpaPodSelector);
      // readyReplicas, updatedReplicas and replicas are `omitempty` int32s in the Go type.
      expect(Object.keys(empty.status ?? {}).sort()).toEqual(['conditions', 'hpaPodSelector']);
    },
  },
  {
    point: '5 startupPolicy',
    title: 'LeaderReady creates the worker StatefulSet only after the leader is Ready; LeaderCreated before',
    async run({ ns }) {
      // Both clusters keep one resourceVersion sequence for every kind (one etcd, one store), so the
      // creation of the worker StatefulSet and the update that made the leader Ready are ordered by it.
      const pods = await record<V1Pod>(`/api/v1/namespaces/${ns}/pods`, {});
      const sets = await record<V1StatefulSet>(`/apis/apps/v1/namespaces/${ns}/statefulsets`, {});
      try {
        await createLws(ns, lws(ns, 'lready', { size: 3, startupPolicy: 'LeaderReady' }));
        await createLws(ns, lws(ns, 'lcreated', { size: 3, startupPolicy: 'LeaderCreated' }));
        await groupsReady(ns, 'lready', 1, 3);
        await groupsReady(ns, 'lcreated', 1, 3);
        const rv = (o: { metadata?: { resourceVersion?: string } }): number =>
          Number(o.metadata?.resourceVersion);
        const readyAt = (leader: string): number => {
          const e = pods.seen.find((s) => nameOf(s.obj) === leader && isReady(s.obj));
          expect(e, `a watch event with ${leader} Ready`).toBeDefined();
          return rv(e?.obj ?? {});
        };
        const createdAt = (name: string): number => {
          const e = sets.seen.find((s) => s.type === 'ADDED' && nameOf(s.obj) === name);
          expect(e, `ADDED ${name}`).toBeDefined();
          return rv(e?.obj ?? {});
        };
        expect(createdAt('lready-0')).toBeGreaterThan(readyAt('lready-0'));
        expect(createdAt('lcreated-0')).toBeLessThan(readyAt('lcreated-0'));
      } finally {
        pods.stop();
        sets.stop();
      }
    },
  },
  {
    point: '6 exclusive topology',
    title:
      'exclusive-topology: rack puts each group in one rack, one group per rack; the group beyond the ' +
      'racks has its leader Pending with a FailedScheduling event and no worker StatefulSet',
    async run({ ns }) {
      const nodes = new Map(
        (await core.listNode()).items.map((n) => [nameOf(n), n.metadata?.labels?.rack ?? '']),
      );
      const racks = new Set(nodes.values());
      expect(racks.size).toBe(2);
      await createLws(ns, lws(ns, 'ex', { replicas: 3, size: 2, annotations: { [L.exclusive]: 'rack' } }));
      const { running, pending } = await until(
        'two groups running and one leader unschedulable',
        async () => {
          const list = await podsOf(ns, 'ex');
          const run = list.filter(isReady);
          const pend = list.filter((p) =>
            p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False'),
          );
          return run.length === 4 && pend.length === 1 && list.length === 5
            ? { running: run, pending: pend[0] }
            : undefined;
        },
      );
      const rackOf = (p: V1Pod): string => nodes.get(p.spec?.nodeName ?? '') ?? '?';
      const byGroup = new Map<string, Set<string>>();
      for (const p of running) byGroup.set(groupOf(p), (byGroup.get(groupOf(p)) ?? new Set()).add(rackOf(p)));
      expect([...byGroup.values()].map((s) => s.size)).toEqual([1, 1]);
      expect(new Set([...byGroup.values()].map((s) => [...s][0])).size).toBe(2);
      for (const p of running.filter((x) => !isLeader(x)))
        expect(p.spec?.nodeSelector, nameOf(p)).toEqual({ rack: [...(byGroup.get(groupOf(p)) ?? [])][0] });

      expect(isLeader(pending)).toBe(true);
      expect(pending.status?.phase).toBe('Pending');
      const key = pending.metadata?.labels?.[L.groupKey];
      expect(pending.spec?.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
        {
          labelSelector: { matchExpressions: [{ key: L.groupKey, operator: 'In', values: [key] }] },
          topologyKey: 'rack',
        },
      ]);
      expect(pending.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution).toEqual(
        [
          {
            labelSelector: {
              matchExpressions: [
                { key: L.groupKey, operator: 'Exists' },
                { key: L.groupKey, operator: 'NotIn', values: [key] },
              ],
            },
            topologyKey: 'rack',
          },
        ],
      );
      expect(pending.status?.conditions?.find((c) => c.type === 'PodScheduled')?.reason).toBe(
        'Unschedulable',
      );
      const ev = await until('FailedScheduling event', async () => {
        const items = (
          await core.listNamespacedEvent({
            namespace: ns,
            fieldSelector: `involvedObject.name=${nameOf(pending)},reason=FailedScheduling`,
          })
        ).items;
        return items[0];
      });
      expect(ev.type).toBe('Warning');
      expect(ev.message).toMatch(
        new RegExp(`^0/${nodes.size} nodes are available: .*didn't match pod anti-affinity rules`),
      );
      expect((await stsOf(ns, 'ex')).map(nameOf)).not.toContain(nameOf(pending));
    },
  },
  {
    point: '6 scheduler message',
    title:
      "an unschedulable pod's message also carries the post-filter results (DRA, preemption), as the " +
      'scheduler writes them',
    simDiffers: 'the message stops after the filter reasons',
    async run({ ns }) {
      // 16 GPUs: more than any node has, so no preemption could help (a pod that fits a node once
      // others are gone reads "No preemption victims found for incoming pod" instead).
      await createLws(ns, lws(ns, 'huge', { replicas: 1, size: 1, gpus: 16 }));
      const pod = await until('huge-0 unschedulable', async () => {
        const p = (await podsOf(ns, 'huge'))[0];
        return p?.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False')
          ? p
          : undefined;
      });
      const n = (await core.listNode()).items.length;
      expect(pod.status?.conditions?.find((c) => c.type === 'PodScheduled')?.message).toBe(
        `0/${n} nodes are available: ${n} Insufficient nvidia.com/gpu. no new claims to deallocate, ` +
          `preemption: 0/${n} nodes are available: ${n} Preemption is not helpful for scheduling.`,
      );
    },
  },
  {
    point: '7 RecreateGroupOnPodRestart',
    title: 'a container restart in a worker recreates its whole group (new UIDs), other groups untouched',
    async run({ ns }) {
      await createLws(
        ns,
        lws(ns, 'rg', { replicas: 2, size: 3, restartPolicy: 'RecreateGroupOnPodRestart' }),
      );
      const before = uids(await groupsReady(ns, 'rg', 2, 3));
      await fault(`pods/${ns}/rg-1-2/restart`);
      const after = await until('group 1 recreated', async () => {
        const list = await groupsReady(ns, 'rg', 2, 3);
        return list.filter((p) => groupOf(p) === '1').every((p) => p.metadata?.uid !== before.get(nameOf(p)))
          ? list
          : undefined;
      });
      for (const p of after.filter((x) => groupOf(x) === '0'))
        expect(p.metadata?.uid, nameOf(p)).toBe(before.get(nameOf(p)));
      await eventsInclude(ns, 'rg', [
        'RecreateGroupOnPodRestart: Worker pod rg-1-2 failed, deleted leader pod rg-1 to recreate group 1',
      ]);
    },
  },
  {
    point: '7 RecreateGroupOnPodRestart',
    title: 'deleting a running worker pod recreates its whole group',
    async run({ ns }) {
      await createLws(ns, lws(ns, 'rd', { replicas: 1, size: 3 }));
      const before = uids(await groupsReady(ns, 'rd', 1, 3));
      await core.deleteNamespacedPod({ namespace: ns, name: 'rd-0-1' });
      const after = await until('group 0 recreated', async () => {
        const list = await groupsReady(ns, 'rd', 1, 3);
        return list.every((p) => p.metadata?.uid !== before.get(nameOf(p))) ? list : undefined;
      });
      expect(after.map(nameOf)).toEqual(['rd-0', 'rd-0-1', 'rd-0-2']);
    },
  },
  {
    point: '7 RecreateGroupOnPodRestart',
    title: 'a failed worker pod (phase Failed) recreates its whole group',
    // Upstream this is a race between the LWS pod controller (recreates the group when it sees the
    // Failed phase) and the StatefulSet controller (replaces the failed pod at once): 6 of 6 trials
    // recreated the group, then a CI run saw only the pod replaced. The container-restart and
    // deleted-worker rows cover RecreateGroupOnPodRestart deterministically on both clusters.
    skipReason: () =>
      KIND === 'kube'
        ? 'racy upstream: the StatefulSet controller may replace the failed pod before LWS sees it'
        : undefined,
    async run({ ns }) {
      // Upstream this goes through the StatefulSet controller deleting the failed pod: the API server
      // writes deletionTimestamp (grace 0, a terminal pod) and then removes it, and the LWS pod
      // controller acts on the first write. 6 of 6 trials on kube-apiserver v1.36.3 recreated the group.
      await createLws(ns, lws(ns, 'rf', { replicas: 2, size: 3 }));
      const before = uids(await groupsReady(ns, 'rf', 2, 3));
      await fault(`pods/${ns}/rf-0-2/fail`, { message: 'conformance' });
      const after = await until('group 0 recreated', async () => {
        const list = await groupsReady(ns, 'rf', 2, 3);
        return list.filter((p) => groupOf(p) === '0').every((p) => p.metadata?.uid !== before.get(nameOf(p)))
          ? list
          : undefined;
      });
      for (const p of after.filter((x) => groupOf(x) === '1'))
        expect(p.metadata?.uid, nameOf(p)).toBe(before.get(nameOf(p)));
      await eventsInclude(ns, 'rf', [
        'RecreateGroupOnPodRestart: Worker pod rf-0-2 failed, deleted leader pod rf-0 to recreate group 0',
      ]);
    },
  },
  {
    point: '7 restartPolicy None',
    title:
      'None: a failed worker pod is replaced alone, a restarted container keeps its pod (restartCount 1)',
    async run({ ns }) {
      await createLws(ns, lws(ns, 'rn', { replicas: 1, size: 3, restartPolicy: 'None' }));
      const before = uids(await groupsReady(ns, 'rn', 1, 3));
      await fault(`pods/${ns}/rn-0-1/fail`, { message: 'conformance' });
      const after = await until('rn-0-1 replaced', async () => {
        const list = await groupsReady(ns, 'rn', 1, 3);
        return list.find((p) => nameOf(p) === 'rn-0-1')?.metadata?.uid !== before.get('rn-0-1')
          ? list
          : undefined;
      });
      for (const p of after.filter((x) => nameOf(x) !== 'rn-0-1'))
        expect(p.metadata?.uid, nameOf(p)).toBe(before.get(nameOf(p)));

      await fault(`pods/${ns}/rn-0-2/restart`);
      const restarted = await until('rn-0-2 restarted in place', async () => {
        const p = await core.readNamespacedPod({ namespace: ns, name: 'rn-0-2' });
        return isReady(p) && p.status?.containerStatuses?.[0].restartCount === 1 ? p : undefined;
      });
      expect(restarted.metadata?.uid).toBe(before.get('rn-0-2'));
      const now = uids(await podsOf(ns, 'rn'));
      expect(now.get('rn-0')).toBe(before.get('rn-0'));
    },
  },
  {
    point: '8 rolling update (maxSurge)',
    title:
      'a template change with maxSurge 1 adds surge group R first, replaces groups from the highest index ' +
      'down, then removes the surge group; UpdateInProgress while it runs',
    async run({ ns }) {
      await createLws(
        ns,
        lws(ns, 'ru', { replicas: 3, size: 2, rollout: { maxUnavailable: 1, maxSurge: 1 } }),
      );
      await groupsReady(ns, 'ru', 3, 2);
      const oldRevision = (await stsOf(ns, 'ru'))[0].metadata?.labels?.[L.revision];
      const leaders = await record<V1Pod>(`/api/v1/namespaces/${ns}/pods`, {
        labelSelector: `${L.name}=ru,${L.workerIndex}=0`,
      });
      const conditions = await record<LwsObj>(
        `/apis/leaderworkerset.x-k8s.io/v1/namespaces/${ns}/leaderworkersets`,
        {
          fieldSelector: 'metadata.name=ru',
        },
      );
      try {
        await until('the watch has the 3 leaders', async () => leaders.seen.length >= 3);
        const mark = leaders.seen.length;
        await setImage(ns, 'ru', 'nginx:1.25');
        const done = await until('rolled out', async () => {
          const list = await groupsReady(ns, 'ru', 3, 2);
          const l = await getLws(ns, 'ru');
          return list.every((p) => p.spec?.containers[0].image === 'nginx:1.25') &&
            l.status?.updatedReplicas === 3 &&
            cond(l, 'Available')?.status === 'True' &&
            (await stsOf(ns, 'ru')).length === 4
            ? list
            : undefined;
        });
        expect(done.map(nameOf)).toEqual(['ru-0', 'ru-0-1', 'ru-1', 'ru-1-1', 'ru-2', 'ru-2-1']);
        const newRevision = done[0].metadata?.labels?.[L.revision];
        expect(newRevision).not.toBe(oldRevision);
        const events = leaders.seen.slice(mark);
        const added = events.filter((e) => e.type === 'ADDED').map((e) => Number(groupOf(e.obj)));
        expect(added[0]).toBe(3);
        expect(added.slice(1)).toEqual([...added.slice(1)].sort((a, b) => b - a));
        expect([...new Set(added)].sort()).toEqual([0, 1, 2, 3]);
        // The surge group existed (4 leaders at once) and is gone.
        const live = new Set<string>();
        let most = 0;
        for (const e of leaders.seen) {
          if (e.type === 'DELETED') live.delete(nameOf(e.obj));
          else live.add(nameOf(e.obj));
          most = Math.max(most, live.size);
        }
        expect(most).toBe(4);
        expect(events.some((e) => e.type === 'DELETED' && nameOf(e.obj) === 'ru-3')).toBe(true);
        expect((await podsOf(ns, 'ru')).map(nameOf)).not.toContain('ru-3');
        const updating = conditions.seen.some((e) => cond(e.obj, 'UpdateInProgress')?.status === 'True');
        expect(updating).toBe(true);
        const l = await getLws(ns, 'ru');
        expect(cond(l, 'UpdateInProgress')?.status).toBe('False');
      } finally {
        leaders.stop();
        conditions.stop();
      }
    },
  },
  {
    point: '8 rolling update (partition)',
    title: 'groups below partition keep the old revision; groups at or above it are updated',
    async run({ ns }) {
      await createLws(ns, lws(ns, 'rp', { replicas: 3, size: 2, rollout: { partition: 2 } }));
      const before = uids(await groupsReady(ns, 'rp', 3, 2));
      const oldRevision = (await stsOf(ns, 'rp'))[0].metadata?.labels?.[L.revision];
      await setImage(ns, 'rp', 'nginx:1.25');
      const l = await lwsAvailable(
        ns,
        'rp',
        (x) => x.status?.updatedReplicas === 1 && x.status.readyReplicas === 3,
      );
      expect(l.status).toMatchObject({ replicas: 3, readyReplicas: 3, updatedReplicas: 1 });
      const pods = await groupsReady(ns, 'rp', 3, 2);
      for (const p of pods) {
        const updated = groupOf(p) === '2';
        expect(p.spec?.containers[0].image, nameOf(p)).toBe(updated ? 'nginx:1.25' : 'nginx:1.14.2');
        expect(p.metadata?.labels?.[L.revision] === oldRevision, nameOf(p)).toBe(!updated);
        expect(p.metadata?.uid === before.get(nameOf(p)), nameOf(p)).toBe(!updated);
      }
    },
  },
  {
    point: '9 /scale',
    title: 'GET /scale is an autoscaling/v1 Scale with the leader selector; PUT /scale changes spec.replicas',
    async run({ ns }) {
      await createLws(ns, lws(ns, 'sc', { replicas: 2, size: 2 }));
      await groupsReady(ns, 'sc', 2, 2);
      const scale = await until('Scale status.replicas 2', async () => {
        const s = (await custom.getNamespacedCustomObjectScale({
          ...LWS,
          namespace: ns,
          name: 'sc',
        })) as Obj & {
          status?: { replicas?: number };
        };
        return s.status?.replicas === 2 ? s : undefined;
      });
      expect(scale).toMatchObject({
        kind: 'Scale',
        apiVersion: 'autoscaling/v1',
        metadata: { name: 'sc', namespace: ns },
        spec: { replicas: 2 },
        status: { replicas: 2, selector: `${L.name}=sc,${L.workerIndex}=0` },
      });
      await custom.replaceNamespacedCustomObjectScale({
        ...LWS,
        namespace: ns,
        name: 'sc',
        body: { ...scale, spec: { replicas: 3 } },
      });
      expect((await getLws(ns, 'sc')).spec.replicas).toBe(3);
      await groupsReady(ns, 'sc', 3, 2);
      await custom.patchNamespacedCustomObjectScale(
        { ...LWS, namespace: ns, name: 'sc', body: { spec: { replicas: 0 } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      await until('no pods', async () => (await podsOf(ns, 'sc')).length === 0);
      const zero = await until('Scale status.replicas 0', async () => {
        const s = (await custom.getNamespacedCustomObjectScale({
          ...LWS,
          namespace: ns,
          name: 'sc',
        })) as Obj & {
          status?: { replicas?: number };
        };
        return s.status?.replicas === 0 ? s : undefined;
      });
      // autoscaling/v1 ScaleSpec.replicas is `omitempty`: 0 is not written.
      expect(zero.spec).toEqual({});
    },
  },
  {
    point: '10 server-side apply',
    title:
      'two appliers: 409 naming field and manager, shared ownership of equal values, force moves ownership',
    async run({ ns }) {
      type Applied = KubernetesObject & {
        spec: { replicas: number };
      };
      const apply = (obj: Obj, manager: string, force = false): Promise<Applied> =>
        objects.patch(
          obj as unknown as Applied,
          undefined,
          undefined,
          manager,
          force,
          PatchStrategy.ServerSideApply,
        );
      const appliers = (o: Applied): string[] =>
        (o.metadata?.managedFields ?? [])
          .filter((m) => m.operation === 'Apply')
          .map((m) => m.manager ?? '')
          .sort();
      const first = await apply(lws(ns, 'ssa', { replicas: 1, size: 2 }), 'platform');
      expect(appliers(first)).toEqual(['platform']);
      expect(first.metadata?.managedFields?.find((m) => m.manager === 'platform')?.fieldsV1).toMatchObject({
        'f:spec': { 'f:replicas': {}, 'f:leaderWorkerTemplate': { 'f:size': {} } },
      });
      const err = await expectApiError(apply(lws(ns, 'ssa', { replicas: 5, size: 2 }), 'autoscaler'));
      expect(err.code).toBe(409);
      expect(err.body).toMatchObject({
        kind: 'Status',
        status: 'Failure',
        reason: 'Conflict',
        code: 409,
        message: 'Apply failed with 1 conflict: conflict with "platform": .spec.replicas',
        details: {
          causes: [
            { reason: 'FieldManagerConflict', message: 'conflict with "platform"', field: '.spec.replicas' },
          ],
        },
      });
      const shared = await apply(lws(ns, 'ssa', { replicas: 1, size: 2 }), 'auditor');
      expect(appliers(shared)).toEqual(['auditor', 'platform']);
      const forced = await apply(
        {
          apiVersion: 'leaderworkerset.x-k8s.io/v1',
          kind: 'LeaderWorkerSet',
          metadata: { name: 'ssa', namespace: ns },
          spec: { replicas: 3 },
        },
        'autoscaler',
        true,
      );
      expect(forced.spec.replicas).toBe(3);
      const owned = (m: string): unknown =>
        forced.metadata?.managedFields?.find((x) => x.manager === m)?.fieldsV1;
      expect(owned('autoscaler')).toEqual({ 'f:spec': { 'f:replicas': {} } });
      expect(JSON.stringify(owned('platform'))).not.toContain('f:replicas');
      expect(JSON.stringify(owned('auditor'))).not.toContain('f:replicas');
    },
  },
  {
    point: '11 validation (schema enum)',
    title: 'values outside the CRD enums: 422 Invalid, one FieldValueNotSupported cause per field',
    async run({ ns }) {
      const body = lws(ns, 'bad') as { spec: Obj & { leaderWorkerTemplate: Obj } };
      body.spec.startupPolicy = 'Eventually';
      body.spec.leaderWorkerTemplate.restartPolicy = 'Sometimes';
      const err = await expectApiError(createLws(ns, body));
      expect(err.code).toBe(422);
      expect(err.body).toMatchObject({
        reason: 'Invalid',
        details: { name: 'bad', group: 'leaderworkerset.x-k8s.io', kind: 'LeaderWorkerSet' },
      });
      const causes = (err.body.details as { causes: Obj[] }).causes;
      expect(causes).toHaveLength(2);
      expect(causes).toContainEqual({
        reason: 'FieldValueNotSupported',
        field: 'spec.startupPolicy',
        message: 'Unsupported value: "Eventually": supported values: "LeaderCreated", "LeaderReady"',
      });
      expect(causes).toContainEqual({
        reason: 'FieldValueNotSupported',
        field: 'spec.leaderWorkerTemplate.restartPolicy',
        message:
          'Unsupported value: "Sometimes": supported values: "Default", "RecreateGroupOnPodRestart", "None"',
      });
    },
  },
  {
    point: '11 validation (minimum)',
    title:
      'replicas -1: 422 from the /scale subresource check (.spec.replicas "should be a non-negative integer"), ' +
      'before any webhook',
    async run({ ns }) {
      const err = await expectApiError(createLws(ns, lws(ns, 'neg', { replicas: -1 })));
      expect(err.code).toBe(422);
      expect(err.body).toMatchObject({
        reason: 'Invalid',
        message:
          'LeaderWorkerSet.leaderworkerset.x-k8s.io "neg" is invalid: .spec.replicas: Invalid value: -1: should be a non-negative integer',
        details: {
          causes: [
            {
              reason: 'FieldValueInvalid',
              field: '.spec.replicas',
              message: 'Invalid value: -1: should be a non-negative integer',
            },
          ],
        },
      });
    },
  },
  {
    point: '11 validation (webhook)',
    title:
      'what only the LWS validating webhook rejects (size 0, maxUnavailable and maxSurge both 0): ' +
      '403 Forbidden "admission webhook "vleaderworkerset.kb.io" denied the request: <field>: …"',
    async run({ ns }) {
      const size0 = await expectApiError(createLws(ns, lws(ns, 'zero', { size: 0 })));
      expect(size0.code).toBe(403);
      expect(size0.body).toMatchObject({
        reason: 'Forbidden',
        message:
          'admission webhook "vleaderworkerset.kb.io" denied the request: spec.leaderWorkerTemplate.size: ' +
          'Invalid value: 0: size must be equal or greater than 1',
      });
      const both0 = await expectApiError(
        createLws(ns, lws(ns, 'stuck', { rollout: { maxUnavailable: 0, maxSurge: 0 } })),
      );
      expect(both0.code).toBe(403);
      expect(both0.body.message).toBe(
        'admission webhook "vleaderworkerset.kb.io" denied the request: ' +
          'spec.rolloutStrategy.rollingUpdateConfiguration.maxUnavailable: Invalid value: ' +
          'intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: must not be 0 when `maxSurge` is 0',
      );
    },
  },
  {
    point: '11 validation (strict)',
    title:
      'an unknown field with fieldValidation=Strict: 400 BadRequest naming it; without Strict it is pruned',
    async run({ ns }) {
      const body = lws(ns, 'strict') as { spec: Obj };
      body.spec.bogus = 1;
      const res = await cluster.sim(
        'POST',
        `/apis/leaderworkerset.x-k8s.io/v1/namespaces/${ns}/leaderworkersets?fieldValidation=Strict`,
        body,
      );
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({
        kind: 'Status',
        reason: 'BadRequest',
        code: 400,
        message:
          'LeaderWorkerSet in version "v1" cannot be handled as a LeaderWorkerSet: strict decoding error: unknown field "spec.bogus"',
      });
      const pruned = await createLws(ns, body);
      expect(pruned.spec.bogus).toBeUndefined();
    },
  },
  {
    point: '11 validation (templates)',
    title:
      'the webhook does not check pod templates: an LWS whose container has no image is admitted and the ' +
      'leader StatefulSet create fails (Warning FailedCreate)',
    async run({ ns }) {
      const body = lws(ns, 'noimage') as { spec: { leaderWorkerTemplate: { workerTemplate: Obj } } };
      body.spec.leaderWorkerTemplate.workerTemplate = { spec: { containers: [{ name: 'main' }] } };
      await createLws(ns, body);
      await until('FailedCreate', async () =>
        (
          await core.listNamespacedEvent({
            namespace: ns,
            fieldSelector: 'involvedObject.name=noimage,reason=FailedCreate',
          })
        ).items.some(
          (e) => e.type === 'Warning' && e.message === 'Failed to create leader statefulset noimage',
        ),
      );
      expect(await stsOf(ns, 'noimage')).toEqual([]);
    },
  },
  {
    point: '11 validation (webhook decode)',
    title:
      "the mutating webhook's Go round trip runs before the schema: a string replicas is a 400 decode error, " +
      'a missing workerTemplate becomes containers null (422), a nameless container gets name ""',
    simDiffers: 'schema validation answers first (422 type error, Required workerTemplate and name)',
    async run({ ns }) {
      const three = lws(ns, 'three') as { spec: Obj };
      three.spec.replicas = 'three';
      const decode = await expectApiError(createLws(ns, three));
      expect(decode.code).toBe(400);
      expect(decode.body.message).toBe(
        'admission webhook "mleaderworkerset.kb.io" denied the request: json: cannot unmarshal string into ' +
          'Go struct field LeaderWorkerSetSpec.spec.replicas of type int32',
      );
      const noTemplate = lws(ns, 'notemplate') as { spec: { leaderWorkerTemplate: Obj } };
      delete noTemplate.spec.leaderWorkerTemplate.workerTemplate;
      const missing = await expectApiError(createLws(ns, noTemplate));
      expect(missing.code).toBe(422);
      expect((missing.body.details as { causes: Obj[] }).causes).toEqual([
        {
          reason: 'FieldValueTypeInvalid',
          field: 'spec.leaderWorkerTemplate.workerTemplate.spec.containers',
          message:
            'Invalid value: "null": spec.leaderWorkerTemplate.workerTemplate.spec.containers in body must be of type array: "null"',
        },
      ]);
      const nameless = lws(ns, 'nameless') as { spec: { leaderWorkerTemplate: { workerTemplate: Obj } } };
      nameless.spec.leaderWorkerTemplate.workerTemplate = {
        spec: { containers: [{ image: 'nginx:1.14.2' }] },
      };
      const created = (await createLws(ns, nameless)) as unknown as {
        spec: { leaderWorkerTemplate: { workerTemplate: { spec: { containers: Obj[] } } } };
      };
      expect(created.spec.leaderWorkerTemplate.workerTemplate.spec.containers).toEqual([
        { name: '', image: 'nginx:1.14.2', resources: {} },
      ]);
    },
  },
  {
    point: '12 watch resume',
    title: 'a watch from a resourceVersion replays only later events, then streams new ones',
    async run({ ns }) {
      const mk = (name: string) =>
        core.createNamespacedConfigMap({
          namespace: ns,
          body: { metadata: { name, labels: { w: 'r' } }, data: {} },
        });
      const first = await mk('c1');
      await mk('c2');
      await mk('c3');
      const w = await record<KubernetesObject>(`/api/v1/namespaces/${ns}/configmaps`, {
        labelSelector: 'w=r',
        resourceVersion: first.metadata?.resourceVersion ?? '',
      });
      try {
        await until('2 replayed events', async () => w.seen.length >= 2);
        await mk('c4');
        await until('3 events', async () => w.seen.length >= 3);
        expect(w.seen.map((e) => `${e.type} ${nameOf(e.obj)}`)).toEqual(['ADDED c2', 'ADDED c3', 'ADDED c4']);
      } finally {
        w.stop();
      }
    },
  },
  {
    point: '12 watch 410',
    title:
      'a watch from a resourceVersion older than the server keeps (LeaderWorkerSets at 1): one ERROR event, ' +
      'Status 410 Expired "too old resource version", then the stream ends',
    async run({ ns }) {
      const seen: Seen<Obj>[] = [];
      let ended = false;
      let failure: unknown;
      const ctrl = await new Watch(kc).watch(
        `/apis/leaderworkerset.x-k8s.io/v1/namespaces/${ns}/leaderworkersets`,
        { resourceVersion: '1' },
        (type: string, obj: Obj) => seen.push({ type, obj }),
        (err: unknown) => {
          ended = true;
          failure = err;
        },
      );
      try {
        await until('the watch to end', async () => ended);
        expect(failure ?? null, 'an HTTP error instead of a 200 stream').toBeNull();
        expect(seen).toHaveLength(1);
        expect(seen[0].type).toBe('ERROR');
        expect(seen[0].obj).toMatchObject({
          kind: 'Status',
          status: 'Failure',
          reason: 'Expired',
          code: 410,
        });
        expect(String(seen[0].obj.message)).toMatch(/^too old resource version: 1 \(\d+\)$/);
      } finally {
        ctrl.abort();
      }
    },
  },
  {
    point: '13 sample + kubectl',
    title:
      "the seed article's sample applied with kubectl; `kubectl get pods --selector=…/name=leaderworkerset-sample` " +
      'lists NAME-0, NAME-0-1 … NAME-2-3 Running',
    skipReason: () => (kubectlAvailable() ? undefined : 'kubectl is not installed (/usr/bin/kubectl)'),
    async run({ ns }) {
      const NAME = 'leaderworkerset-sample';
      const applied = await kubectl(cluster.kubeconfigFile, ['apply', '-n', ns, '-f', SAMPLE_FILE]);
      expect(applied.stdout.trim()).toBe(`leaderworkerset.leaderworkerset.x-k8s.io/${NAME} created`);
      const rows = await until('12 running pods in kubectl get pods', async () => {
        const out = await kubectl(cluster.kubeconfigFile, [
          'get',
          'pods',
          '-n',
          ns,
          `--selector=${L.name}=${NAME}`,
        ]);
        const lines = out.stdout.trim().split('\n');
        return lines.length === 13 && lines.slice(1).every((l) => /^\S+\s+1\/1\s+Running\s+0\s+\S+$/.test(l))
          ? lines
          : undefined;
      });
      expect(rows[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
      expect(rows.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(
        [0, 1, 2].flatMap((g) => [`${NAME}-${g}`, `${NAME}-${g}-1`, `${NAME}-${g}-2`, `${NAME}-${g}-3`]),
      );
      const got = await until('kubectl get lws 3 ready', async () => {
        const out = await kubectl(cluster.kubeconfigFile, ['get', 'lws', '-n', ns]);
        return new RegExp(`^${NAME}\\s+3\\s+3\\s+3\\s+\\S+$`, 'm').test(out.stdout) ? out.stdout : undefined;
      });
      expect(got).toMatch(/^NAME\s+READY\s+DESIRED\s+UP-TO-DATE\s+AGE\n/);
    },
  },
];

// ------------------------------------------------------------------ running the table

const results: { row: Row; outcome: 'passed' | 'failed' | 'differs' | 'skipped' }[] = [];
let started = Date.now();

beforeAll(async () => {
  const t0 = Date.now();
  cluster = await startTestCluster({
    nodes: 4,
    racks: 2,
    gpusPerNode: 8,
    podStartMs: POD_START_MS,
    podReadyMs: POD_READY_MS,
  });
  kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigFile);
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
  objects = KubernetesObjectApi.makeApiClient(kc);
  console.log(`[conformance] ${KIND}: cluster up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  started = Date.now();
});

afterAll(async () => {
  const of = (o: string) => results.filter((r) => r.outcome === o);
  const ran = results.length - of('skipped').length;
  const known = rows.filter((r) => r.simDiffers).map((r) => r.point);
  console.log(
    `[conformance] ${KIND}: ${ran} cases run, ${of('passed').length} passed, ` +
      `${of('differs').length} differences (the simulator's known ones: ${known.length}, ${known.join('; ')}` +
      `${KIND === 'sim' ? ', each failing as expected' : ', rows passing here'})` +
      (of('failed').length
        ? `, ${of('failed').length} FAILED: ${of('failed')
            .map((r) => r.row.point)
            .join('; ')}`
        : '') +
      (of('skipped').length ? `, ${of('skipped').length} skipped` : '') +
      ` in ${((Date.now() - started) / 1000).toFixed(1)} s of rows`,
  );
  const t0 = Date.now();
  // Leave the cluster as found: the rows' namespaces go (their pods deleted gracefully, confirmed by
  // the kubelet) before the kubelet stops. On the real cluster this also keeps the harness's reset
  // short: it does not read the bodies of its DELETE answers, and closing its HTTP agent waits for
  // large unread ones (the namespaces' LWS and pods) for tens of seconds.
  await until('the rows namespaces gone', async () =>
    (await core.listNamespace()).items.every((n) => !nameOf(n).startsWith('conf-')),
  ).catch((e: Error) => console.log(`[conformance] ${e.message}`));
  await cluster?.stop();
  console.log(`[conformance] ${KIND}: cluster stopped in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

describe(`LWS conformance (${KIND})`, () => {
  for (const row of rows) {
    // CONFORMANCE_SHOW_DIFFERENCES=1 runs the known differences as plain tests, to see how they fail.
    const known = KIND === 'sim' && !process.env.CONFORMANCE_SHOW_DIFFERENCES ? row.simDiffers : undefined;
    const skip = row.skipReason?.();
    const test = known ? it.fails : it;
    const title = `${row.point}: ${row.title}${known ? ` [simulator differs: ${known}]` : ''}`;
    if (skip) {
      it.skip(`${title} [not run: ${skip}]`, () => undefined);
      results.push({ row, outcome: 'skipped' });
      console.log(`[conformance] ${row.point} not run: ${skip}`);
      continue;
    }
    test(
      title,
      async () => {
        const ns = `conf-${row.point.split(' ')[0]}-${randomBytes(3).toString('hex')}`;
        await core.createNamespace({ body: { metadata: { name: ns } } });
        try {
          await row.run({ ns });
          if (known) console.log(`[conformance] ${row.point} now conforms on ${KIND}: drop its simDiffers`);
          results.push({ row, outcome: known ? 'failed' : 'passed' });
        } catch (e) {
          results.push({ row, outcome: known ? 'differs' : 'failed' });
          if (!known) console.log(`[conformance] ${row.point} failed on ${KIND}: ${(e as Error).message}`);
          throw e;
        } finally {
          await core.deleteNamespace({ name: ns }).catch(() => undefined);
        }
      },
      ROW_TIMEOUT_MS,
    );
  }
});
