// The platform's view of its LeaderWorkerSets and their pods, kept current by watches: what the status
// writer, the gateway's routing table and the autoscaler read instead of asking the API server.

import { Logger } from '@nestjs/common';
import { LWS_GROUP, LWS_LABELS, LWS_PLURAL, LWS_VERSION, LeaderWorkerSet, TROUPE_LABELS } from '@troupe/lws';
import { isLeaderWorkerSet, isPod } from './kube-client';
import { leaderEndpoints, lwsNameOf } from './pods';
import {
  CacheEvent,
  CacheEventType,
  ResourceCache,
  ResourceSource,
  ResourceCacheStats,
} from './resource-cache';
import type { LeaderEndpoint, Pod } from './types';

export type KubeCacheEvent =
  | {
      resource: 'lws';
      type: CacheEventType;
      namespace: string;
      name: string;
      object: LeaderWorkerSet;
      previous?: LeaderWorkerSet;
    }
  | {
      resource: 'pod';
      type: CacheEventType;
      namespace: string;
      name: string;
      /** The LWS the pod belongs to (label `leaderworkerset.sigs.k8s.io/name`). */
      lwsName: string;
      object: Pod;
      previous?: Pod;
    };

export type KubeCacheListener = (event: KubeCacheEvent) => void;

/**
 * Watch cache of LeaderWorkerSets labelled `troupe.io/service` and of the pods of every LWS
 * (`leaderworkerset.sigs.k8s.io/name`) in the namespaces it was started for. Also the injection token;
 * `ClusterWatchCache` watches a cluster, `DisabledKubeWatchCache` throws when Kubernetes is not configured.
 */
export abstract class KubeWatchCache {
  abstract readonly configured: boolean;
  /** Starts watching these namespaces (idempotent; more namespaces can be added later). */
  abstract start(namespaces: string[]): void;
  /** Resolves when every started watch has loaded its first list. */
  abstract synced(): Promise<void>;
  abstract stop(): Promise<void>;
  abstract namespaces(): string[];
  abstract getLws(namespace: string, name: string): LeaderWorkerSet | undefined;
  abstract listLws(namespace?: string): LeaderWorkerSet[];
  /** Pods of an LWS, leaders and workers, sorted by name. */
  abstract podsOf(namespace: string, lwsName: string): Pod[];
  /** One endpoint per ready group (leader Running, Ready, not terminating, with an IP), by group index. */
  abstract readyLeaders(namespace: string, lwsName: string): LeaderEndpoint[];
  /** Subscribes to every change; returns the unsubscribe function. Listeners run synchronously. */
  abstract onChange(listener: KubeCacheListener): () => void;
}

export interface ClusterWatchCacheOptions {
  /** `timeoutSeconds` of each watch (default: random 5–10 min). */
  watchTimeoutSeconds?: number;
  backoff?: { initialMs: number; maxMs: number };
  /** Label selector of the LeaderWorkerSets watched. Default `troupe.io/service` (present). */
  lwsSelector?: string;
}

interface NamespaceWatch {
  lws: ResourceCache<LeaderWorkerSet>;
  pods: ResourceCache<Pod>;
}

function decodeLws(raw: unknown): LeaderWorkerSet | undefined {
  return isLeaderWorkerSet(raw) ? raw : undefined;
}

function decodePod(raw: unknown): Pod | undefined {
  return isPod(raw) ? raw : undefined;
}

export class ClusterWatchCache extends KubeWatchCache {
  readonly configured = true;
  private readonly logger = new Logger('KubeWatchCache');
  private readonly watches = new Map<string, NamespaceWatch>();
  private readonly listeners = new Set<KubeCacheListener>();
  /** `ns/lwsName` → pod name → pod. */
  private readonly podIndex = new Map<string, Map<string, Pod>>();
  /** `ns/lwsName` → ready leaders, computed on demand, dropped when a pod of the LWS changes. */
  private readonly leaderMemo = new Map<string, LeaderEndpoint[]>();

  constructor(
    private readonly source: ResourceSource,
    private readonly options: ClusterWatchCacheOptions = {},
  ) {
    super();
  }

  start(namespaces: string[]): void {
    for (const ns of namespaces) {
      if (this.watches.has(ns)) continue;
      const common = {
        source: this.source,
        watchTimeoutSeconds: this.options.watchTimeoutSeconds,
        backoff: this.options.backoff,
      };
      const lws = new ResourceCache<LeaderWorkerSet>({
        ...common,
        name: `leaderworkersets in ${ns}`,
        path: `/apis/${LWS_GROUP}/${LWS_VERSION}/namespaces/${encodeURIComponent(ns)}/${LWS_PLURAL}`,
        labelSelector: this.options.lwsSelector ?? TROUPE_LABELS.service,
        decode: decodeLws,
        onError: (err, phase) => this.warn(`leaderworkersets in ${ns}`, phase, err),
        onRecovered: () => this.recovered(`leaderworkersets in ${ns}`),
      });
      const pods = new ResourceCache<Pod>({
        ...common,
        name: `pods in ${ns}`,
        path: `/api/v1/namespaces/${encodeURIComponent(ns)}/pods`,
        labelSelector: LWS_LABELS.name,
        decode: decodePod,
        onError: (err, phase) => this.warn(`pods in ${ns}`, phase, err),
        onRecovered: () => this.recovered(`pods in ${ns}`),
      });
      lws.onEvent((ev) => this.onLws(ns, ev));
      pods.onEvent((ev) => this.onPod(ev));
      this.watches.set(ns, { lws, pods });
      lws.start();
      pods.start();
    }
  }

  async synced(): Promise<void> {
    await Promise.all([...this.watches.values()].flatMap((w) => [w.lws.synced(), w.pods.synced()]));
  }

  /** `true` when every watch has loaded its first list. */
  get hasSynced(): boolean {
    return [...this.watches.values()].every((w) => w.lws.hasSynced && w.pods.hasSynced);
  }

  async stop(): Promise<void> {
    const all = [...this.watches.values()];
    this.watches.clear();
    await Promise.all(all.flatMap((w) => [w.lws.stop(), w.pods.stop()]));
    this.podIndex.clear();
    this.leaderMemo.clear();
  }

  namespaces(): string[] {
    return [...this.watches.keys()];
  }

  /** Counters of each watch (lists, watches, relists after 410, errors), for diagnostics. */
  stats(): Record<string, ResourceCacheStats> {
    const out: Record<string, ResourceCacheStats> = {};
    for (const w of this.watches.values()) {
      out[w.lws.name] = w.lws.stats();
      out[w.pods.name] = w.pods.stats();
    }
    return out;
  }

  getLws(namespace: string, name: string): LeaderWorkerSet | undefined {
    return this.watches.get(namespace)?.lws.get(namespace, name);
  }

  listLws(namespace?: string): LeaderWorkerSet[] {
    const caches = namespace === undefined ? [...this.watches.values()] : [this.watches.get(namespace)];
    return caches.flatMap((w) => (w ? w.lws.list() : []));
  }

  podsOf(namespace: string, lwsName: string): Pod[] {
    const pods = this.podIndex.get(`${namespace}/${lwsName}`);
    return pods ? [...pods.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)) : [];
  }

  readyLeaders(namespace: string, lwsName: string): LeaderEndpoint[] {
    const key = `${namespace}/${lwsName}`;
    let leaders = this.leaderMemo.get(key);
    if (!leaders) {
      leaders = leaderEndpoints(this.podIndex.get(key)?.values() ?? []);
      this.leaderMemo.set(key, leaders);
    }
    return leaders.map((e) => ({ ...e }));
  }

  onChange(listener: KubeCacheListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: KubeCacheEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.logger.error(
          `watch cache listener failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        );
      }
    }
  }

  /** Failures in a row per watch: the first and every 20th are logged, then the recovery. */
  private readonly failures = new Map<string, number>();

  private warn(what: string, phase: string, err: unknown): void {
    const n = (this.failures.get(what) ?? 0) + 1;
    this.failures.set(what, n);
    if (n !== 1 && n % 20 !== 0) return;
    const times = n === 1 ? '' : ` (${n} failures in a row)`;
    this.logger.warn(
      `${phase} of ${what} failed${times}, retrying: ${err instanceof Error ? err.message : String(err)}`,
    );
  }

  private recovered(what: string): void {
    const n = this.failures.get(what);
    if (!n) return;
    this.failures.delete(what);
    this.logger.log(`watch of ${what} recovered after ${n} failure${n === 1 ? '' : 's'}`);
  }

  private onLws(namespace: string, ev: CacheEvent<LeaderWorkerSet>): void {
    this.emit({
      resource: 'lws',
      type: ev.type,
      namespace,
      name: ev.object.metadata.name ?? '',
      object: ev.object,
      ...(ev.previous ? { previous: ev.previous } : {}),
    });
  }

  private onPod(ev: CacheEvent<Pod>): void {
    const pod = ev.object;
    const ns = pod.metadata.namespace;
    const lwsName = lwsNameOf(pod) ?? (ev.previous ? lwsNameOf(ev.previous) : undefined);
    const previousLws = ev.previous ? lwsNameOf(ev.previous) : undefined;
    if (previousLws && previousLws !== lwsName) this.unindex(ns, previousLws, pod.metadata.name);
    if (!lwsName) return;
    if (ev.type === 'deleted') this.unindex(ns, lwsName, pod.metadata.name);
    else {
      const key = `${ns}/${lwsName}`;
      let pods = this.podIndex.get(key);
      if (!pods) this.podIndex.set(key, (pods = new Map()));
      pods.set(pod.metadata.name, pod);
      this.leaderMemo.delete(key);
    }
    this.emit({
      resource: 'pod',
      type: ev.type,
      namespace: ns,
      name: pod.metadata.name,
      lwsName,
      object: pod,
      ...(ev.previous ? { previous: ev.previous } : {}),
    });
  }

  private unindex(ns: string, lwsName: string, podName: string): void {
    const key = `${ns}/${lwsName}`;
    const pods = this.podIndex.get(key);
    if (!pods) return;
    pods.delete(podName);
    if (pods.size === 0) this.podIndex.delete(key);
    this.leaderMemo.delete(key);
  }
}
