import { describe, expect, it } from 'vitest';
import {
  applyWatchEvent,
  backoffDelay,
  CacheEvent,
  ListPage,
  replaceAll,
  ResourceCache,
  ResourceCacheOptions,
  ResourceSource,
  WatchQuery,
} from './resource-cache';
import type { KubeObject } from './types';

const obj = (
  name: string,
  rv: string,
  extra: Record<string, unknown> = {},
): KubeObject & Record<string, unknown> => ({
  metadata: { name, namespace: 'ns', resourceVersion: rv },
  ...extra,
});

describe('applyWatchEvent / replaceAll', () => {
  it('adds, modifies on a new resourceVersion only, deletes known objects', () => {
    const items = new Map<string, KubeObject>();
    expect(applyWatchEvent(items, 'ADDED', obj('a', '1'))?.type).toBe('added');
    expect(applyWatchEvent(items, 'MODIFIED', obj('a', '1'))).toBeUndefined();
    const mod = applyWatchEvent(items, 'ADDED', obj('a', '2'));
    expect(mod?.type).toBe('modified');
    expect(mod?.previous?.metadata.resourceVersion).toBe('1');
    expect(applyWatchEvent(items, 'MODIFIED', obj('b', '3'))?.type).toBe('added');
    expect(applyWatchEvent(items, 'DELETED', obj('c', '4'))).toBeUndefined();
    expect(applyWatchEvent(items, 'DELETED', obj('a', '5'))?.type).toBe('deleted');
    expect([...items.keys()]).toEqual(['ns/b']);
  });

  it('replaceAll yields the events between the old and the new content', () => {
    const items = new Map<string, KubeObject>();
    replaceAll(items, [obj('a', '1'), obj('b', '2'), obj('c', '3')]);
    const events = replaceAll(items, [obj('a', '1'), obj('b', '7'), obj('d', '8')]);
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual([
      'modified b',
      'added d',
      'deleted c',
    ]);
    expect([...items.keys()].sort()).toEqual(['ns/a', 'ns/b', 'ns/d']);
  });

  it('backoff doubles up to the cap, with jitter', () => {
    const mid = () => 0.5;
    expect([0, 1, 2, 3, 10].map((a) => backoffDelay(a, 100, 1000, mid))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelay(0, 100, 1000, () => 0)).toBe(80);
    expect(backoffDelay(0, 100, 1000, () => 1)).toBe(120);
  });
});

interface FakeWatch {
  query: WatchQuery;
  onEvent: (type: string, object: unknown) => void;
  onDone: (err: unknown) => void;
  aborted: boolean;
}

class FakeSource implements ResourceSource {
  readonly listQueries: WatchQuery[] = [];
  readonly watches: FakeWatch[] = [];
  readonly lists: (() => ListPage)[] = [];

  async list(_path: string, query: WatchQuery): Promise<ListPage> {
    this.listQueries.push(query);
    const next = this.lists.shift();
    if (!next) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    return next();
  }

  async watch(
    _path: string,
    query: WatchQuery,
    onEvent: (type: string, object: unknown) => void,
    onDone: (err: unknown) => void,
  ) {
    const w: FakeWatch = { query, onEvent, onDone, aborted: false };
    this.watches.push(w);
    return { abort: () => (w.aborted = true) };
  }

  get last(): FakeWatch {
    return this.watches[this.watches.length - 1] as FakeWatch;
  }
}

async function until(cond: () => boolean, what = 'condition'): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function setup(overrides: Partial<ResourceCacheOptions<KubeObject>> = {}) {
  const source = new FakeSource();
  const errors: string[] = [];
  const cache = new ResourceCache<KubeObject>({
    name: 'things in ns',
    path: '/api/v1/namespaces/ns/things',
    labelSelector: 'app',
    source,
    decode: (raw) => raw as KubeObject,
    watchTimeoutSeconds: 60,
    backoff: { initialMs: 1, maxMs: 4 },
    onError: (err) => errors.push(err instanceof Error ? err.message : String(err)),
    ...overrides,
  });
  const events: string[] = [];
  cache.onEvent((e: CacheEvent<KubeObject>) => events.push(`${e.type} ${e.object.metadata.name}`));
  return { source, cache, events, errors };
}

describe('ResourceCache', () => {
  it('lists, then watches from the list resourceVersion with bookmarks, and resumes after a close', async () => {
    const { source, cache, events } = setup();
    source.lists.push(() => ({ items: [obj('a', '5')], resourceVersion: '10' }));
    cache.start();
    await cache.synced();
    expect(source.listQueries[0]).toMatchObject({ labelSelector: 'app' });
    expect(events).toEqual(['added a']);
    await until(() => source.watches.length === 1);
    expect(source.last.query).toEqual({
      resourceVersion: '10',
      allowWatchBookmarks: true,
      timeoutSeconds: 60,
      labelSelector: 'app',
    });
    source.last.onEvent('ADDED', obj('b', '11'));
    source.last.onEvent('MODIFIED', obj('a', '12'));
    source.last.onEvent('BOOKMARK', { metadata: { resourceVersion: '20' } });
    source.last.onEvent('DELETED', obj('b', '21'));
    expect(events).toEqual(['added a', 'added b', 'modified a', 'deleted b']);
    expect(cache.get('ns', 'a')?.metadata.resourceVersion).toBe('12');
    source.last.onDone(null);
    await until(() => source.watches.length === 2);
    expect(source.last.query.resourceVersion).toBe('21');
    expect(source.listQueries).toHaveLength(1);
    await cache.stop();
    expect(source.last.aborted).toBe(true);
  });

  it('lists again after 410 Gone (HTTP status or ERROR event) and emits the difference', async () => {
    const { source, cache, events } = setup();
    source.lists.push(() => ({ items: [obj('a', '1'), obj('b', '2')], resourceVersion: '2' }));
    cache.start();
    await until(() => source.watches.length === 1);
    source.lists.push(() => ({ items: [obj('b', '30'), obj('c', '31')], resourceVersion: '40' }));
    source.last.onDone(Object.assign(new Error('Gone'), { statusCode: 410 }));
    await until(() => source.watches.length === 2);
    expect(events).toEqual(['added a', 'added b', 'modified b', 'added c', 'deleted a']);
    expect(source.last.query.resourceVersion).toBe('40');
    source.lists.push(() => ({ items: [], resourceVersion: '50' }));
    source.last.onEvent('ERROR', {
      kind: 'Status',
      code: 410,
      reason: 'Expired',
      message: 'too old resource version',
    });
    await until(() => source.watches.length === 3);
    expect(source.watches[1]?.aborted).toBe(true);
    expect(events.slice(5)).toEqual(['deleted b', 'deleted c']);
    expect(cache.stats()).toMatchObject({ lists: 3, relistsAfterGone: 2 });
    await cache.stop();
  });

  it('reconnects with backoff after errors, resuming from the same resourceVersion', async () => {
    const { source, cache, errors } = setup();
    source.lists.push(() => ({ items: [], resourceVersion: '7' }));
    cache.start();
    await until(() => source.watches.length === 1);
    source.last.onEvent('ADDED', obj('a', '8'));
    source.last.onDone(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    await until(() => source.watches.length === 2);
    source.last.onDone(Object.assign(new Error('Service Unavailable'), { statusCode: 503 }));
    await until(() => source.watches.length === 3);
    expect(source.last.query.resourceVersion).toBe('8');
    expect(errors).toEqual(['socket hang up', 'Service Unavailable']);
    expect(source.listQueries).toHaveLength(1);
    await cache.stop();
  });

  it('with relistAfterError, lists again after any watch error instead of resuming', async () => {
    const { source, cache, events, errors } = setup({ relistAfterError: true });
    source.lists.push(() => ({ items: [obj('a', '10')], resourceVersion: '10' }));
    cache.start();
    await until(() => source.watches.length === 1);
    source.last.onEvent('MODIFIED', obj('a', '16'));
    // The API server went away and came back with another store: its resourceVersions start over.
    source.lists.push(() => ({ items: [obj('b', '3')], resourceVersion: '3' }));
    source.last.onDone(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    await until(() => source.watches.length === 2);
    expect(source.listQueries).toHaveLength(2);
    expect(source.last.query.resourceVersion).toBe('3');
    // An ERROR event other than 410 does the same.
    source.lists.push(() => ({ items: [obj('b', '4')], resourceVersion: '4' }));
    source.last.onEvent('ERROR', { kind: 'Status', code: 500, message: 'etcdserver: leader changed' });
    await until(() => source.watches.length === 3);
    expect(source.last.query.resourceVersion).toBe('4');
    expect(events).toEqual(['added a', 'modified a', 'added b', 'deleted a', 'modified b']);
    expect(cache.get('ns', 'b')?.metadata.resourceVersion).toBe('4');
    expect(errors).toEqual(['socket hang up', 'watch of things in ns: etcdserver: leader changed']);
    expect(cache.stats()).toMatchObject({ lists: 3, relistsAfterError: 2, relistsAfterGone: 0 });
    await cache.stop();
  });

  it('does not keep what decode refuses, and drops an object that stops passing it', async () => {
    const { source, cache, events } = setup({
      decode: (raw) => ((raw as { keep?: boolean }).keep ? (raw as KubeObject) : undefined),
    });
    source.lists.push(() => ({
      items: [obj('a', '1', { keep: true }), obj('x', '1')],
      resourceVersion: '1',
    }));
    cache.start();
    await until(() => source.watches.length === 1);
    source.last.onEvent('ADDED', obj('y', '2'));
    source.last.onEvent('MODIFIED', obj('a', '3'));
    source.last.onEvent('DELETED', obj('y', '4'));
    expect(events).toEqual(['added a', 'deleted a']);
    expect(cache.size).toBe(0);
    expect(cache.stats().resourceVersion).toBe('4');
    await cache.stop();
  });

  it('retries a failing list and syncs once it succeeds', async () => {
    const { source, cache, errors } = setup();
    cache.start();
    let synced = false;
    void cache.synced().then(() => (synced = true));
    await until(() => errors.length >= 2, 'two failed lists');
    expect(synced).toBe(false);
    source.lists.push(() => ({ items: [obj('a', '1')], resourceVersion: '1' }));
    await until(() => synced, 'sync');
    expect(cache.list()).toHaveLength(1);
    await cache.stop();
  });

  it('drops a watch that stays silent past its timeout', async () => {
    const source = new FakeSource();
    const cache = new ResourceCache<KubeObject>({
      name: 'things',
      path: '/x',
      source,
      decode: (raw) => raw as KubeObject,
      watchTimeoutSeconds: 0,
      watchIdleGraceMs: 20,
      backoff: { initialMs: 1, maxMs: 2 },
    });
    source.lists.push(() => ({ items: [], resourceVersion: '3' }));
    cache.start();
    await until(() => source.watches.length === 2, 'a second watch');
    expect(source.watches[0]?.aborted).toBe(true);
    expect(cache.stats().lastError).toMatch(/silent/);
    await cache.stop();
  });

  it('stop rejects those waiting for a sync that never came', async () => {
    const { cache } = setup();
    cache.start();
    const waiting = cache.synced();
    await cache.stop();
    await expect(waiting).rejects.toThrow(/stopped before it synced/);
  });
});
