// libs/kube against the cluster simulator: KubeClient (server-side apply, field ownership, /scale, core
// objects, discovery, errors) and the watch cache (LWS and pods, ready leaders, dropped connections,
// 410 Gone). The client reaches the simulator through a TCP proxy the tests can cut.

import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { AppException, ErrorCode } from '@troupe/common';
import {
  ClusterKubeClient,
  ClusterWatchCache,
  FIELD_MANAGERS,
  fieldManagers,
  KubeCacheEvent,
  LeaderEndpoint,
} from '@troupe/kube';
import { LeaderWorkerSet, renderLeaderWorkerSet, RenderInput } from '@troupe/lws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeconfigYaml, startClusterSim, type ClusterSim } from '../../apps/cluster-sim/src';

const NS = 'troupe-e2e';
const HISTORY = 400;

/** A TCP proxy in front of the simulator: `drop()` cuts every open connection, `block()` refuses new ones. */
class CuttableProxy {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private blocked = false;
  port = 0;

  constructor(private readonly target: number) {
    this.server = net.createServer((client) => {
      if (this.blocked) {
        client.destroy();
        return;
      }
      const upstream = net.connect(this.target, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  drop(): void {
    for (const s of this.sockets) s.destroy();
  }

  block(): void {
    this.blocked = true;
    this.drop();
  }

  unblock(): void {
    this.blocked = false;
  }

  async close(): Promise<void> {
    this.drop();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

let sim: ClusterSim;
let proxy: CuttableProxy;
let dir: string;
/** Through the proxy (what the tests cut). */
let kube: ClusterKubeClient;
/** Straight to the simulator (for changes made while the proxy is cut). */
let direct: ClusterKubeClient;
let simClosed = false;

function clientFor(url: string, file: string): ClusterKubeClient {
  fs.writeFileSync(path.join(dir, file), kubeconfigYaml(url));
  return ClusterKubeClient.fromSettings({
    kubeconfigPath: path.join(dir, file),
    inCluster: false,
    namespace: NS,
  });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'troupe-kube-'));
  sim = await startClusterSim({
    nodes: 6,
    gpusPerNode: 8,
    engines: false,
    podReadyMs: 150,
    historySize: HISTORY,
    bookmarkIntervalMs: 200,
  });
  proxy = new CuttableProxy(sim.port);
  await proxy.listen();
  kube = clientFor(`http://127.0.0.1:${proxy.port}`, 'proxy.yaml');
  direct = clientFor(sim.url, 'direct.yaml');
});

afterAll(async () => {
  await proxy?.close();
  if (!simClosed) await sim?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function waitFor<T>(
  fn: () => T | undefined | false | null,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function rejection(p: Promise<unknown>): Promise<AppException> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(AppException);
    return err as AppException;
  }
  throw new Error('expected the call to fail');
}

function renderInput(name: string, replicas: number): RenderInput {
  return {
    service: {
      name,
      namespace: NS,
      projectId: '6f1c2b1e-4d7a-4b0e-9a51-0c3d2f1e9b77',
      projectName: 'Research',
      servedModelName: name,
      replicas,
      parallelism: { tensor: 8, pipeline: 2 },
      gpusPerNode: 8,
      engine: { image: 'vllm/vllm-openai:v0.10.1', extraArgs: [], env: {} },
      placement: {},
      rollout: { maxUnavailable: 1, maxSurge: 0 },
    },
    model: {
      storagePrefix: 'proj/llama/v1/',
      versionId: '0b7d8f0e-1c2d-4e5f-8a9b-123456789abc',
      name: 'llama',
      version: 'v1',
    },
    weights: {
      mode: 'init-container',
      credentialsSecret: 'troupe-storage',
      bucket: 'troupe-models',
      endpoint: 'http://minio.storage:9000',
    },
  };
}

/** A small LWS of nginx pods (no GPUs), labelled as a Troupe service, leader port named http 8080. */
function nginxLws(name: string, replicas: number, size = 2): LeaderWorkerSet {
  return {
    apiVersion: 'leaderworkerset.x-k8s.io/v1',
    kind: 'LeaderWorkerSet',
    metadata: { name, namespace: NS, labels: { 'troupe.io/service': name } },
    spec: {
      replicas,
      startupPolicy: 'LeaderCreated',
      rolloutStrategy: {
        type: 'RollingUpdate',
        rollingUpdateConfiguration: { maxUnavailable: 1, maxSurge: 0 },
      },
      leaderWorkerTemplate: {
        size,
        restartPolicy: 'RecreateGroupOnPodRestart',
        leaderTemplate: {
          spec: {
            containers: [
              { name: 'main', image: 'nginx:1.27', ports: [{ name: 'http', containerPort: 8080 }] },
            ],
          },
        },
        workerTemplate: { spec: { containers: [{ name: 'main', image: 'nginx:1.27' }] } },
      },
    },
  };
}

describe('KubeClient', () => {
  it('discovers the LWS API and creates the namespace once', async () => {
    expect(await kube.lwsApiAvailable()).toBe(true);
    await expect(kube.assertLwsApi()).resolves.toBeUndefined();
    expect(await kube.ensureNamespace(NS)).toBe(true);
    expect(await kube.ensureNamespace(NS)).toBe(false);
  });

  it('applies a rendered LeaderWorkerSet with server-side apply, idempotently', async () => {
    const lws = renderLeaderWorkerSet(renderInput('llm', 1));
    const first = await kube.applyLws(lws, FIELD_MANAGERS.reconciler);
    expect(first.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.spec.leaderWorkerTemplate.size).toBe(2);
    expect(first.metadata.labels?.['troupe.io/service']).toBe('llm');
    expect(fieldManagers(first, ['spec', 'replicas'])).toEqual([
      { manager: FIELD_MANAGERS.reconciler, operation: 'Apply' },
    ]);
    // Applying the same configuration again changes nothing (the controller may still write status).
    const again = await kube.applyLws(lws, FIELD_MANAGERS.reconciler);
    expect(again.metadata.generation).toBe(first.metadata.generation);
    expect(again.spec).toEqual(first.spec);
    const managed = (l: LeaderWorkerSet): unknown =>
      (l.metadata as { managedFields?: unknown }).managedFields;
    expect(managed(again)).toEqual(managed(first));
    expect((await kube.getLws(NS, 'llm'))?.metadata.uid).toBe(first.metadata.uid);
    expect((await kube.listLws(NS, 'troupe.io/service=llm')).map((l) => l.metadata.name)).toEqual(['llm']);
  });

  it('dry-runs without storing', async () => {
    const dry = await kube.applyLws(nginxLws('dry', 1), FIELD_MANAGERS.reconciler, { dryRun: true });
    expect(dry.spec.replicas).toBe(1);
    expect(await kube.getLws(NS, 'dry')).toBeNull();
  });

  it('maps 422 to Unprocessable with the causes as issues', async () => {
    const bad = nginxLws('bad', 1);
    (bad.spec as { startupPolicy: string }).startupPolicy = 'Whenever';
    const err = await rejection(kube.applyLws(bad, FIELD_MANAGERS.reconciler));
    expect(err.code).toBe(ErrorCode.Unprocessable);
    expect(err.issues).toContainEqual({
      field: 'spec.startupPolicy',
      message: expect.stringContaining('Unsupported value: "Whenever"'),
    });
  });

  it('scales through /scale as the autoscaler; the reconciler then conflicts on spec.replicas', async () => {
    const scaled = await kube.scaleLws(NS, 'llm', 2, FIELD_MANAGERS.autoscaler);
    expect(scaled.replicas).toBe(2);
    const scale = await kube.getLwsScale(NS, 'llm');
    expect(scale).toMatchObject({
      replicas: 2,
      selector: expect.stringContaining('leaderworkerset.sigs.k8s.io/name=llm'),
    });

    const lws = renderLeaderWorkerSet(renderInput('llm', 1));
    const conflict = await rejection(kube.applyLws(lws, FIELD_MANAGERS.reconciler));
    expect(conflict.code).toBe(ErrorCode.Conflict);
    expect(conflict.message).toContain(
      `conflict with "${FIELD_MANAGERS.autoscaler}" with subresource "scale"`,
    );
    expect(conflict.message).toContain('.spec.replicas');

    // The reconciler leaves replicas to the autoscaler...
    const kept = await kube.applyLws(lws, FIELD_MANAGERS.reconciler, { omitReplicas: true });
    expect(kept.spec.replicas).toBe(2);
    expect(fieldManagers(kept, ['spec', 'replicas'])).toEqual([
      { manager: FIELD_MANAGERS.autoscaler, operation: 'Update', subresource: 'scale' },
    ]);
    // ... or takes it back by force.
    const forced = await kube.applyLws(lws, FIELD_MANAGERS.reconciler, { force: true });
    expect(forced.spec.replicas).toBe(1);
    expect(fieldManagers(forced, ['spec', 'replicas']).map((m) => m.manager)).toEqual([
      FIELD_MANAGERS.reconciler,
    ]);
  });

  it('answers missing objects: null, false, NotFound', async () => {
    expect(await kube.getLws(NS, 'nope')).toBeNull();
    expect(await kube.deleteLws(NS, 'nope')).toBe(false);
    expect((await rejection(kube.getLwsScale(NS, 'nope'))).code).toBe(ErrorCode.NotFound);
    expect((await rejection(kube.scaleLws(NS, 'nope', 1, FIELD_MANAGERS.autoscaler))).code).toBe(
      ErrorCode.NotFound,
    );
  });

  it('applies and deletes Secrets and Services', async () => {
    const labels = { 'troupe.io/managed': 'true' };
    await kube.applySecret(
      NS,
      'troupe-storage',
      { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' },
      labels,
      'troupe-reconciler',
    );
    await kube.applySecret(
      NS,
      'troupe-storage',
      { AWS_ACCESS_KEY_ID: 'a2', AWS_SECRET_ACCESS_KEY: 'b2' },
      labels,
      'troupe-reconciler',
    );
    const secret = sim.store.get('secrets', NS, 'troupe-storage') as {
      data?: Record<string, string>;
      metadata: { labels?: Record<string, string> };
    };
    expect(Buffer.from(secret.data?.AWS_ACCESS_KEY_ID ?? '', 'base64').toString()).toBe('a2');
    expect(secret.metadata.labels).toEqual(labels);
    expect(await kube.deleteSecret(NS, 'troupe-storage')).toBe(true);
    expect(await kube.deleteSecret(NS, 'troupe-storage')).toBe(false);

    await kube.applyService(
      {
        namespace: NS,
        name: 'llm-leaders',
        selector: { 'troupe.io/service': 'llm', role: 'leader' },
        ports: [{ name: 'http', port: 80, targetPort: 'http' }],
      },
      'troupe-reconciler',
    );
    const svc = sim.store.get('services', NS, 'llm-leaders') as unknown as {
      spec: { ports: { port: number }[] };
    };
    expect(svc.spec.ports[0]?.port).toBe(80);
    expect(await kube.deleteService(NS, 'llm-leaders')).toBe(true);
    expect(await kube.deleteService(NS, 'llm-leaders')).toBe(false);
  });

  it('lists nodes with GPU capacity and readiness', async () => {
    const nodes = await kube.listNodes();
    expect(nodes).toHaveLength(6);
    expect(nodes[0]).toMatchObject({
      ready: true,
      unschedulable: false,
      gpus: { capacity: 8, allocatable: 8 },
    });
    expect(nodes[0]?.labels.rack).toMatch(/^rack-/);
    await fetch(`${sim.url}/sim/nodes/node-5/down`, { method: 'POST' });
    const down = (await kube.listNodes()).find((n) => n.name === 'node-5');
    expect(down?.ready).toBe(false);
    expect(down?.taints.map((t) => t.key)).toContain('node.kubernetes.io/unreachable');
    await fetch(`${sim.url}/sim/nodes/node-5/up`, { method: 'POST' });
  });

  it('lists the events of an object', async () => {
    await kube.applyLws(nginxLws('evented', 1, 1), FIELD_MANAGERS.reconciler);
    let found: Awaited<ReturnType<typeof kube.listEvents>> = [];
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      found = await kube.listEvents(NS, 'evented');
      if (found.some((e) => /All replicas are ready/.test(e.message))) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((e) => e.involvedObject.name === 'evented')).toBe(true);
    expect(found.some((e) => /All replicas are ready/.test(e.message))).toBe(true);
    expect(await kube.deleteLws(NS, 'evented')).toBe(true);
  });
});

describe('watch cache', () => {
  let cache: ClusterWatchCache;
  const changes: KubeCacheEvent[] = [];
  /** When the simulator made each leader pod Ready (uid → ms), and when the cache listed it (uid → ms). */
  const readyAt = new Map<string, number>();
  const listedAt = new Map<string, number>();
  const uidOf = new Map<string, string>();

  beforeAll(async () => {
    sim.store.subscribe((ev) => {
      if (ev.resource !== 'pods' || ev.type === 'DELETED') return;
      const o = ev.object as {
        metadata: { uid?: string; labels?: Record<string, string> };
        status?: { conditions?: { type: string; status: string }[] };
      };
      const ready = o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      if (ready && o.metadata.uid && !readyAt.has(o.metadata.uid)) readyAt.set(o.metadata.uid, Date.now());
    });
    cache = new ClusterWatchCache(kube.resourceSource(), {
      watchTimeoutSeconds: 30,
      backoff: { initialMs: 20, maxMs: 300 },
    });
    cache.onChange((ev) => {
      changes.push(ev);
      if (ev.resource === 'pod') uidOf.set(ev.name, ev.object.metadata.uid ?? '');
      for (const e of cache.readyLeaders(NS, 'web')) {
        const uid = uidOf.get(e.podName);
        if (uid && !listedAt.has(uid)) listedAt.set(uid, Date.now());
      }
    });
    cache.start([NS]);
    await cache.synced();
  });

  afterAll(async () => {
    await cache?.stop();
  });

  const leaders = (): LeaderEndpoint[] => cache.readyLeaders(NS, 'web');
  const groups = (): number[] => leaders().map((e) => e.groupIndex);

  it('has loaded the existing LeaderWorkerSets and their pods', () => {
    expect(cache.getLws(NS, 'llm')?.spec.leaderWorkerTemplate.size).toBe(2);
    expect(cache.listLws(NS).map((l) => l.metadata.name)).toContain('llm');
    expect(cache.podsOf(NS, 'llm').map((p) => p.metadata.name)).toEqual(['llm-0', 'llm-0-1']);
  });

  it('sees a new LWS and lists one endpoint per ready group within a second of readiness', async () => {
    await kube.applyLws(nginxLws('web', 2), FIELD_MANAGERS.reconciler);
    await waitFor(() => cache.getLws(NS, 'web'), 'the LWS in the cache', 2000);
    await waitFor(() => groups().length === 2, 'two ready groups');
    expect(leaders()).toEqual([
      {
        groupIndex: 0,
        podName: 'web-0',
        ip: expect.stringMatching(/^127\./),
        port: 8080,
        nodeName: expect.any(String),
      },
      {
        groupIndex: 1,
        podName: 'web-1',
        ip: expect.stringMatching(/^127\./),
        port: 8080,
        nodeName: expect.any(String),
      },
    ]);
    expect(cache.podsOf(NS, 'web').map((p) => p.metadata.name)).toEqual([
      'web-0',
      'web-0-1',
      'web-1',
      'web-1-1',
    ]);
    for (const e of leaders()) {
      const uid = uidOf.get(e.podName) as string;
      const lag = (listedAt.get(uid) as number) - (readyAt.get(uid) as number);
      expect(lag).toBeGreaterThanOrEqual(0);
      expect(lag).toBeLessThan(1000);
    }
    expect(changes.some((c) => c.resource === 'lws' && c.type === 'added' && c.name === 'web')).toBe(true);
  });

  it('drops a failed leader until its group is recreated', async () => {
    const before = leaders().find((e) => e.groupIndex === 1);
    const failedAt = Date.now();
    const res = await fetch(`${sim.url}/sim/pods/${NS}/web-1/fail`, {
      method: 'POST',
      body: JSON.stringify({ message: 'GPU fell off the bus' }),
    });
    expect(res.status).toBe(200);
    await waitFor(() => !groups().includes(1), 'group 1 gone', 1000);
    expect(Date.now() - failedAt).toBeLessThan(1000);
    expect(groups()).toEqual([0]);
    await waitFor(() => groups().includes(1), 'group 1 back');
    const after = leaders().find((e) => e.groupIndex === 1);
    expect(after?.podName).toBe('web-1');
    expect(before).toBeDefined();
    expect(after?.ip).toBeDefined();
  });

  it('resumes the watch after the connection is dropped, without listing again', async () => {
    const stats = (): { lists: number; watches: number } =>
      Object.values(cache.stats()).reduce(
        (a, s) => ({ lists: a.lists + s.lists, watches: a.watches + s.watches }),
        { lists: 0, watches: 0 },
      );
    const before = stats();
    proxy.drop();
    await direct.scaleLws(NS, 'web', 3, FIELD_MANAGERS.autoscaler);
    await waitFor(() => groups().length === 3, 'a third ready group');
    await waitFor(() => cache.getLws(NS, 'web')?.spec.replicas === 3, 'replicas 3 in the cache');
    const after = stats();
    expect(after.watches).toBeGreaterThan(before.watches);
    expect(after.lists).toBe(before.lists);
  });

  it('starts a new watch from where it was when the server ends one (timeoutSeconds)', async () => {
    const short = new ClusterWatchCache(kube.resourceSource(), { watchTimeoutSeconds: 1 });
    short.start([NS]);
    try {
      await short.synced();
      await new Promise((r) => setTimeout(r, 2500));
      await direct.scaleLws(NS, 'web', 2, FIELD_MANAGERS.autoscaler);
      await waitFor(
        () => short.readyLeaders(NS, 'web').length === 2,
        'the short-lived watches to see the change',
        3000,
      );
      for (const s of Object.values(short.stats())) {
        expect(s.lists).toBe(1);
        expect(s.watches).toBeGreaterThanOrEqual(3);
        expect(s.errors).toBe(0);
      }
    } finally {
      await short.stop();
    }
  });

  it('lists again after 410 Gone and catches up with what happened meanwhile', async () => {
    const gone = (): number => Object.values(cache.stats()).reduce((n, s) => n + s.relistsAfterGone, 0);
    const before = gone();
    const deleted: string[] = [];
    const off = cache.onChange((ev) => {
      if (ev.type === 'deleted') deleted.push(`${ev.resource} ${ev.name}`);
    });
    proxy.block();
    await direct.scaleLws(NS, 'web', 1, FIELD_MANAGERS.autoscaler);
    await direct.deleteLws(NS, 'llm');
    // Push the cache's resourceVersion out of the simulator's watch history.
    for (let i = 0; i <= HISTORY; i++) {
      await direct.applySecret(NS, 'churn', { i: String(i) }, {}, 'churn');
    }
    proxy.unblock();
    await waitFor(() => gone() > before, '410 and a new list');
    await waitFor(() => groups().length === 1 && !cache.getLws(NS, 'llm'), 'the cache caught up');
    off();
    expect(cache.podsOf(NS, 'web').map((p) => p.metadata.name)).toEqual(['web-0', 'web-0-1']);
    expect(cache.podsOf(NS, 'llm')).toEqual([]);
    expect(deleted).toEqual(expect.arrayContaining(['lws llm', 'pod web-1', 'pod llm-0']));
  });
});

describe('unreachable API server', () => {
  it('answers DependencyUnavailable when the API server is gone', async () => {
    await sim.close();
    simClosed = true;
    const err = await rejection(direct.getLws(NS, 'web'));
    expect(err.code).toBe(ErrorCode.DependencyUnavailable);
    // A kept-alive connection sees the server go away (hang up / reset); a new one is refused.
    expect(err.message).toMatch(/^Kubernetes API unreachable: .*(ECONNREFUSED|socket hang up|ECONNRESET)/);
    expect(err.retryAfterSeconds).toBeGreaterThan(0);
    const discovery = await rejection(direct.lwsApiAvailable());
    expect(discovery.code).toBe(ErrorCode.DependencyUnavailable);
    expect(discovery.message).toMatch(/ECONNREFUSED/);
    const apply = await rejection(direct.applyLws(nginxLws('late', 1), FIELD_MANAGERS.reconciler));
    expect(apply.code).toBe(ErrorCode.DependencyUnavailable);
  });
});
