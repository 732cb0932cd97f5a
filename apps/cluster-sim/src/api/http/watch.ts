// Streaming watches over HTTP: newline-delimited JSON events, resume by resourceVersion, bookmarks.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StoreEvent, WatchEventType } from '../../store/events';
import type { ObjectStore } from '../../store/object-store';
import { project, type WatchFilter, type WatchHub } from '../../store/watch-hub';
import type { KObject } from '../../types/meta';
import { ApiError } from '../errors';
import { apiVersionOf, type ResourceDef } from '../resources';
import { buildTable, partialMetadata } from '../table';
import type { Accept } from './respond';

export interface WatchParams {
  def: ResourceDef;
  filter: WatchFilter;
  resourceVersion?: string;
  sendInitialEvents: boolean;
  allowBookmarks: boolean;
  timeoutSeconds?: number;
  accept: Accept;
  includeObject: string;
}

/** Slow consumers are cut off beyond this much buffered output. */
const MAX_BUFFERED = 64 * 1024 * 1024;

export class WatchStreams {
  private readonly open = new Set<ServerResponse>();
  private readonly cache = new WeakMap<StoreEvent, string>();
  /**
   * The API server keeps a watch cache per resource, started by a list when it begins serving the
   * resource; it cannot replay from before that list. For built-in kinds that is the server's start;
   * for a custom resource it is when its CRD is established, after the cluster's first objects. The
   * simulator's custom resources are served from here on (the HTTP server starts after bootstrap).
   */
  private readonly customResourcesFromRv: number;

  constructor(
    private readonly store: ObjectStore,
    private readonly hub: WatchHub,
    private readonly list: (filter: WatchFilter) => KObject[],
    private readonly bookmarkIntervalMs: number,
  ) {
    this.customResourcesFromRv = store.currentRv();
  }

  get count(): number {
    return this.open.size;
  }

  closeAll(): void {
    for (const res of this.open) res.end();
    this.open.clear();
  }

  serve(req: IncomingMessage, res: ServerResponse, p: WatchParams): void {
    const backlog: { type: WatchEventType; object: KObject; event?: StoreEvent }[] = [];
    const rvText = p.resourceVersion;
    if (rvText === undefined || rvText === '' || rvText === '0' || p.sendInitialEvents) {
      for (const object of this.list(p.filter)) backlog.push({ type: 'ADDED', object });
    } else {
      const rv = Number(rvText);
      if (!Number.isInteger(rv) || rv < 0)
        throw new ApiError(400, 'BadRequest', `invalid resource version: ${rvText}`);
      const since = this.store.history.since(rv);
      const oldest = p.def.crd
        ? Math.max(this.customResourcesFromRv, this.store.history.oldestResumable())
        : 0;
      if ('expired' in since || rv < oldest) {
        // Like the watch cache: a 200 stream with one ERROR event (a 410 Status), then the end.
        const err = new ApiError(
          410,
          'Expired',
          `too old resource version: ${rv} (${'expired' in since ? since.oldest : oldest})`,
        );
        res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
        res.end(`${JSON.stringify({ type: 'ERROR', object: err.toStatus() })}\n`);
        return;
      }
      for (const ev of since.events) {
        const type = project(p.filter, ev);
        if (type) backlog.push({ type, object: ev.object, event: ev });
      }
    }

    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Transfer-Encoding': 'chunked',
      'Cache-Control': 'no-cache, private',
    });
    res.flushHeaders();
    this.open.add(res);
    let first = true;
    const kind = p.def.kind;
    const apiVersion = apiVersionOf(p.def);
    const render = (type: WatchEventType | 'BOOKMARK', object: KObject, event?: StoreEvent): string => {
      if (type !== 'BOOKMARK' && p.accept === 'table') {
        const table = buildTable(
          p.def.columns ?? [],
          p.def.cells ?? (() => []),
          [object],
          p.includeObject,
          object.metadata.resourceVersion ?? '',
          first,
        );
        first = false;
        return `${JSON.stringify({ type, object: table })}\n`;
      }
      if (type !== 'BOOKMARK' && p.accept === 'partial')
        return `${JSON.stringify({ type, object: partialMetadata(object) })}\n`;
      if (event && event.type === type) {
        let line = this.cache.get(event);
        if (!line) {
          line = `${JSON.stringify({ type, object })}\n`;
          this.cache.set(event, line);
        }
        return line;
      }
      return `${JSON.stringify({ type, object })}\n`;
    };
    let closed = false;
    const write = (line: string): void => {
      if (closed) return;
      res.write(line);
      if (res.writableLength > MAX_BUFFERED) stop();
    };
    const bookmark = (annotations?: Record<string, string>): void => {
      const metadata: Record<string, unknown> = { resourceVersion: String(this.store.currentRv()) };
      if (annotations) metadata.annotations = annotations;
      write(render('BOOKMARK', { kind, apiVersion, metadata } as KObject));
    };

    for (const b of backlog) write(render(b.type, b.object, b.event));
    if (p.sendInitialEvents && p.allowBookmarks) bookmark({ 'k8s.io/initial-events-end': 'true' });

    const remove = this.hub.add({
      ...p.filter,
      deliver: (type, object, event) => write(render(type, object, event)),
    });
    const timers: NodeJS.Timeout[] = [];
    if (p.allowBookmarks && this.bookmarkIntervalMs > 0)
      timers.push(setInterval(() => bookmark(), this.bookmarkIntervalMs));
    if (p.timeoutSeconds !== undefined && p.timeoutSeconds > 0)
      timers.push(setTimeout(() => stop(), p.timeoutSeconds * 1000));
    const stop = (): void => {
      if (closed) return;
      closed = true;
      remove();
      for (const t of timers) clearTimeout(t);
      this.open.delete(res);
      if (!res.writableEnded) res.end();
    };
    req.on('close', stop);
    res.on('close', stop);
  }
}
