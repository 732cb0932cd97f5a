/**
 * Deploy benchmark: `npm run bench:services` (builds first).
 *
 * A real server process with every role, the cluster simulator in this process (zero delays, 64 nodes
 * x 8 GPUs), s3rver. For 1 and then 50 services created at once (TP 8 on 8-GPU nodes: one pod per
 * group), it prints the time from POST /api/v1/services to the LWS existing in the cluster
 * ("applied"), to its leader pod Ready, and how long after the pod became Ready the service's status
 * said READY (the watch path; the list is polled every 50 ms, so the lag is measured to within 50 ms). Baseline, same run: the same manifest applied
 * straight to the simulator with client-node (what the cluster itself takes to Ready).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CoreV1Api, KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { startClusterSim } from '../../apps/cluster-sim/src';
import { freePort, startS3Server } from '../../libs/testing/src';
import {
  apiClient,
  createBenchDatabase,
  createTinyModel,
  newAdminKey,
  platformEnv,
  runBenchmark,
  startBenchStack,
  startServer,
  tinyService,
  waitReady,
} from './support/platform';

const NS = 'bench';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x: number) => `${x.toFixed(0)} ms`;

async function main() {
  const tmp = mkdtempSync(path.join(tmpdir(), 'troupe-bench-svc-'));
  const s3 = await startS3Server({ directory: path.join(tmp, 's3'), bucket: 'bench' });
  const sim = await startClusterSim({
    kubeconfigPath: path.join(tmp, 'kubeconfig.yaml'),
    nodes: 64,
    gpusPerNode: 8,
    racks: 8,
  });
  const stack = await startBenchStack();
  const db = await createBenchDatabase(stack, 'troupe_bench_svc');

  const adminKey = newAdminKey();
  const port = await freePort();
  const server = await startServer({
    name: 'server',
    port,
    // e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the server
    nodeArgs: (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean),
    env: {
      ...platformEnv({ databaseUrl: db.url, redisUrl: stack.redisUrl, s3, adminKey }),
      KUBECONFIG: path.join(tmp, 'kubeconfig.yaml'),
      KUBE_NAMESPACE: NS,
      QUEUE_PREFIX: `bench-svc-${port}`,
      WORKER_CONCURRENCY: '16',
    },
  });
  const api = apiClient(server.url, adminKey);
  const call = api.request;

  try {
    await waitReady(server, 30_000);
    console.log('server ready');
    const project = await api.call('POST', '/api/v1/projects', { name: 'bench' });
    const q = `?projectId=${project.id}`;
    await createTinyModel(api, project.id);
    console.log('model READY');
    const svc = (name: string) => tinyService(name, project.id);

    // Cluster events, timestamped the moment the simulator stores them (its store lives in this
    // process): "applied" is when the API server accepted the LWS, not when a watch delivered it.
    const kc = new KubeConfig();
    kc.loadFromFile(path.join(tmp, 'kubeconfig.yaml'));
    const appliedAt = new Map<string, number>();
    const podReadyAt = new Map<string, number>();
    const unsubscribe = sim.store.subscribe((ev) => {
      const obj = ev.object as {
        metadata: { name?: string; namespace?: string; labels?: Record<string, string> };
        status?: { conditions?: { type: string; status: string }[] };
      };
      if (obj.metadata.namespace !== NS) return;
      if (ev.resource === 'leaderworkerset.x-k8s.io/leaderworkersets') {
        if (ev.type === 'ADDED' && !appliedAt.has(obj.metadata.name!))
          appliedAt.set(obj.metadata.name!, performance.now());
      } else if (ev.resource === 'pods') {
        const lws = obj.metadata.labels?.['leaderworkerset.sigs.k8s.io/name'];
        const ready = obj.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
        if (lws && ready && !podReadyAt.has(lws)) podReadyAt.set(lws, performance.now());
      }
    });

    // Baseline: the rendered manifest applied straight to the cluster.
    const manifest = (await call('POST', '/api/v1/services?dryRun=true', svc('baseline'))).body.manifest;
    await call('POST', `/api/v1/models/tiny/versions${q}`, { version: 'unused' });
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NS } } });
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const baselineTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const name = `direct-${i}`;
      const t0 = performance.now();
      await objects.patch(
        { ...manifest, metadata: { ...manifest.metadata, name, namespace: NS } },
        undefined,
        undefined,
        'bench',
        true,
        'application/apply-patch+yaml',
      );
      const until = performance.now() + 30_000;
      while (!podReadyAt.has(name)) {
        if (performance.now() > until) throw new Error(`baseline ${name} never Ready`);
        await new Promise((r) => setTimeout(r, 1));
      }
      baselineTimes.push(podReadyAt.get(name)! - t0);
      await objects.delete({
        apiVersion: manifest.apiVersion,
        kind: manifest.kind,
        metadata: { name, namespace: NS },
      });
    }
    const baseline = pct(baselineTimes, 50);
    console.log(`baseline: LWS applied straight to the simulator -> leader Ready: p50 ${ms(baseline)}`);

    const rows: string[] = [];
    for (const n of [1, 50]) {
      const names = Array.from({ length: n }, (_, i) => `s${n}-${i}`);
      const postedAt = new Map<string, number>();
      const answeredAt = new Map<string, number>();
      const statusReadyAt = new Map<string, number>();
      await Promise.all(
        names.map(async (name) => {
          postedAt.set(name, performance.now());
          const r = await call('POST', '/api/v1/services', svc(name));
          answeredAt.set(name, performance.now());
          if (r.status !== 202) throw new Error(`POST ${name}: ${r.status} ${JSON.stringify(r.body)}`);
        }),
      );
      const deadline = performance.now() + 120_000;
      while (statusReadyAt.size < n && performance.now() < deadline) {
        const list = (await call('GET', '/api/v1/services?limit=500')).body.data as {
          name: string;
          status: { phase: string };
        }[];
        const now = performance.now();
        for (const s of list)
          if (names.includes(s.name) && s.status.phase === 'READY' && !statusReadyAt.has(s.name))
            statusReadyAt.set(s.name, now);
        await new Promise((r) => setTimeout(r, 50));
      }
      if (statusReadyAt.size < n) throw new Error(`only ${statusReadyAt.size}/${n} services READY`);
      const answered = names.map((s) => answeredAt.get(s)! - postedAt.get(s)!);
      const applied = names.map((s) => appliedAt.get(s)! - postedAt.get(s)!);
      const ready = names.map((s) => podReadyAt.get(s)! - postedAt.get(s)!);
      const lag = names.map((s) => statusReadyAt.get(s)! - podReadyAt.get(s)!);
      rows.push(
        `| ${n} | ${ms(pct(answered, 50))} / ${ms(pct(answered, 95))} | ${ms(pct(applied, 50))} / ${ms(pct(applied, 95))} | ${ms(pct(ready, 50))} / ${ms(pct(ready, 95))} (${(pct(ready, 50) / baseline).toFixed(1)}x baseline) | ${ms(pct(lag, 50))} / ${ms(pct(lag, 95))} |`,
      );
      console.log(rows[rows.length - 1]);
    }
    console.log(
      '\n| services created at once | POST answered (202), p50 / p95 | POST -> LWS applied, p50 / p95 | POST -> leader pod Ready, p50 / p95 | pod Ready -> status READY, p50 / p95 |',
    );
    console.log('|---|---|---|---|---|');
    for (const r of rows) console.log(r);
    unsubscribe();
  } finally {
    await server.stop();
    await sim.close();
    await s3.stop();
    await db.drop().catch(() => undefined);
    await stack.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

runBenchmark(main);
