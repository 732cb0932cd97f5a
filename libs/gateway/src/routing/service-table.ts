import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig, InjectConfig } from '@troupe/config';
import { SERVICES_CHANGED_CHANNEL } from '@troupe/core';
import { RedisService } from '@troupe/queue';
import { buildIndex, ServiceEntry, ServiceIndex } from './service-entry';
import { ServiceTableRepository } from './service-table.repository';

type Listener = (services: readonly ServiceEntry[]) => void;

/**
 * Every live service, in memory: loaded at start, reloaded at once when a service change is announced
 * on Redis (`troupe:services:changed`) and every GATEWAY_SERVICE_REFRESH_MS (a missed message, a
 * Redis outage). A failed reload keeps the last table.
 */
@Injectable()
export class ServiceTable implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ServiceTable.name);
  private current: readonly ServiceEntry[] = [];
  private idx: ServiceIndex = buildIndex([], []);
  private byIdMap = new Map<string, ServiceEntry>();
  private readonly listeners = new Set<Listener>();
  private timer?: NodeJS.Timeout;
  private loading?: Promise<void>;
  private again = false;
  private unsubscribe?: () => void;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly repo: ServiceTableRepository,
    private readonly redis: RedisService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.unsubscribe = await this.redis.subscribe(SERVICES_CHANGED_CHANNEL, () => void this.reload());
    await this.reload();
    this.timer = setInterval(() => void this.reload(), this.config.gateway.serviceRefreshMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.unsubscribe?.();
  }

  get services(): readonly ServiceEntry[] {
    return this.current;
  }

  get index(): ServiceIndex {
    return this.idx;
  }

  byId(id: string): ServiceEntry | undefined {
    return this.byIdMap.get(id);
  }

  /** Called after every successful load with the new table. */
  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Loads the table; concurrent calls coalesce into at most one more load after the running one. */
  reload(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      do {
        this.again = false;
        try {
          const { services, projects } = await this.repo.load();
          this.current = services;
          this.idx = buildIndex(services, projects);
          this.byIdMap = new Map(services.map((s) => [s.id, s]));
          for (const l of this.listeners) l(services);
        } catch (err) {
          this.logger.warn(`service table not reloaded (keeping the last one): ${(err as Error).message}`);
        }
      } while (this.again);
    })().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }
}
