// Records core/v1 Events like client-go's recorder: repeated events are aggregated (count++),
// and each namespace keeps at most `maxPerNamespace` of them.

import { randomBytes } from 'node:crypto';
import type { ClusterApi } from '../api/cluster-api';
import { apiVersionOf } from '../api/resources';
import { RES } from '../kinds';
import type { KObject } from '../types/meta';
import { nowRfc3339 } from '../util/duration';

export interface EventSource {
  component: string;
  host?: string;
}

export class EventRecorder {
  private readonly seen = new Map<string, string>();
  private readonly order = new Map<string, string[]>();

  constructor(
    private readonly api: ClusterApi,
    private readonly maxPerNamespace = 2000,
  ) {}

  record(
    involved: KObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    source: EventSource,
  ): void {
    const namespace = involved.metadata.namespace || 'default';
    const key = `${involved.metadata.uid}\u0000${type}\u0000${reason}\u0000${message}\u0000${source.component}`;
    const def = this.api.def(RES.events);
    const now = nowRfc3339();
    const existingName = this.seen.get(key);
    if (existingName) {
      const existing = this.api.tryGet(def, namespace, existingName);
      if (existing) {
        this.api.update(
          def,
          namespace,
          existingName,
          { ...existing, count: Number(existing.count ?? 1) + 1, lastTimestamp: now },
          { internal: true },
        );
        return;
      }
    }
    const name = `${involved.metadata.name}.${Date.now().toString(16)}${randomBytes(2).toString('hex')}`;
    const involvedDef = this.api.registry.all().find((d) => d.kind === involved.kind);
    const event: KObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        kind: involved.kind,
        namespace: involved.metadata.namespace,
        name: involved.metadata.name,
        uid: involved.metadata.uid,
        apiVersion: involved.apiVersion ?? (involvedDef ? apiVersionOf(involvedDef) : 'v1'),
        resourceVersion: involved.metadata.resourceVersion,
      },
      reason,
      message,
      source,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: source.component,
      reportingInstance: source.host ?? '',
    };
    try {
      this.api.create(def, namespace, event, { internal: true });
    } catch {
      return; // the namespace is gone
    }
    this.seen.set(key, name);
    const names = this.order.get(namespace) ?? [];
    names.push(name);
    this.order.set(namespace, names);
    while (names.length > this.maxPerNamespace) {
      const old = names.shift() as string;
      if (this.api.tryGet(def, namespace, old)) this.api.delete(def, namespace, old);
    }
    if (this.seen.size > this.maxPerNamespace * 4) {
      for (const k of [...this.seen.keys()].slice(0, this.maxPerNamespace)) this.seen.delete(k);
    }
  }
}
