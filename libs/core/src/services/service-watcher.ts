import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig, InjectConfig } from '@troupe/config';
import { KubeCacheEvent, KubeWatchCache } from '@troupe/kube';
import { ReconcileService } from './reconcile.service';
import { ServiceRepository } from './service.repository';

/** Changes to one LWS and its pods within this window are written as one status update. */
const STATUS_DEBOUNCE_MS = 20;

/**
 * Worker role: follows the cluster through the watch cache and writes each service's observed state
 * within moments of a change (debounced per service). An LWS that disappears without Troupe deleting
 * it is re-applied at once.
 */
@Injectable()
export class ServiceWatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ServiceWatcher.name);
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Keys whose LWS was seen deleted since the last refresh (the debounce must not lose it). */
  private readonly lwsDeleted = new Set<string>();
  private unsubscribe?: () => void;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly cache: KubeWatchCache,
    private readonly reconciler: ReconcileService,
    private readonly services: ServiceRepository,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.cache.configured || !this.config.kube) return;
    this.cache.start([this.config.kube.namespace]);
    this.unsubscribe = this.cache.onChange((e) => this.onEvent(e));
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
    for (const t of this.timers.values()) clearTimeout(t);
  }

  private onEvent(e: KubeCacheEvent): void {
    const lwsName = e.resource === 'lws' ? e.name : e.lwsName;
    const key = `${e.namespace}/${lwsName}`;
    if (e.resource === 'lws' && e.type === 'deleted') this.lwsDeleted.add(key);
    if (this.timers.has(key)) return;
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        // Refreshes of one service never overlap: ReconcileService.refreshStatus serialises them.
        const deleted = this.lwsDeleted.delete(key);
        void this.refresh(e.namespace, lwsName, deleted).catch((err: Error) =>
          this.logger.warn(`status of ${key}: ${err.message}`),
        );
      }, STATUS_DEBOUNCE_MS),
    );
  }

  private async refresh(namespace: string, name: string, lwsDeleted: boolean): Promise<void> {
    const row = await this.services.findCoreLiveInNamespace(namespace, name);
    if (!row) return;
    if (lwsDeleted && !row.deletedAt) {
      await this.services.addEvent(
        row.id,
        'Warning',
        'LeaderWorkerSetMissing',
        'the LeaderWorkerSet was deleted outside Troupe; re-applying it',
      );
      // reconcile refreshes the status when it has applied.
      return this.reconciler.reconcile(row.id).catch(() => undefined);
    }
    await this.reconciler.refreshStatus(row.id);
  }
}
