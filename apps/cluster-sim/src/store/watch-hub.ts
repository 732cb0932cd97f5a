// Fan-out of store events to watchers with namespace / label / field filters. An object that stops
// matching a watcher's selectors is delivered as DELETED, one that starts matching as ADDED.

import { matchesFields, type FieldRequirement } from '../selectors/field-selector';
import { matchesLabels, type Requirement } from '../selectors/label-selector';
import type { KObject } from '../types/meta';
import type { StoreEvent, WatchEventType } from './events';
import type { ObjectStore } from './object-store';

export interface WatchFilter {
  resource: string;
  namespace?: string;
  labels: Requirement[];
  fields: FieldRequirement[];
}

export interface Watcher extends WatchFilter {
  deliver(type: WatchEventType, object: KObject, event: StoreEvent): void;
}

export function matchesFilter(f: WatchFilter, obj: KObject | undefined): boolean {
  if (!obj) return false;
  if (f.namespace !== undefined && (obj.metadata.namespace ?? '') !== f.namespace) return false;
  return matchesLabels(f.labels, obj.metadata.labels) && matchesFields(f.fields, obj);
}

/** The event as `f` sees it, or undefined when it is not visible to `f`. */
export function project(f: WatchFilter, ev: StoreEvent): WatchEventType | undefined {
  if (ev.resource !== f.resource) return undefined;
  const now = ev.type === 'DELETED' ? false : matchesFilter(f, ev.object);
  const before = ev.type === 'ADDED' ? false : matchesFilter(f, ev.previous);
  if (ev.type === 'DELETED') return before ? 'DELETED' : undefined;
  if (now && before) return 'MODIFIED';
  if (now) return 'ADDED';
  if (before) return 'DELETED';
  return undefined;
}

export class WatchHub {
  private readonly byResource = new Map<string, Set<Watcher>>();
  private readonly unsubscribe: () => void;

  constructor(store: ObjectStore) {
    this.unsubscribe = store.subscribe((ev) => this.dispatch(ev));
  }

  add(w: Watcher): () => void {
    let set = this.byResource.get(w.resource);
    if (!set) {
      set = new Set();
      this.byResource.set(w.resource, set);
    }
    set.add(w);
    return () => set.delete(w);
  }

  count(): number {
    let n = 0;
    for (const s of this.byResource.values()) n += s.size;
    return n;
  }

  private dispatch(ev: StoreEvent): void {
    const set = this.byResource.get(ev.resource);
    if (!set || set.size === 0) return;
    for (const w of set) {
      const type = project(w, ev);
      if (type) w.deliver(type, ev.object, ev);
    }
  }

  close(): void {
    this.unsubscribe();
    this.byResource.clear();
  }
}
