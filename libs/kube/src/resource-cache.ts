// An informer: a cache of one collection (a resource in a namespace, filtered by labels) kept current by
// list + watch. Resumes watches from the last resourceVersion seen (bookmarks included), lists again
// after 410 Gone (or, with `relistAfterError`, after any watch error), reconnects with backoff after
// errors, and aborts watches that fall silent.

import { AppException, ErrorCode } from '@troupe/common';
import { parseStatus } from './kube-errors';
import type { KubeObject } from './types';

export type CacheEventType = 'added' | 'modified' | 'deleted';

export interface CacheEvent<T> {
  type: CacheEventType;
  object: T;
  /** The object before a modification. */
  previous?: T;
}

export type WatchQuery = Record<string, string | number | boolean | undefined>;

export interface ListPage {
  items: unknown[];
  resourceVersion: string;
  continueToken?: string;
}

export interface WatchHandle {
  abort(): void;
}

/** Where lists and watches come from (the cluster through client-node, or a fake in tests). */
export interface ResourceSource {
  list(path: string, query: WatchQuery): Promise<ListPage>;
  /**
   * Starts a watch: `onEvent` per line (`ADDED|MODIFIED|DELETED|BOOKMARK|ERROR`, object), `onDone` once
   * when it ends (null when the server closed it, else the error; an HTTP error carries `statusCode`).
   */
  watch(
    path: string,
    query: WatchQuery,
    onEvent: (type: string, object: unknown) => void,
    onDone: (err: unknown) => void,
  ): Promise<WatchHandle>;
}

export interface ResourceCacheOptions<T> {
  /** For messages: "pods in team-a". */
  name: string;
  /** Collection path, e.g. `/api/v1/namespaces/team-a/pods`. */
  path: string;
  labelSelector?: string;
  source: ResourceSource;
  /**
   * Narrows (and may filter) a raw object; undefined: not kept, and an object held under its name is
   * dropped (a `deleted` event), as when it stops matching a selector.
   */
  decode(raw: unknown): T | undefined;
  /** Server-side duration of one watch (`timeoutSeconds`). Default: random in [300, 600). */
  watchTimeoutSeconds?: number;
  /** A watch that delivers nothing (not even a bookmark) this long past its timeout is dropped. Default 30 s. */
  watchIdleGraceMs?: number;
  /** Reconnect backoff. Default 200 ms doubling to 30 s. */
  backoff?: { initialMs: number; maxMs: number };
  /**
   * List again after any watch error, not only after 410 Gone. For a client that outlives API server
   * restarts: one back with another store (a fresh etcd) would take the old resourceVersion as "too
   * large", or resume from it and silently miss what is there. Default false (resume).
   */
  relistAfterError?: boolean;
  pageSize?: number;
  /** Called for list and watch failures (they are retried). */
  onError?(err: unknown, phase: 'list' | 'watch'): void;
  /** Called when a list succeeds or a watch delivers again after failures. */
  onRecovered?(): void;
}

export interface ResourceCacheStats {
  lists: number;
  watches: number;
  /** Lists made because the resourceVersion had expired (410 Gone). */
  relistsAfterGone: number;
  /** Lists made after another watch error (`relistAfterError`). */
  relistsAfterError: number;
  errors: number;
  lastError?: string;
  resourceVersion: string;
}

// ---------------------------------------------------------------------------------------------------
// Pure parts

export function objectKey(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
}

function sameVersion(a: KubeObject, b: KubeObject): boolean {
  return (
    a.metadata.resourceVersion !== undefined && a.metadata.resourceVersion === b.metadata.resourceVersion
  );
}

/**
 * Applies one watch event to `items` (mutated) and says what changed, or undefined when nothing did
 * (an update with the same resourceVersion, the deletion of an unknown object). Whether an object is
 * added or modified depends on the cache, not on the event's type (a resumed watch may repeat).
 */
export function applyWatchEvent<T extends KubeObject>(
  items: Map<string, T>,
  type: 'ADDED' | 'MODIFIED' | 'DELETED',
  obj: T,
): CacheEvent<T> | undefined {
  const key = objectKey(obj);
  const previous = items.get(key);
  if (type === 'DELETED') {
    if (!previous) return undefined;
    items.delete(key);
    return { type: 'deleted', object: obj };
  }
  if (previous && sameVersion(previous, obj)) return undefined;
  items.set(key, obj);
  return previous ? { type: 'modified', object: obj, previous } : { type: 'added', object: obj };
}

/**
 * Replaces the cache's content with a fresh list, returning the events that turn the old content into
 * the new: added, modified (resourceVersion changed), deleted (absent from the list).
 */
export function replaceAll<T extends KubeObject>(items: Map<string, T>, fresh: T[]): CacheEvent<T>[] {
  const events: CacheEvent<T>[] = [];
  const seen = new Set<string>();
  for (const obj of fresh) {
    const key = objectKey(obj);
    seen.add(key);
    const ev = applyWatchEvent(items, 'ADDED', obj);
    if (ev) events.push(ev);
  }
  for (const [key, obj] of [...items]) {
    if (!seen.has(key)) {
      items.delete(key);
      events.push({ type: 'deleted', object: obj });
    }
  }
  return events;
}

/** Delay before reconnect attempt `attempt` (0-based): initial × 2^attempt, capped, with ±20 % jitter. */
export function backoffDelay(
  attempt: number,
  initialMs: number,
  maxMs: number,
  random = Math.random,
): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** `true` for a 410 Gone / Expired: the resourceVersion is too old, list again. */
export function isGone(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { statusCode?: unknown; code?: unknown; reason?: unknown };
  return e.statusCode === 410 || e.code === 410 || e.reason === 'Expired' || e.reason === 'Gone';
}

// ---------------------------------------------------------------------------------------------------

type Outcome = { kind: 'closed'; events: number } | { kind: 'gone' } | { kind: 'error'; error: unknown };

export class ResourceCache<T extends KubeObject> {
  private readonly items = new Map<string, T>();
  private readonly listeners = new Set<(event: CacheEvent<T>) => void>();
  private waiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  private rv = '';
  private running = false;
  private failing = false;
  private isSynced = false;
  private loop?: Promise<void>;
  private interrupt?: () => void;
  private readonly statsData: Omit<ResourceCacheStats, 'resourceVersion'> = {
    lists: 0,
    watches: 0,
    relistsAfterGone: 0,
    relistsAfterError: 0,
    errors: 0,
  };

  constructor(private readonly options: ResourceCacheOptions<T>) {}

  get name(): string {
    return this.options.name;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.interrupt?.();
    await this.loop;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      w.reject(
        new AppException(ErrorCode.DependencyUnavailable, `watch of ${this.name} stopped before it synced`),
      );
    }
  }

  /** Resolves once the first list has been loaded. */
  synced(): Promise<void> {
    if (this.isSynced) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  get hasSynced(): boolean {
    return this.isSynced;
  }

  get(namespace: string, name: string): T | undefined {
    return this.items.get(`${namespace}/${name}`);
  }

  list(): T[] {
    return [...this.items.values()];
  }

  get size(): number {
    return this.items.size;
  }

  stats(): ResourceCacheStats {
    return { ...this.statsData, resourceVersion: this.rv };
  }

  /** Subscribes to changes; returns the unsubscribe function. */
  onEvent(listener: (event: CacheEvent<T>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: CacheEvent<T>): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.report(err, 'watch');
      }
    }
  }

  private recovered(): void {
    if (!this.failing) return;
    this.failing = false;
    try {
      this.options.onRecovered?.();
    } catch {
      // a hook never stops the cache
    }
  }

  private report(err: unknown, phase: 'list' | 'watch'): void {
    this.failing = true;
    this.statsData.errors++;
    this.statsData.lastError = err instanceof Error ? err.message : String(err);
    try {
      this.options.onError?.(err, phase);
    } catch {
      // a hook never stops the cache
    }
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
    const { initialMs, maxMs } = this.options.backoff ?? { initialMs: 200, maxMs: 30_000 };
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
        this.statsData.relistsAfterGone++;
        continue;
      }
      if (outcome.kind === 'error') {
        this.report(outcome.error, 'watch');
        if (this.options.relistAfterError) {
          this.rv = '';
          this.statsData.relistsAfterError++;
        }
        await this.sleep(backoffDelay(failures++, initialMs, maxMs));
        continue;
      }
      // Closed by the server (timeoutSeconds, restart): resume at once, unless it closes immediately
      // again and again without delivering anything.
      if (outcome.events > 0 || Date.now() - started > 1000) failures = 0;
      else await this.sleep(backoffDelay(failures++, initialMs, maxMs));
    }
  }

  private async relist(): Promise<void> {
    const fresh: T[] = [];
    let token: string | undefined;
    let rv = '';
    do {
      const page = await this.options.source.list(this.options.path, {
        ...(this.options.labelSelector ? { labelSelector: this.options.labelSelector } : {}),
        limit: this.options.pageSize ?? 500,
        ...(token ? { continue: token } : {}),
      });
      for (const raw of page.items) {
        const obj = this.options.decode(raw);
        if (obj) fresh.push(obj);
      }
      token = page.continueToken;
      rv = page.resourceVersion;
    } while (token && this.running);
    if (!this.running) return;
    this.statsData.lists++;
    this.recovered();
    const events = replaceAll(this.items, fresh);
    this.rv = rv;
    for (const ev of events) this.emit(ev);
    if (!this.isSynced) {
      this.isSynced = true;
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w.resolve();
    }
  }

  private watchOnce(): Promise<Outcome> {
    this.statsData.watches++;
    const timeoutSeconds = this.options.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
    const idleMs = timeoutSeconds * 1000 + (this.options.watchIdleGraceMs ?? 30_000);
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      let events = 0;
      let handle: WatchHandle | undefined;
      let idle: NodeJS.Timeout | undefined;
      const finish = (outcome: Outcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(idle);
        this.interrupt = undefined;
        handle?.abort();
        resolve(outcome);
      };
      const arm = (): void => {
        clearTimeout(idle);
        idle = setTimeout(
          () => finish({ kind: 'error', error: new Error(`watch of ${this.name} silent for ${idleMs} ms`) }),
          idleMs,
        );
      };
      this.interrupt = () => finish({ kind: 'closed', events });
      arm();
      const onEvent = (type: string, raw: unknown): void => {
        if (settled) return;
        arm();
        if (type !== 'ERROR') this.recovered();
        if (type === 'ERROR') {
          const status = parseStatus(raw);
          if (status?.code === 410 || status?.reason === 'Expired' || status?.reason === 'Gone') {
            finish({ kind: 'gone' });
          } else {
            finish({
              kind: 'error',
              error: new Error(`watch of ${this.name}: ${status?.message ?? 'error event'}`),
            });
          }
          return;
        }
        const rv = resourceVersionOf(raw);
        if (type === 'BOOKMARK') {
          if (rv) this.rv = rv;
          return;
        }
        if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return;
        const obj = this.options.decode(raw);
        if (rv) this.rv = rv;
        if (!obj) {
          const key = rawKeyOf(raw);
          const held = key === undefined ? undefined : this.items.get(key);
          if (held) this.emit(applyWatchEvent(this.items, 'DELETED', held) as CacheEvent<T>);
          return;
        }
        events++;
        const ev = applyWatchEvent(this.items, type, obj);
        if (ev) this.emit(ev);
      };
      const onDone = (err: unknown): void => {
        if (err === null || err === undefined) finish({ kind: 'closed', events });
        else if (isGone(err)) finish({ kind: 'gone' });
        else finish({ kind: 'error', error: err });
      };
      this.options.source
        .watch(
          this.options.path,
          {
            resourceVersion: this.rv,
            allowWatchBookmarks: true,
            timeoutSeconds,
            ...(this.options.labelSelector ? { labelSelector: this.options.labelSelector } : {}),
          },
          onEvent,
          onDone,
        )
        .then(
          (h) => {
            handle = h;
            if (settled) h.abort();
          },
          (err: unknown) => finish(isGone(err) ? { kind: 'gone' } : { kind: 'error', error: err }),
        );
    });
  }
}

function metadataOf(raw: unknown): Record<string, unknown> | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const meta = (raw as { metadata?: unknown }).metadata;
  return typeof meta === 'object' && meta !== null ? (meta as Record<string, unknown>) : undefined;
}

function resourceVersionOf(raw: unknown): string | undefined {
  const rv = metadataOf(raw)?.resourceVersion;
  return typeof rv === 'string' && rv ? rv : undefined;
}

/** The cache key of a raw object (as `objectKey`), if it names one. */
function rawKeyOf(raw: unknown): string | undefined {
  const meta = metadataOf(raw);
  if (typeof meta?.name !== 'string') return undefined;
  return `${typeof meta.namespace === 'string' ? meta.namespace : ''}/${meta.name}`;
}
