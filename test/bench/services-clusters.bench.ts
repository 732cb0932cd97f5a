/**
 * Deploy on both clusters: part of `npm run bench:services` (builds first).
 *
 * The same platform (a real server process with every role, s3rver, PostgreSQL, Redis) against the
 * cluster simulator and against the upstream control plane (etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler, the LWS v0.7 controller, GPU nodes from the node agent),
 * one after the other in one run: 32 nodes x 8 GPUs, zero pod delays. A service of 8 groups x 4 pods
 * (TP 8 x PP 4 on 8-GPU nodes) is created RUNS times on each; printed per cluster: POST -> LWS in the
 * cluster ("applied", seen on a watch), POST -> all 32 pods Ready (watch), POST -> service READY
 * (polled every 50 ms), and the ratios real / simulator of the medians.
 *
 * BENCH_CLUSTERS=sim,kube (default both) chooses; kube needs Go (the control plane is built from
 * pinned modules on first use, see deploy/controlplane).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { startClusterSim } from '../../apps/cluster-sim/src';
import { startNodeAgent } from '../../apps/node-agent/src';
import { buildCheckpoint } from '../../libs/core/src/models/verification';
import { ensureControlPlane, freePort, startControlPlane, startS3Server } from '../../libs/testing/src';
import {
  apiClient,
  createBenchDatabase,
  newAdminKey,
  platformEnv,
  runBenchmark,
  startBenchStack,
  startServer,
  waitReady,
  waitUntil,
  type ApiClient,
} from './support/platform';

const NS = 'bench';
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const GROUPS = 8;
const SIZE = 4;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x: number) => `${x.toFixed(0)} ms`;

interface Cluster {
  kubeconfigPath: string;
  stop(): Promise<void>;
}

async function simCluster(dir: string): Promise<Cluster> {
  const kubeconfigPath = path.join(dir, 'sim.kubeconfig');
  const sim = await startClusterSim({ kubeconfigPath, nodes: 32, gpusPerNode: 8, racks: 4 });
  return { kubeconfigPath, stop: () => sim.close() };
}

async function kubeCluster(dir: string): Promise<Cluster> {
  const build = await ensureControlPlane({ log: (m) => console.log(`[controlplane] ${m}`) });
  const cp = await startControlPlane({ dir: path.join(dir, 'kube'), build });
  const agent = await startNodeAgent({
    kubeconfigPath: cp.kubeconfigPath,
    nodes: 32,
    gpusPerNode: 8,
    racks: 4,
    podStartMs: 0,
    podReadyMs: 0,
    probePeriodMs: 100,
  });
  return {
    kubeconfigPath: cp.kubeconfigPath,
    async stop() {
      await agent.stop();
      await cp.stop();
    },
  };
}

async function createModel(api: ApiClient, projectId: string): Promise<void> {
  const q = `?projectId=${projectId}`;
  await api.call('POST', '/api/v1/models', { name: 'tiny', projectId });
  await api.call('POST', `/api/v1/models/tiny/versions${q}`, { version: 'v1' });
  for (const [p, b] of buildCheckpoint({ layers: 4, hidden: 64, heads: 16, kvHeads: 8, shards: 1 }))
    await api.call('PUT', `/api/v1/models/tiny/versions/v1/files/${p}${q}`, undefined, b);
  await api.call('POST', `/api/v1/models/tiny/versions/v1/finalize${q}`);
  await waitUntil('the model version READY', 60_000, async () => {
    const v = await api.call('GET', `/api/v1/models/tiny/versions/v1${q}`);
    return v.state === 'READY';
  });
}

interface Row {
  applied: number[];
  podsReady: number[];
  ready: number[];
}

async function measure(kind: 'sim' | 'kube', tmp: string): Promise<Row> {
  const s3 = await startS3Server({ directory: path.join(tmp, `s3-${kind}`), bucket: 'bench' });
  const cluster = kind === 'sim' ? await simCluster(tmp) : await kubeCluster(tmp);
  const stack = await startBenchStack();
  const db = await createBenchDatabase(stack, `troupe_bench_clusters_${kind}`);
  const adminKey = newAdminKey();
  const port = await freePort();
  const server = await startServer({
    name: `server-${kind}`,
    port,
    env: {
      ...platformEnv({ databaseUrl: db.url, redisUrl: stack.redisUrl, s3, adminKey }),
      KUBECONFIG: cluster.kubeconfigPath,
      KUBE_NAMESPACE: NS,
      QUEUE_PREFIX: `bench-clusters-${port}`,
    },
  });
  const api = apiClient(server.url, adminKey);
  const watches: { abort(): void }[] = [];
  try {
    await waitReady(server, 60_000);
    const project = await api.call('POST', '/api/v1/projects', { name: 'bench' });
    await createModel(api, project.id);

    // Cluster events as a watch delivers them: the LWS appearing, pods becoming Ready.
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    const appliedAt = new Map<string, number>();
    const readyPods = new Map<string, Set<string>>();
    const allReadyAt = new Map<string, number>();
    const livePods = new Set<string>();
    const watch = new Watch(kc);
    const onError = (err: unknown) => {
      if (err) console.error(`watch ended: ${(err as Error).message}`);
    };
    watches.push(
      await watch.watch(
        `/apis/leaderworkerset.x-k8s.io/v1/namespaces/${NS}/leaderworkersets`,
        {},
        (type, obj: { metadata: { name: string } }) => {
          if (type === 'ADDED' && !appliedAt.has(obj.metadata.name))
            appliedAt.set(obj.metadata.name, performance.now());
        },
        onError,
      ),
    );
    watches.push(
      await watch.watch(
        `/api/v1/namespaces/${NS}/pods`,
        {},
        (
          type,
          pod: {
            metadata: { name: string; labels?: Record<string, string> };
            status?: { conditions?: { type: string; status: string }[] };
          },
        ) => {
          const lws = pod.metadata.labels?.['leaderworkerset.sigs.k8s.io/name'];
          if (type === 'DELETED') livePods.delete(pod.metadata.name);
          else livePods.add(pod.metadata.name);
          if (!lws || type === 'DELETED') return;
          const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
          if (!ready) return;
          const set = readyPods.get(lws) ?? new Set<string>();
          set.add(pod.metadata.name);
          readyPods.set(lws, set);
          if (set.size === GROUPS * SIZE && !allReadyAt.has(lws)) allReadyAt.set(lws, performance.now());
        },
        onError,
      ),
    );

    const row: Row = { applied: [], podsReady: [], ready: [] };
    for (let run = 0; run < RUNS; run++) {
      const name = `g${GROUPS}x${SIZE}-${run}`;
      const t0 = performance.now();
      const r = await api.request('POST', '/api/v1/services', {
        name,
        projectId: project.id,
        model: 'tiny',
        version: 'v1',
        parallelism: { tensor: 8, pipeline: SIZE },
        gpusPerNode: 8,
        replicas: { initial: GROUPS, min: GROUPS, max: GROUPS },
        engine: { image: 'vllm/vllm-openai:v0.11.0', maxModelLen: 2048 },
      });
      if (r.status !== 202) throw new Error(`POST ${name}: ${r.status} ${JSON.stringify(r.body)}`);
      let readyAt = 0;
      await waitUntil(`${name} READY`, 180_000, async () => {
        const s = await api.call('GET', `/api/v1/services/${name}?projectId=${project.id}`);
        if (s.status?.phase === 'READY') readyAt = performance.now();
        return readyAt > 0;
      });
      row.applied.push(appliedAt.get(name)! - t0);
      row.podsReady.push((allReadyAt.get(name) ?? readyAt) - t0);
      row.ready.push(readyAt - t0);
      console.log(
        `${kind} run ${run + 1}: applied ${ms(row.applied[run])}, 32 pods Ready ${ms(row.podsReady[run])}, READY ${ms(row.ready[run])}`,
      );
      await api.request('DELETE', `/api/v1/services/${name}?projectId=${project.id}`);
      await waitUntil(`${name} pods gone`, 120_000, async () => {
        const pods = await api.call('GET', `/api/v1/services/${name}?projectId=${project.id}`);
        return pods.status?.phase === 'DELETED';
      });
      // The next run needs the GPUs back: wait until the watch has seen every pod go.
      await waitUntil(`${name}: every pod deleted`, 120_000, async () => livePods.size === 0);
      readyPods.delete(name);
    }
    return row;
  } finally {
    for (const w of watches) w.abort();
    await server.stop();
    await cluster.stop();
    await s3.stop();
    await db.drop().catch(() => undefined);
    await stack.stop();
  }
}

async function main() {
  const kinds = (process.env.BENCH_CLUSTERS ?? 'sim,kube').split(',').map((s) => s.trim()) as (
    'sim' | 'kube'
  )[];
  const tmp = mkdtempSync(path.join(tmpdir(), 'troupe-bench-clusters-'));
  const rows = new Map<string, Row>();
  try {
    for (const kind of kinds) rows.set(kind, await measure(kind, tmp));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  console.log(
    `\nOne service of ${GROUPS} groups x ${SIZE} pods (TP 8 x PP 4, 32 nodes x 8 GPUs), ${RUNS} runs, medians:\n`,
  );
  console.log('| cluster | POST -> LWS applied | POST -> 32 pods Ready | POST -> service READY |');
  console.log('|---|---|---|---|');
  for (const [kind, r] of rows)
    console.log(
      `| ${kind === 'sim' ? 'simulator' : 'upstream control plane'} | ${ms(median(r.applied))} | ${ms(median(r.podsReady))} | ${ms(median(r.ready))} |`,
    );
  const sim = rows.get('sim');
  const kube = rows.get('kube');
  if (sim && kube)
    console.log(
      `| real / simulator | ${(median(kube.applied) / median(sim.applied)).toFixed(1)}x | ${(median(kube.podsReady) / median(sim.podsReady)).toFixed(1)}x | ${(median(kube.ready) / median(sim.ready)).toFixed(1)}x |`,
    );
}

runBenchmark(main);
