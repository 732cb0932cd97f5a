// Cluster simulator benchmark (prints figures; no assertions):
//   npm run bench:sim            (= tsx --expose-gc test/bench/cluster-sim.bench.ts)
// 1. time from applying an LWS of 8 groups x 4 pods (zero delays) to all 32 pods Ready;
// 2. watch event throughput to HTTP watchers;
// 3. heap with 100 such LWS (3,200 pods).
// Each figure is printed next to a baseline measured in the same run, as a ratio.

import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { startClusterSim, type ClusterSim } from '../../apps/cluster-sim/src';
import { ObjectStore } from '../../apps/cluster-sim/src/store/object-store';
import type { KObject } from '../../apps/cluster-sim/src/types/meta';

const MiB = 1024 * 1024;
const gc = (globalThis as { gc?: () => void }).gc;

function heapUsed(): number {
  if (gc) {
    gc();
    gc();
  }
  return process.memoryUsage().heapUsed;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const fmt = (n: number, digits = 1): string => n.toFixed(digits);

function lws(name: string, groups = 8, size = 4): Record<string, unknown> {
  return {
    apiVersion: 'leaderworkerset.x-k8s.io/v1',
    kind: 'LeaderWorkerSet',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas: groups,
      leaderWorkerTemplate: {
        size,
        workerTemplate: {
          spec: {
            containers: [{ name: 'nginx', image: 'nginx:1.14.2', resources: { requests: { cpu: '50m' } } }],
          },
        },
      },
    },
  };
}

/** A pod shaped like the ones the controller creates, for the baseline. */
function plainPod(i: number): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `plain-${Math.floor(i / 4)}-${i % 4}`,
      namespace: 'default',
      uid: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`,
      creationTimestamp: new Date().toISOString(),
      labels: {
        'leaderworkerset.sigs.k8s.io/name': 'plain',
        'leaderworkerset.sigs.k8s.io/group-index': String(Math.floor(i / 4)),
        'leaderworkerset.sigs.k8s.io/worker-index': String(i % 4),
        'leaderworkerset.sigs.k8s.io/group-key': 'f'.repeat(40),
        'leaderworkerset.sigs.k8s.io/template-revision-hash': 'abcdefghij',
      },
      annotations: { 'leaderworkerset.sigs.k8s.io/size': '4' },
    },
    spec: {
      containers: [
        {
          name: 'nginx',
          image: 'nginx:1.14.2',
          env: [
            { name: 'LWS_LEADER_ADDRESS', value: `plain-${Math.floor(i / 4)}.plain.default` },
            { name: 'LWS_GROUP_SIZE', value: '4' },
            { name: 'LWS_WORKER_INDEX', value: String(i % 4) },
          ],
          resources: { requests: { cpu: '50m' } },
        },
      ],
      nodeName: `node-${i % 32}`,
    },
    status: { phase: 'Running', podIP: `127.0.${1 + Math.floor(i / 254)}.${(i % 254) + 1}` },
  };
}

async function apply(sim: ClusterSim, body: Record<string, unknown>): Promise<void> {
  const meta = body.metadata as { name: string };
  const res = await fetch(
    `${sim.url}/apis/leaderworkerset.x-k8s.io/v1/namespaces/default/leaderworkersets/${meta.name}?fieldManager=bench`,
    {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/apply-patch+yaml' },
      body: JSON.stringify(body),
    },
  );
  if (res.status >= 300) throw new Error(`apply failed: ${res.status} ${await res.text()}`);
}

interface Stream {
  events: () => number;
  close: () => void;
  onLine: (fn: (line: string) => void) => void;
}

/** A raw HTTP watch: counts newline-delimited events as they arrive. */
function openWatch(url: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    let count = 0;
    let buf = '';
    let listener: ((line: string) => void) | undefined;
    const req = http.get(url, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          count++;
          listener?.(line);
        }
      });
      res.on('error', () => undefined);
      resolve({ events: () => count, close: () => req.destroy(), onLine: (fn) => (listener = fn) });
    });
    req.on('error', reject);
  });
}

async function timeToReady(sim: ClusterSim, name: string): Promise<number> {
  const watch = await openWatch(
    `${sim.url}/api/v1/namespaces/default/pods?watch=1&labelSelector=${encodeURIComponent(`leaderworkerset.sigs.k8s.io/name=${name}`)}`,
  );
  const readyPods = new Set<string>();
  const done = new Promise<number>((resolve) => {
    watch.onLine((line) => {
      const ev = JSON.parse(line) as {
        object: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } };
      };
      if (ev.object.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
        readyPods.add(ev.object.metadata.name);
      if (readyPods.size === 32) resolve(performance.now());
    });
  });
  const t0 = performance.now();
  await apply(sim, lws(name));
  const t1 = await done;
  watch.close();
  return t1 - t0;
}

async function main(): Promise<void> {
  if (!gc) console.log('(run with --expose-gc for stable heap figures: npm run bench:sim)');
  console.log(`cluster-sim benchmark — node ${process.version}, ${new Date().toISOString()}\n`);

  // ---------------------------------------------------------------- baseline: plain objects in a bare store
  const heap0 = heapUsed();
  const bare = new ObjectStore(20_000);
  const tb0 = performance.now();
  for (let i = 0; i < 3200; i++) bare.put('pods', plainPod(i));
  const baselineMs = performance.now() - tb0;
  const baselineHeap = heapUsed() - heap0;
  const perObjectMs = baselineMs / 3200;
  console.log('baseline: 3,200 pod-shaped objects put into a bare store (no API, no controllers)');
  console.log(
    `  ${fmt(baselineMs)} ms total, ${fmt(perObjectMs * 1000, 2)} µs/object, heap +${fmt(baselineHeap / MiB)} MiB\n`,
  );
  bare.list('pods'); // keep it alive until here

  // ---------------------------------------------------------------- 1. time to Ready
  const sim = await startClusterSim({ nodes: 40, gpusPerNode: 0, maxPodsPerNode: 110, engines: false });
  const times: number[] = [];
  for (let i = 0; i < 7; i++) times.push(await timeToReady(sim, `ttr-${i}`));
  const ttr = median(times);
  console.log(
    '1. apply an LWS of 8 groups x 4 pods (zero delays) -> 32 pods Ready (seen on a watch), 7 runs',
  );
  console.log(
    `  median ${fmt(ttr)} ms (min ${fmt(Math.min(...times))}, max ${fmt(Math.max(...times))}); goal < 1000 ms`,
  );
  console.log(
    `  = ${fmt(ttr / (perObjectMs * 32), 0)}x the baseline cost of putting 32 plain objects (${fmt(perObjectMs * 32, 2)} ms)\n`,
  );
  for (let i = 0; i < 7; i++) {
    await fetch(`${sim.url}/apis/leaderworkerset.x-k8s.io/v1/namespaces/default/leaderworkersets/ttr-${i}`, {
      method: 'DELETE',
    });
  }
  await sim.idle();

  // ---------------------------------------------------------------- 2. watch throughput
  const cmDef = sim.api.def('configmaps');
  const N = 20_000;
  const storeOnly = new ObjectStore(20_000);
  const ts0 = performance.now();
  for (let i = 0; i < N; i++)
    storeOnly.put('configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `c${i % 100}`, namespace: 'default' },
      data: { i: String(i) },
    });
  const storeRate = N / ((performance.now() - ts0) / 1000);
  for (const watchers of [1, 10]) {
    const streams = await Promise.all(
      Array.from({ length: watchers }, () =>
        openWatch(
          `${sim.url}/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${sim.store.currentRv()}`,
        ),
      ),
    );
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      const name = `w${i % 100}`;
      const body = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, namespace: 'default' },
        data: { i: String(i) },
      };
      if (sim.api.tryGet(cmDef, 'default', name))
        sim.api.update(cmDef, 'default', name, body, { internal: true });
      else sim.api.create(cmDef, 'default', body, { internal: true });
      if (i % 2000 === 1999) await new Promise((r) => setImmediate(r));
    }
    while (streams.some((s) => s.events() < N)) await new Promise((r) => setTimeout(r, 5));
    const secs = (performance.now() - t0) / 1000;
    const delivered = (N * watchers) / secs;
    console.log(`2. watch throughput: ${N} writes through the API, ${watchers} HTTP watcher(s)`);
    console.log(
      `  ${fmt(delivered, 0)} events/s delivered (${fmt(N / secs, 0)} writes/s); baseline bare-store puts ${fmt(storeRate, 0)}/s`,
    );
    console.log(`  = ${fmt(delivered / storeRate, 2)}x the baseline rate\n`);
    for (const s of streams) s.close();
  }
  sim.api.deleteCollection(cmDef, 'default');
  await sim.close();

  // ---------------------------------------------------------------- 3. heap with 100 LWS (3,200 pods)
  const before = heapUsed();
  const big = await startClusterSim({ nodes: 40, gpusPerNode: 0, maxPodsPerNode: 110, engines: false });
  let readyCount = 0;
  const readySet = new Set<string>();
  const allReady = new Promise<void>((resolve) => {
    big.store.subscribe((ev) => {
      if (ev.resource !== 'pods' || ev.type === 'DELETED') return;
      const conds = (ev.object.status as { conditions?: { type: string; status: string }[] } | undefined)
        ?.conditions;
      if (
        conds?.some((c) => c.type === 'Ready' && c.status === 'True') &&
        !readySet.has(ev.object.metadata.name as string)
      ) {
        readySet.add(ev.object.metadata.name as string);
        readyCount++;
        if (readyCount === 3200) resolve();
      }
    });
  });
  const t0 = performance.now();
  for (let i = 0; i < 100; i++) await apply(big, lws(`mem-${i}`));
  await allReady;
  const allMs = performance.now() - t0;
  await big.idle();
  const heap = heapUsed() - before;
  const rss = process.memoryUsage().rss;
  console.log('3. 100 LWS x 8 groups x 4 pods = 3,200 pods, all Ready');
  console.log(
    `  ${fmt(allMs, 0)} ms to all Ready; heap +${fmt(heap / MiB)} MiB (goal < 300 MiB), rss ${fmt(rss / MiB)} MiB`,
  );
  console.log(
    `  = ${fmt(heap / Math.max(baselineHeap, 1), 1)}x the baseline heap of 3,200 plain pod objects (${fmt(baselineHeap / MiB)} MiB)`,
  );
  console.log(
    `  store: ${big.store.count('pods')} pods, ${big.store.count('apps/statefulsets')} statefulsets, ${big.store.count('events')} events, resourceVersion ${big.store.currentRv()}`,
  );
  await big.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
