// Watches through client-node's Watch: events with selectors, resume by resourceVersion,
// 410 Gone (an ERROR event) when too old, bookmarks, timeoutSeconds.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, makeInformer, Watch, type V1ConfigMap } from '@kubernetes/client-node';
import { startSim, waitFor, type SimClients } from './helpers';

let c: SimClients;
beforeAll(async () => {
  c = await startSim({ nodes: 1, historySize: 200, bookmarkIntervalMs: 100 });
});
afterAll(() => c.close());

interface Seen {
  type: string;
  name: string;
  rv: string;
  data?: Record<string, string>;
}

async function watch(path: string, query: Record<string, string | number | boolean>) {
  const seen: Seen[] = [];
  let error: unknown;
  let done = false;
  const controller = await new Watch(c.kc).watch(
    path,
    query,
    (
      type,
      obj: { metadata?: { name?: string; resourceVersion?: string }; data?: Record<string, string> },
    ) => {
      seen.push({
        type,
        name: obj.metadata?.name ?? '',
        rv: obj.metadata?.resourceVersion ?? '',
        data: obj.data,
      });
    },
    (err) => {
      done = true;
      error = err;
    },
  );
  return { seen, controller, error: () => error, done: () => done };
}

const PATH = '/api/v1/namespaces/default/configmaps';

describe('watch', () => {
  it('streams ADDED / MODIFIED / DELETED filtered by label selector, DELETED when leaving it', async () => {
    await c.core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'pre', labels: { w: 'a' } }, data: {} },
    });
    const w = await watch(PATH, { labelSelector: 'w=a' });
    await waitFor(() => w.seen.length === 1);
    expect(w.seen[0]).toMatchObject({ type: 'ADDED', name: 'pre' });
    await c.core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'w1', labels: { w: 'a' } }, data: { k: '1' } },
    });
    await c.core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'other', labels: { w: 'b' } }, data: {} },
    });
    await c.core.replaceNamespacedConfigMap({
      namespace: 'default',
      name: 'w1',
      body: { metadata: { name: 'w1', labels: { w: 'a' } }, data: { k: '2' } },
    });
    await c.core.replaceNamespacedConfigMap({
      namespace: 'default',
      name: 'w1',
      body: { metadata: { name: 'w1', labels: { w: 'gone' } }, data: {} },
    });
    await c.core.deleteNamespacedConfigMap({ namespace: 'default', name: 'pre' });
    await waitFor(() => w.seen.length === 5, 5000, 'five events');
    expect(w.seen.map((s) => `${s.type} ${s.name}`)).toEqual([
      'ADDED pre',
      'ADDED w1',
      'MODIFIED w1',
      'DELETED w1',
      'DELETED pre',
    ]);
    w.controller.abort();
  });

  it('resumes from a resourceVersion without initial events', async () => {
    const first = await c.core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'r1', labels: { r: '1' } }, data: {} },
    });
    await c.core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'r2', labels: { r: '1' } }, data: {} },
    });
    await c.core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'r3', labels: { r: '1' } }, data: {} },
    });
    const w = await watch(PATH, {
      labelSelector: 'r=1',
      resourceVersion: first.metadata?.resourceVersion ?? '',
    });
    await waitFor(() => w.seen.length === 2);
    expect(w.seen.map((s) => s.name)).toEqual(['r2', 'r3']);
    await c.core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'r4', labels: { r: '1' } }, data: {} },
    });
    await waitFor(() => w.seen.length === 3);
    expect(w.seen[2]).toMatchObject({ type: 'ADDED', name: 'r4' });
    w.controller.abort();
  });

  it('answers 410 Gone (Expired) for a resourceVersion older than the history', async () => {
    const old = await c.core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'old' }, data: {} },
    });
    for (let i = 0; i < 250; i++) {
      await c.core.replaceNamespacedConfigMap({
        namespace: 'default',
        name: 'old',
        body: { metadata: { name: 'old' }, data: { i: String(i) } },
      });
    }
    // As the API server's watch cache answers: a 200 stream with one ERROR event, then the end.
    const res = await fetch(`${c.sim.url}${PATH}?watch=1&resourceVersion=${old.metadata?.resourceVersion}`);
    expect(res.status).toBe(200);
    const lines = (await res.text()).trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({
      type: 'ERROR',
      object: {
        kind: 'Status',
        code: 410,
        reason: 'Expired',
        message: expect.stringContaining('too old resource version'),
      },
    });
    const w = await watch(PATH, { resourceVersion: old.metadata?.resourceVersion ?? '' });
    await waitFor(() => w.done());
    expect(w.error() ?? null).toBeNull();
    expect(w.seen.map((s) => s.type)).toEqual(['ERROR']);
  });

  it('sends bookmarks when allowed and ends at timeoutSeconds', async () => {
    const w = await watch(PATH, { allowWatchBookmarks: true, timeoutSeconds: 1, labelSelector: 'none=here' });
    await waitFor(() => w.seen.some((s) => s.type === 'BOOKMARK'));
    expect(Number(w.seen.find((s) => s.type === 'BOOKMARK')?.rv)).toBeGreaterThan(0);
    await waitFor(() => w.done(), 5000, 'watch end');
  });

  it('serves the sendInitialEvents stream with the initial-events-end bookmark', async () => {
    const res = await fetch(
      `${c.sim.url}${PATH}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&labelSelector=r%3D1&timeoutSeconds=1`,
    );
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as { type: string; object: { metadata: { annotations?: Record<string, string> } } },
      );
    expect(lines.filter((l) => l.type === 'ADDED')).toHaveLength(4);
    const bm = lines.find((l) => l.type === 'BOOKMARK');
    expect(bm?.object.metadata.annotations).toEqual({ 'k8s.io/initial-events-end': 'true' });
  });
});

describe('informer', () => {
  it('keeps a cache in sync through list + watch (makeInformer)', async () => {
    const core = c.kc.makeApiClient(CoreV1Api);
    const informer = makeInformer<V1ConfigMap>(
      c.kc,
      '/api/v1/namespaces/default/configmaps',
      () => core.listNamespacedConfigMap({ namespace: 'default', labelSelector: 'inf=1' }),
      'inf=1',
    );
    const seen: string[] = [];
    informer.on('add', (o) => seen.push(`add ${o.metadata?.name}`));
    informer.on('update', (o) => seen.push(`update ${o.metadata?.name}`));
    informer.on('delete', (o) => seen.push(`delete ${o.metadata?.name}`));
    await c.core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'i1', labels: { inf: '1' } }, data: {} },
    });
    await informer.start();
    await c.core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'i2', labels: { inf: '1' } }, data: {} },
    });
    await c.core.replaceNamespacedConfigMap({
      namespace: 'default',
      name: 'i2',
      body: { metadata: { name: 'i2', labels: { inf: '1' } }, data: { x: '1' } },
    });
    await c.core.deleteNamespacedConfigMap({ namespace: 'default', name: 'i1' });
    await waitFor(() => seen.length === 4, 5000, 'informer events');
    expect(seen).toEqual(['add i1', 'add i2', 'update i2', 'delete i1']);
    expect(informer.list().map((o) => o.metadata?.name)).toEqual(['i2']);
    await informer.stop();
  });
});
