import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { Agent, fetch as undiciFetch } from 'undici';
import { inject } from 'vitest';
import { startClusterSim, type ClusterSimOptions } from '../../apps/cluster-sim/src';
import { startNodeAgent } from '../../apps/node-agent/src';
import { startControlPlane, type ControlPlane } from '../../libs/testing/src';

/**
 * The cluster an e2e file runs against. `TROUPE_TEST_CLUSTER=kube` (`npm run test:kube`) chooses the
 * upstream control plane that test/global-setup.ts started for the whole run, with GPU nodes from
 * the node agent (apps/node-agent) started here for this file; otherwise the cluster simulator runs
 * in-process. Both answer the same fault-injection API under `/sim/` (`sim()`), and `sim()` of any
 * other path reaches the Kubernetes API, so a test does not care which cluster it has.
 */
export type ClusterKind = 'sim' | 'kube';

export interface TestCluster {
  kind: ClusterKind;
  /** Kubernetes API URL. */
  url: string;
  kubeconfigFile: string;
  /** `/sim/*`: the fault API (simulator or node agent); anything else: the Kubernetes API. */
  sim(method: string, p: string, body?: unknown): Promise<Response>;
  /** `ownControlPlane`: the control plane of this cluster alone, for tests that kill its parts. */
  controlPlane?: ControlPlane;
  stop(): Promise<void>;
}

export type TestClusterOptions = Pick<
  ClusterSimOptions,
  | 'port'
  | 'nodes'
  | 'gpusPerNode'
  | 'racks'
  | 'podStartMs'
  | 'podReadyMs'
  | 'probePeriodMs'
  | 'engineMaxSeqs'
  | 'engineTpotMs'
  | 'engineTtftMs'
  | 'engineKvCacheTokens'
> & {
  keepServices?: boolean;
  /**
   * Real cluster only: start a control plane for this file instead of using the run's shared one
   * (fault tests kill and restart its components).
   */
  ownControlPlane?: boolean;
};

export const clusterKind = (): ClusterKind => (process.env.TROUPE_TEST_CLUSTER === 'kube' ? 'kube' : 'sim');

/** For `it.skipIf(onRealCluster)(…)`, with the reason written next to the test. */
export const onRealCluster = clusterKind() === 'kube';

/**
 * e2e files share one database. Services an earlier file left live (its cluster is gone) would be
 * re-applied into this new cluster by the worker's resync and take its GPUs, so they are marked
 * DELETED first — unless `keepServices` (a file that brings up a cluster for services it made).
 */
export async function startTestCluster(options: TestClusterOptions = {}): Promise<TestCluster> {
  const { keepServices, ...rest } = options;
  if (!keepServices) await retireLiveServices();
  return clusterKind() === 'kube' ? startKubeTestCluster(rest) : startSimTestCluster(rest);
}

async function startSimTestCluster({
  ownControlPlane: _,
  ...options
}: TestClusterOptions): Promise<TestCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), 'troupe-sim-'));
  const kubeconfigFile = path.join(dir, 'kubeconfig.yaml');
  const sim = await startClusterSim({
    kubeconfigPath: kubeconfigFile,
    nodes: 4,
    gpusPerNode: 8,
    racks: 2,
    ...options,
  });
  return {
    kind: 'sim',
    url: sim.url,
    kubeconfigFile,
    sim: (method: string, p: string, body?: unknown) =>
      fetch(`${sim.url}${p}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    async stop() {
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface KubeControlPlaneInfo {
  url: string;
  kubeconfigPath: string;
  token: string;
  caPath: string;
}

/** A client of the run's control plane (admin token, its CA). */
export function kubeApi(cp: KubeControlPlaneInfo = inject('kubeControlPlane') as KubeControlPlaneInfo) {
  const dispatcher = new Agent({ connect: { ca: readFileSync(cp.caPath) } });
  const call = (method: string, p: string, body?: unknown, contentType = 'application/json') =>
    undiciFetch(`${cp.url}${p}`, {
      method,
      dispatcher,
      headers: {
        authorization: `Bearer ${cp.token}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': contentType }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    }) as unknown as Promise<Response>;
  return { call, close: () => dispatcher.destroy() };
}

const SYSTEM_NAMESPACES = new Set(['kube-system', 'kube-public', 'kube-node-lease', 'lws-system']);

/**
 * What the previous file left on the shared control plane goes first: its LeaderWorkerSets,
 * StatefulSets and pods (force-deleted: no agent is left to confirm a graceful deletion) and its
 * nodes, so that every file starts with only the nodes it asks for.
 */
export async function resetKubeCluster(api: ReturnType<typeof kubeApi>): Promise<void> {
  // Every answer is read: an unread body keeps its connection busy, and the dispatcher's close waits.
  const del = async (p: string) => void (await (await api.call('DELETE', p)).arrayBuffer());
  const list = async (p: string) =>
    ((await (await api.call('GET', p)).json()) as { items?: { metadata: { name: string } }[] }).items ?? [];
  const namespaces = (await list('/api/v1/namespaces'))
    .map((n) => n.metadata.name)
    .filter((n) => !SYSTEM_NAMESPACES.has(n));
  for (const ns of namespaces) {
    await del(`/apis/leaderworkerset.x-k8s.io/v1/namespaces/${ns}/leaderworkersets`);
    await del(`/apis/apps/v1/namespaces/${ns}/statefulsets`);
  }
  for (const ns of namespaces) await del(`/api/v1/namespaces/${ns}/pods?gracePeriodSeconds=0`);
  await del('/api/v1/nodes');
  const deadline = Date.now() + 30_000;
  for (;;) {
    const pods = (await list('/api/v1/pods')).filter(
      (p) => !SYSTEM_NAMESPACES.has((p.metadata as { namespace?: string }).namespace ?? ''),
    );
    const lws = await list('/apis/leaderworkerset.x-k8s.io/v1/leaderworkersets');
    if (pods.length === 0 && lws.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(`reset: ${pods.length} pods and ${lws.length} LWS still there after 30 s`);
    for (const ns of namespaces) await del(`/api/v1/namespaces/${ns}/pods?gracePeriodSeconds=0`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function startKubeTestCluster(options: TestClusterOptions): Promise<TestCluster> {
  const own = options.ownControlPlane
    ? await startControlPlane({ dir: mkdtempSync(path.join(tmpdir(), 'troupe-kube-')) })
    : undefined;
  const cp = own ?? (inject('kubeControlPlane') as KubeControlPlaneInfo | undefined);
  if (!cp) throw new Error('TROUPE_TEST_CLUSTER=kube but test/global-setup.ts started no control plane');
  if (options.port !== undefined)
    throw new Error('the real control plane is shared by the run: a fixed API port is a simulator option');
  const api = kubeApi(cp);
  if (!own) await resetKubeCluster(api);
  const agent = await startNodeAgent({
    kubeconfigPath: cp.kubeconfigPath,
    nodes: options.nodes ?? 4,
    gpusPerNode: options.gpusPerNode ?? 8,
    racks: options.racks ?? 2,
    podStartMs: options.podStartMs ?? 0,
    podReadyMs: options.podReadyMs ?? 0,
    probePeriodMs: options.probePeriodMs ?? 100,
    engineMaxSeqs: options.engineMaxSeqs,
    engineTpotMs: options.engineTpotMs,
    engineTtftMs: options.engineTtftMs,
    engineKvCacheTokens: options.engineKvCacheTokens,
  });
  return {
    kind: 'kube',
    url: cp.url,
    kubeconfigFile: cp.kubeconfigPath,
    controlPlane: own,
    sim: (method: string, p: string, body?: unknown) =>
      p.startsWith('/sim')
        ? fetch(`${agent.adminUrl}${p}`, {
            method,
            headers: { 'content-type': 'application/json' },
            body: body === undefined ? undefined : JSON.stringify(body),
          })
        : api.call(method, p, body),
    async stop() {
      await agent.stop();
      if (own) {
        await own.stop();
        rmSync(own.dir, { recursive: true, force: true });
      } else await resetKubeCluster(api).catch(() => undefined);
      await api.close();
    },
  };
}

async function retireLiveServices(): Promise<void> {
  const db = new Client({ connectionString: inject('databaseUrl') });
  await db.connect();
  try {
    await db.query(
      `UPDATE inference_services
          SET phase = 'DELETED', deleted_at = COALESCE(deleted_at, now()),
              phase_reason = 'retired by the e2e harness: its cluster is gone'
        WHERE phase <> 'DELETED'`,
    );
  } finally {
    await db.end();
  }
}
