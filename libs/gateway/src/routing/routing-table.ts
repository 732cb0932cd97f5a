import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig, InjectConfig } from '@troupe/config';
import { KubeCacheEvent, KubeWatchCache, LeaderEndpoint } from '@troupe/kube';
import type { PickCandidate } from '../picker/picker';
import { PrefixIndex } from '../picker/prefix-index';
import type { ServiceEntry } from './service-entry';
import { ServiceTable } from './service-table';

/** A ready group's leader as the proxy uses it; `outstanding` is this process's in-flight count. */
export interface UpstreamEndpoint extends PickCandidate {
  group: number;
  pod: string;
  /** `http://ip:port` */
  origin: string;
  outstanding: number;
  waiting?: number;
}

export interface Route {
  service: ServiceEntry;
  endpoints: UpstreamEndpoint[];
  /** Prompt prefixes this process recently sent to each ready group (cache-aware routing). */
  prefixes: PrefixIndex;
}

type ReadyListener = (serviceId: string) => void;

/**
 * Ready leader endpoints per service, in memory, from the `libs/kube` watch cache: recomputed on every
 * LWS or pod event of the service (so within the watch's latency of a change), never an unready or
 * terminating leader (the cache's `readyLeaders`). Endpoint objects survive recomputation while the
 * same pod keeps the same address, so in-flight counts and scraped queue lengths stay attached.
 */
@Injectable()
export class RoutingTable implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RoutingTable.name);
  private readonly routes = new Map<string, Route>();
  /** `namespace/lwsName` → service id. */
  private readonly byLws = new Map<string, string>();
  private readonly readyListeners = new Set<ReadyListener>();
  private unsubscribeKube?: () => void;
  private unsubscribeTable?: () => void;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly cache: KubeWatchCache,
    private readonly table: ServiceTable,
  ) {}

  get kubeConfigured(): boolean {
    return this.cache.configured;
  }

  onApplicationBootstrap(): void {
    if (this.cache.configured && this.config.kube) {
      this.cache.start([this.config.kube.namespace]);
      this.unsubscribeKube = this.cache.onChange((e) => this.onKubeEvent(e));
    }
    this.unsubscribeTable = this.table.onChange((services) => this.sync(services));
    this.sync(this.table.services);
  }

  onModuleDestroy(): void {
    this.unsubscribeKube?.();
    this.unsubscribeTable?.();
  }

  route(serviceId: string): Route | undefined {
    return this.routes.get(serviceId);
  }

  allRoutes(): IterableIterator<Route> {
    return this.routes.values();
  }

  /**
   * Whether the service is scaled to zero: its LWS asks for 0 groups, or there is no LWS yet while
   * autoscaling may take it to zero. Requests for such a service are held while a group starts.
   */
  scaledToZero(service: ServiceEntry): boolean {
    if (!this.cache.configured) return false;
    const lws = this.cache.getLws(service.namespace, service.lwsName);
    if (lws) return (lws.spec.replicas ?? 1) === 0;
    return service.mayScaleToZero;
  }

  /** Called whenever a service goes from no ready group to at least one. */
  onReady(listener: ReadyListener): () => void {
    this.readyListeners.add(listener);
    return () => this.readyListeners.delete(listener);
  }

  private sync(services: readonly ServiceEntry[]): void {
    const live = new Set<string>();
    const namespaces = new Set<string>();
    this.byLws.clear();
    for (const s of services) {
      live.add(s.id);
      namespaces.add(s.namespace);
      this.byLws.set(`${s.namespace}/${s.lwsName}`, s.id);
      const existing = this.routes.get(s.id);
      if (existing) existing.service = s;
      this.recompute(s);
    }
    for (const id of [...this.routes.keys()]) if (!live.has(id)) this.routes.delete(id);
    if (this.cache.configured && this.config.kube) {
      const missing = [...namespaces].filter((ns) => !this.cache.namespaces().includes(ns));
      if (missing.length > 0) this.cache.start(missing);
    }
  }

  private onKubeEvent(e: KubeCacheEvent): void {
    const lwsName = e.resource === 'lws' ? e.name : e.lwsName;
    const id = this.byLws.get(`${e.namespace}/${lwsName}`);
    if (!id) return;
    const route = this.routes.get(id);
    if (route) this.recompute(route.service);
  }

  private recompute(service: ServiceEntry): void {
    let leaders: LeaderEndpoint[] = [];
    if (this.cache.configured) {
      try {
        leaders = this.cache.readyLeaders(service.namespace, service.lwsName);
      } catch (err) {
        this.logger.warn(`endpoints of ${service.name}: ${(err as Error).message}`);
      }
    }
    const route = this.routes.get(service.id);
    const before = route?.endpoints ?? [];
    const previous = new Map(before.map((e) => [e.id, e]));
    const endpoints = leaders.map((l): UpstreamEndpoint => {
      const id = `${l.podName}@${l.ip}:${l.port}`;
      return (
        previous.get(id) ?? {
          id,
          group: l.groupIndex,
          pod: l.podName,
          origin: `http://${l.ip}:${l.port}`,
          outstanding: 0,
        }
      );
    });
    if (route) {
      route.endpoints = endpoints;
      // A group that is no longer ready may come back with an empty cache (restart): forget it now.
      if (before.length > 0) {
        const now = new Set(endpoints.map((e) => e.id));
        for (const e of before) if (!now.has(e.id)) route.prefixes.dropGroup(e.id);
      }
    } else this.routes.set(service.id, { service, endpoints, prefixes: new PrefixIndex() });
    if (before.length === 0 && endpoints.length > 0) {
      for (const l of this.readyListeners) l(service.id);
    }
  }
}
