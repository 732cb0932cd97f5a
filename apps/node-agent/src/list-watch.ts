// A cache of one collection kept current by list + watch: resumes watches from the last
// resourceVersion seen (bookmarks included) when the server ends them, lists again after 410 Gone /
// Expired and after errors (with backoff: an API server restart is a few ECONNREFUSED), drops
// watches that fall silent. Objects the `accept` filter refuses are not kept (one that stops matching is deleted).

import type { Query, WatchHandle } from './kube-rest';
import { statusCodeOf } from './kube-rest';

export interface KubeItem {
  metadata: { name?: string; namespace?: string; resourceVersion?: string; uid?: string };
}

export type CacheEventType = 'added' | 'modified' | 'deleted';

export interface CacheEvent<T> {
  type: CacheEventType;
  object: T;
}

export interface ListPage {
  items: unknown[];
  resourceVersion: string;
  continueToken?: string;
}

export interface ListWatchSource {
  list(path: string, query: Query): Promise<ListPage>;
  watch(
    path: string,
    query: Query,
    onEvent: (type: string, object: unknown) => void,
    onDone: (err: unknown) => void,
  ): Promise<WatchHandle>;
}

export interface ListWatchOptions<T extends KubeItem> {
  /** Collection path, e.g. `/api/v1/pods`. */
  path: string;
  source: ListWatchSource;
  /** Narrows a raw object and filters; undefined: not kept. */
  accept(raw: unknown): T | undefined;
  onEvent(event: CacheEvent<T>): void;
  /** List and watch failures (they are retried). */
  onError?(err: unknown, phase: 'list' | 'watch'): void;
  /** A list succeeded or a watch delivered again after failures. */
  onRecovered?(): void;
  /** `timeoutSeconds` of one watch. Default: random in [300, 600). */
  watchTimeoutSeconds?: number;
  /** A watch silent this long past its timeout (or not connected this long) is dropped. Default 30 s. */
  idleGraceMs?: number;
  /** Reconnect backoff: initial doubling to max. Default 200 ms to 10 s. */
  backoff?: { initialMs: number; maxMs: number };
  pageSize?: number;
}

// ---------------------------------------------------------------------------------------------- pure

export function keyOf(obj: KubeItem): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
}

/**
 * Applies one watch event to `items` (mutated): what changed, or undefined when nothing did (same
 * resourceVersion again, deletion of an unknown object, an object refused by the filter and not kept).
 * `obj` undefined means the filter refused the object named by `key`.
 */
export function applyEvent<T extends KubeItem>(
  items: Map<string, T>,
  type: 'ADDED' | 'MODIFIED' | 'DELETED',
  key: string,
  obj: T | undefined,
): CacheEvent<T> | undefined {
  const previous = items.get(key);
  if (type === 'DELETED' || obj === undefined) {
    if (!previous) return undefined;
    items.delete(key);
    return { type: 'deleted', object: obj ?? previous };
  }
  if (
    previous?.metadata.resourceVersion &&
    previous.metadata.resourceVersion === obj.metadata.resourceVersion
  )
    return undefined;
  items.set(key, obj);
  return { type: previous ? 'modified' : 'added', object: obj };
}

/** Replaces the content with a fresh list: the events that turn the old content into the new. */
export function replaceAll<T extends KubeItem>(items: Map<string, T>, fresh: T[]): CacheEvent<T>[] {
  const events: CacheEvent<T>[] = [];
  const seen = new Set<string>();
  for (const obj of fresh) {
    const key = keyOf(obj);
    seen.add(key);
    const ev = applyEvent(items, 'ADDED', key, obj);
    if (ev) events.push(ev);
  }
  for (const [key, obj] of [...items]) {
    if (seen.has(key)) continue;
    items.delete(key);
    events.push({ type: 'deleted', object: obj });
  }
  return events;
}

/** Delay before attempt `attempt` (0-based): initial × 2^attempt, capped, ±20 % jitter. */
export function backoffDelay(
  attempt: number,
  initialMs: number,
  maxMs: number,
  random = Math.random,
): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** 410 Gone / Expired: the resourceVersion is too old, list again. */
export function isGone(err: unknown): boolean {
  if (statusCodeOf(err) === 410) return true;
  const reason = typeof err === 'object' && err !== null ? (err as { reason?: unknown }).reason : undefined;
  return reason === 'Expired' || reason === 'Gone';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function rawKey(raw: unknown): string | undefined {
  if (!isRecord(raw) || !isRecord(raw.metadata) || typeof raw.metadata.name !== 'string') return undefined;
  const ns = typeof raw.metadata.namespace === 'string' ? raw.metadata.namespace : '';
  return `${ns}/${raw.metadata.name}`;
}

function rawResourceVersion(raw: unknown): string | undefined {
  if (!isRecord(raw) || !isRecord(raw.metadata)) return undefined;
  return typeof raw.metadata.resourceVersion === 'string' ? raw.metadata.resourceVersion : undefined;
}

// ------------------------------------------------------------------------------------------- the loop

type Outcome = { kind: 'closed'; events: number } | { kind: 'gone' } | { kind: 'error'; error: unknown };

export class ListWatch<T extends KubeItem> {
  private readonly items = new Map<string, T>();
  private rv = '';
  private running = false;
  private failing = false;
  private loop?: Promise<void>;
  private interrupt?: () => void;
  private syncWaiters: (() => void)[] = [];
  private synced = false;
  readonly stats = { lists: 0, watches: 0, relistsAfterGone: 0, relistsAfterError: 0, errors: 0 };

  constructor(private readonly o: ListWatchOptions<T>) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.interrupt?.();
    await this.loop;
    for (const w of this.syncWaiters.splice(0)) w();
  }

  /** Resolves once the first list is loaded (or the cache stopped). */
  hasSynced(): Promise<void> {
    if (this.synced || !this.running) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  get(namespace: string, name: string): T | undefined {
    return this.items.get(`${namespace}/${name}`);
  }

  list(): T[] {
    return [...this.items.values()];
  }

  get resourceVersion(): string {
    return this.rv;
  }

  private emit(ev: CacheEvent<T>): void {
    try {
      this.o.onEvent(ev);
    } catch (err) {
      this.report(err, 'watch');
    }
  }

  private report(err: unknown, phase: 'list' | 'watch'): void {
    this.failing = true;
    this.stats.errors++;
    this.o.onError?.(err, phase);
  }

  private recovered(): void {
    if (!this.failing) return;
    this.failing = false;
    this.o.onRecovered?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.interrupt = done;
    });
  }

  private async run(): Promise<void> {
    const { initialMs, maxMs } = this.o.backoff ?? { initialMs: 200, maxMs: 10_000 };
    let failures = 0;
    while (this.running) {
      if (!this.rv) {
        try {
          await this.relist();
          failures = 0;
        } catch (err) {
          if (!this.running) break;
          this.report(err, 'list');
          await this.sleep(backoffDelay(failures++, initialMs, maxMs));
          continue;
        }
      }
      if (!this.running) break;
      const started = Date.now();
      const outcome = await this.watchOnce();
      if (!this.running) break;
      if (outcome.kind === 'gone') {
        this.rv = '';
        this.stats.relistsAfterGone++;
        continue;
      }
      if (outcome.kind === 'error') {
        // List again rather than resume: the API server may have come back with another store (a
        // resourceVersion from before would then be "too large", or silently miss what is there).
        this.report(outcome.error, 'watch');
        this.rv = '';
        this.stats.relistsAfterError++;
        await this.sleep(backoffDelay(failures++, initialMs, maxMs));
        continue;
      }
      // Closed by the server (timeoutSeconds, shutdown): resume at once, unless it keeps closing at
      // once without delivering anything.
      if (outcome.events > 0 || Date.now() - started > 1000) failures = 0;
      else await this.sleep(backoffDelay(failures++, initialMs, maxMs));
    }
  }

  private async relist(): Promise<void> {
    const fresh: T[] = [];
    let token: string | undefined;
    let rv = '';
    do {
      const page = await this.o.source.list(this.o.path, {
        limit: this.o.pageSize ?? 500,
        ...(token ? { continue: token } : {}),
      });
      for (const raw of page.items) {
        const obj = this.o.accept(raw);
        if (obj) fresh.push(obj);
      }
      token = page.continueToken;
      rv = page.resourceVersion;
    } while (token && this.running);
    if (!this.running) return;
    this.stats.lists++;
    this.recovered();
    const events = replaceAll(this.items, fresh);
    this.rv = rv;
    for (const ev of events) this.emit(ev);
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  private watchOnce(): Promise<Outcome> {
    const timeoutSeconds = this.o.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
    const idleMs = timeoutSeconds * 1000 + (this.o.idleGraceMs ?? 30_000);
    this.stats.watches++;
    return new Promise<Outcome>((resolve) => {
      let events = 0;
      let handle: WatchHandle | undefined;
      let settled = false;
      let idle: NodeJS.Timeout | undefined;
      const finish = (outcome: Outcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(idle);
        this.interrupt = undefined;
        handle?.abort();
        resolve(outcome);
      };
      const armIdle = (): void => {
        clearTimeout(idle);
        idle = setTimeout(
          () => finish({ kind: 'error', error: new Error(`watch of ${this.o.path} fell silent`) }),
          idleMs,
        );
      };
      this.interrupt = () => finish({ kind: 'closed', events });
      armIdle();
      const onEvent = (type: string, raw: unknown): void => {
        if (settled) return;
        armIdle();
        if (type === 'ERROR') {
          finish(isGone(raw) ? { kind: 'gone' } : { kind: 'error', error: raw });
          return;
        }
        const rv = rawResourceVersion(raw);
        if (rv) this.rv = rv;
        if (type === 'BOOKMARK') return;
        if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return;
        const key = rawKey(raw);
        if (!key) return;
        if (events++ === 0) this.recovered();
        const ev = applyEvent(this.items, type, key, this.o.accept(raw));
        if (ev) this.emit(ev);
      };
      const onDone = (err: unknown): void => {
        if (!err) finish({ kind: 'closed', events });
        else finish(isGone(err) ? { kind: 'gone' } : { kind: 'error', error: err });
      };
      this.o.source
        .watch(
          this.o.path,
          { resourceVersion: this.rv, allowWatchBookmarks: true, timeoutSeconds },
          onEvent,
          onDone,
        )
        .then(
          (h) => {
            handle = h;
            if (settled) h.abort();
          },
          (err: unknown) => onDone(err ?? new Error('watch failed')),
        );
    });
  }
}
