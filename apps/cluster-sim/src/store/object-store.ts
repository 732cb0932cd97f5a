// In-memory object store: tables per resource and namespace, a global resourceVersion counter,
// an owner index for garbage collection, synchronous listeners and a watch history.

import type { KObject } from '../types/meta';
import type { StoreEvent, WatchEventType } from './events';
import { EventHistory } from './history';

export interface ObjectRef {
  resource: string;
  namespace: string;
  name: string;
}

type Listener = (event: StoreEvent) => void;

export class ObjectStore {
  private rv = 0;
  /** resource -> namespace ('' for cluster-scoped) -> name -> object */
  private readonly tables = new Map<string, Map<string, Map<string, KObject>>>();
  /** owner uid -> dependents */
  private readonly byOwner = new Map<string, Map<string, ObjectRef>>();
  private readonly byUid = new Map<string, ObjectRef>();
  private readonly listeners = new Set<Listener>();
  readonly history: EventHistory;

  constructor(historySize = 20_000) {
    this.history = new EventHistory(historySize);
  }

  currentRv(): number {
    return this.rv;
  }

  private table(resource: string, namespace: string, create: boolean): Map<string, KObject> | undefined {
    let byNs = this.tables.get(resource);
    if (!byNs) {
      if (!create) return undefined;
      byNs = new Map();
      this.tables.set(resource, byNs);
    }
    let t = byNs.get(namespace);
    if (!t && create) {
      t = new Map();
      byNs.set(namespace, t);
    }
    return t;
  }

  get(resource: string, namespace: string, name: string): KObject | undefined {
    return this.table(resource, namespace, false)?.get(name);
  }

  /** Objects of a resource, in one namespace or all, sorted by namespace then name (etcd key order). */
  list(resource: string, namespace?: string): KObject[] {
    const byNs = this.tables.get(resource);
    if (!byNs) return [];
    const out: KObject[] = [];
    if (namespace !== undefined) {
      const t = byNs.get(namespace);
      if (t) for (const o of t.values()) out.push(o);
    } else {
      for (const t of byNs.values()) for (const o of t.values()) out.push(o);
    }
    return out.sort(compareObjects);
  }

  count(resource: string): number {
    let n = 0;
    for (const t of this.tables.get(resource)?.values() ?? []) n += t.size;
    return n;
  }

  /** Namespaces that hold objects of any resource. */
  *allInNamespace(namespace: string): Generator<{ resource: string; object: KObject }> {
    for (const [resource, byNs] of this.tables) {
      const t = byNs.get(namespace);
      if (t) for (const object of [...t.values()]) yield { resource, object };
    }
  }

  /** The object with this uid, if it still exists. */
  getByUid(uid: string): KObject | undefined {
    const ref = this.byUid.get(uid);
    return ref ? this.get(ref.resource, ref.namespace, ref.name) : undefined;
  }

  dependents(ownerUid: string): ObjectRef[] {
    return [...(this.byOwner.get(ownerUid)?.values() ?? [])];
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stores `obj` (stamping a new resourceVersion) and notifies listeners. Returns the stored object. */
  put(resource: string, obj: KObject): KObject {
    const namespace = obj.metadata.namespace ?? '';
    const name = obj.metadata.name as string;
    const t = this.table(resource, namespace, true) as Map<string, KObject>;
    const previous = t.get(name);
    const rv = ++this.rv;
    const stored: KObject = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv) } };
    t.set(name, stored);
    if (stored.metadata.uid && !previous) this.byUid.set(stored.metadata.uid, { resource, namespace, name });
    this.reindexOwners(resource, previous, stored);
    this.emit(previous ? 'MODIFIED' : 'ADDED', resource, stored, previous, rv);
    return stored;
  }

  /** Removes the object; the DELETED event carries it with a new resourceVersion. */
  remove(resource: string, namespace: string, name: string): KObject | undefined {
    const t = this.table(resource, namespace, false);
    const previous = t?.get(name);
    if (!t || !previous) return undefined;
    t.delete(name);
    if (previous.metadata.uid) this.byUid.delete(previous.metadata.uid);
    const rv = ++this.rv;
    const gone: KObject = { ...previous, metadata: { ...previous.metadata, resourceVersion: String(rv) } };
    this.reindexOwners(resource, previous, undefined);
    this.emit('DELETED', resource, gone, previous, rv);
    return gone;
  }

  private emit(
    type: WatchEventType,
    resource: string,
    object: KObject,
    previous: KObject | undefined,
    rv: number,
  ): void {
    const event: StoreEvent = { type, resource, object, previous, rv };
    this.history.push(event);
    for (const l of this.listeners) l(event);
  }

  private reindexOwners(resource: string, before: KObject | undefined, after: KObject | undefined): void {
    const ref = after ?? before;
    if (!ref) return;
    const key = `${resource}\u0000${ref.metadata.namespace ?? ''}\u0000${ref.metadata.name}`;
    const oldOwners = before?.metadata.ownerReferences ?? [];
    const newOwners = after?.metadata.ownerReferences ?? [];
    if (oldOwners === newOwners) return;
    for (const o of oldOwners) {
      if (newOwners.some((n) => n.uid === o.uid)) continue;
      const set = this.byOwner.get(o.uid);
      set?.delete(key);
      if (set && set.size === 0) this.byOwner.delete(o.uid);
    }
    for (const o of newOwners) {
      let set = this.byOwner.get(o.uid);
      if (!set) {
        set = new Map();
        this.byOwner.set(o.uid, set);
      }
      set.set(key, { resource, namespace: ref.metadata.namespace ?? '', name: ref.metadata.name as string });
    }
  }
}

function compareObjects(a: KObject, b: KObject): number {
  const an = a.metadata.namespace ?? '';
  const bn = b.metadata.namespace ?? '';
  if (an !== bn) return an < bn ? -1 : 1;
  const aname = a.metadata.name ?? '';
  const bname = b.metadata.name ?? '';
  return aname < bname ? -1 : aname > bname ? 1 : 0;
}
