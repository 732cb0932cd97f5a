import { describe, expect, it } from 'vitest';
import type { Query, WatchHandle } from './kube-rest';
import {
  applyEvent,
  backoffDelay,
  isGone,
  ListWatch,
  replaceAll,
  type CacheEvent,
  type KubeItem,
  type ListPage,
} from './list-watch';

const obj = (
  name: string,
  rv: string,
  extra: Record<string, unknown> = {},
): KubeItem & Record<string, unknown> => ({
  metadata: { name, namespace: 'ns', resourceVersion: rv },
  ...extra,
});

describe('applyEvent / replaceAll', () => {
  it('adds, modifies (new resourceVersion only), deletes, and drops objects the filter refuses', () => {
    const items = new Map<string, KubeItem>();
    expect(applyEvent(items, 'ADDED', 'ns/a', obj('a', '1'))?.type).toBe('added');
    expect(applyEvent(items, 'MODIFIED', 'ns/a', obj('a', '1'))).toBeUndefined();
    expect(applyEvent(items, 'MODIFIED', 'ns/a', obj('a', '2'))?.type).toBe('modified');
    expect(applyEvent(items, 'MODIFIED', 'ns/a', undefined)).toEqual({
      type: 'deleted',
      object: obj('a', '2'),
    });
    expect(applyEvent(items, 'DELETED', 'ns/a', obj('a', '3'))).toBeUndefined();
    items.set('ns/b', obj('b', '1'));
    items.set('ns/c', obj('c', '1'));
    const events = replaceAll(items, [obj('b', '1'), obj('c', '5'), obj('d', '1')]);
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['modified c', 'added d']);
    expect(replaceAll(items, [obj('d', '1')]).map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual([
      'deleted b',
      'deleted c',
    ]);
  });

  it('backs off exponentially with jitter and a cap; knows 410 Gone', () => {
    expect(backoffDelay(0, 100, 1000, () => 0.5)).toBe(100);
    expect(backoffDelay(3, 100, 1000, () => 0.5)).toBe(800);
    expect(backoffDelay(10, 100, 1000, () => 1)).toBe(1200);
    expect(isGone({ statusCode: 410 })).toBe(true);
    expect(isGone({ kind: 'Status', code: 410, reason: 'Expired' })).toBe(true);
    expect(isGone(new Error('ECONNREFUSED'))).toBe(false);
  });
});

/** A scripted API: lists from `pages`, watches that run `script` steps. */
class FakeSource {
  lists: Query[] = [];
  watches: Query[] = [];
  listResults: (ListPage | Error)[] = [];
  watchScripts: ((emit: (type: string, o: unknown) => void, done: (err: unknown) => void) => void)[] = [];

  async list(_path: string, query: Query): Promise<ListPage> {
    this.lists.push(query);
    const r = this.listResults.shift();
    if (!r) throw new Error('no more lists');
    if (r instanceof Error) throw r;
    return r;
  }

  async watch(
    _path: string,
    query: Query,
    onEvent: (type: string, o: unknown) => void,
    onDone: (err: unknown) => void,
  ): Promise<WatchHandle> {
    this.watches.push(query);
    const script = this.watchScripts.shift();
    if (!script) return { abort: () => undefined }; // hangs until stopped
    setTimeout(() => script(onEvent, onDone), 1);
    return { abort: () => undefined };
  }
}

async function until(fn: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !fn(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(fn()).toBe(true);
}

describe('ListWatch', () => {
  it('lists, resumes the watch from the last resourceVersion (bookmarks too), relists after 410 and errors', async () => {
    const source = new FakeSource();
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
    source.listResults = [
      refused,
      { items: [obj('a', '10', { keep: true }), obj('x', '10')], resourceVersion: '10' },
      // after the API server went away and came back
      { items: [obj('a', '17', { keep: true }), obj('b', '11', { keep: true })], resourceVersion: '17' },
      // after 410
      { items: [obj('b', '20', { keep: true })], resourceVersion: '20' },
    ];
    source.watchScripts = [
      (emit, done) => {
        emit('ADDED', obj('b', '11', { keep: true }));
        emit('BOOKMARK', { metadata: { resourceVersion: '15' } });
        done(null); // server closed (timeout)
      },
      (emit, done) => {
        emit('MODIFIED', obj('a', '16', { keep: true }));
        done(refused); // API server went away
      },
      (emit) => emit('ERROR', { kind: 'Status', code: 410, reason: 'Expired' }),
    ];
    const events: CacheEvent<KubeItem>[] = [];
    const errors: string[] = [];
    const lw = new ListWatch<KubeItem>({
      path: '/api/v1/pods',
      source,
      accept: (raw) => ((raw as { keep?: boolean }).keep ? (raw as KubeItem) : undefined),
      onEvent: (e) => events.push(e),
      onError: (err, phase) => errors.push(`${phase}: ${(err as Error).message}`),
      backoff: { initialMs: 1, maxMs: 5 },
      watchTimeoutSeconds: 60,
    });
    lw.start();
    await lw.hasSynced();
    await until(() => source.lists.length === 4 && source.watches.length === 4);
    await lw.stop();
    expect(errors).toEqual([
      'list: connect ECONNREFUSED 127.0.0.1:6443',
      'watch: connect ECONNREFUSED 127.0.0.1:6443',
    ]);
    expect(source.watches.map((q) => q.resourceVersion)).toEqual(['10', '15', '17', '20']);
    expect(source.watches[0]).toMatchObject({ allowWatchBookmarks: true, timeoutSeconds: 60 });
    expect(
      events.map((e) => `${e.type} ${e.object.metadata.name}@${e.object.metadata.resourceVersion}`),
    ).toEqual([
      'added a@10',
      'added b@11',
      'modified a@16',
      'modified a@17',
      // the relist after 410: a is gone, b changed
      'modified b@20',
      'deleted a@17',
    ]);
    expect(lw.list().map((o) => o.metadata.name)).toEqual(['b']);
    expect(lw.stats).toMatchObject({ relistsAfterGone: 1, relistsAfterError: 1 });
  });

  it('drops a watch that falls silent and watches again', async () => {
    const source = new FakeSource();
    source.listResults = [
      { items: [], resourceVersion: '1' },
      { items: [], resourceVersion: '2' },
    ];
    const errors: string[] = [];
    const lw = new ListWatch<KubeItem>({
      path: '/api/v1/pods',
      source,
      accept: (raw) => raw as KubeItem,
      onEvent: () => undefined,
      onError: (err) => errors.push((err as Error).message),
      backoff: { initialMs: 1, maxMs: 1 },
      watchTimeoutSeconds: 0,
      idleGraceMs: 20,
    });
    lw.start();
    await until(() => source.watches.length >= 2);
    await lw.stop();
    expect(errors[0]).toMatch(/fell silent/);
    expect(source.watches.slice(0, 2).map((q) => q.resourceVersion)).toEqual(['1', '2']);
  });
});
