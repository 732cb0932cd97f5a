import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig, InjectConfig } from '@troupe/config';
import {
  ActingLease,
  AUTOSCALER_WAKE_CHANNEL,
  AutoscalerMetrics,
  AutoscalerService,
  AutoscalingRepository,
  autoscalerLeaseKey,
  mayWrite,
  RedisLease,
  renewDelayMs,
} from '@troupe/core';
import { KubeWatchCache } from '@troupe/kube';
import { RedisService } from '@troupe/queue';

/**
 * Worker role: the autoscaler loop. Every worker process contends for one lease in Redis; the holder
 * ticks every autoscaled service each AUTOSCALER_TICK_MS and at once for a service a gateway wakes
 * (`troupe:autoscaler:wake`). A holder that cannot renew stops acting before its lease can pass to
 * another process, and every actuation re-checks the lease (see AutoscalerService).
 */
@Injectable()
export class AutoscalerLoop implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Autoscaler');
  private lease?: RedisLease;
  private leaseTimer?: NodeJS.Timeout;
  private tickTimer?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  private stopped = false;
  private ticking: Promise<unknown> = Promise.resolve();
  private leasing: Promise<unknown> = Promise.resolve();

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly autoscaler: AutoscalerService,
    private readonly scaling: AutoscalingRepository,
    private readonly redis: RedisService,
    private readonly cache: KubeWatchCache,
    private readonly metrics: AutoscalerMetrics,
  ) {}

  onApplicationBootstrap(): void {
    const cfg = this.config.autoscaler;
    if (!cfg.enabled || !this.cache.configured) return;
    this.lease = new RedisLease(this.redis.client, {
      key: autoscalerLeaseKey(this.config.queue.prefix),
      ttlMs: cfg.leaseTtlMs,
    });
    this.metrics.leader.set(0);
    // Not awaited: a subscription waits for Redis, and boot must not (the ticks run without it).
    void this.redis
      .subscribe(AUTOSCALER_WAKE_CHANNEL, (message) => this.onWake(message))
      .then((unsubscribe) => {
        if (this.stopped) unsubscribe();
        else this.unsubscribe = unsubscribe;
      })
      .catch((err: Error) =>
        this.logger.warn(`cannot subscribe to ${AUTOSCALER_WAKE_CHANNEL} (ticks still run): ${err.message}`),
      );
    this.scheduleLease(0);
    this.scheduleTick(cfg.tickMs);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.leaseTimer);
    clearTimeout(this.tickTimer);
    this.unsubscribe?.();
    await Promise.allSettled([this.ticking, this.leasing]);
    await this.lease?.release().catch(() => undefined);
    this.metrics.leader.set(0);
  }

  /** Whether this process acts as the autoscaler now. */
  isLeader(): boolean {
    return this.lease?.state().held ?? false;
  }

  private acting(): ActingLease | null {
    const lease = this.lease;
    const fence = lease?.state().fence;
    if (!lease || fence === null || fence === undefined) return null;
    // Enough lease left to finish a Kubernetes write (its client retries within a few seconds).
    const margin = Math.min(2_000, Math.floor(this.config.autoscaler.leaseTtlMs / 4));
    return { fence, mayWrite: async () => mayWrite(await lease.remainingMs(fence).catch(() => -1), margin) };
  }

  private scheduleLease(delayMs: number): void {
    if (this.stopped) return;
    this.leaseTimer = setTimeout(() => {
      this.leasing = this.holdLease().finally(() =>
        this.scheduleLease(renewDelayMs(this.config.autoscaler.leaseTtlMs)),
      );
    }, delayMs);
  }

  private async holdLease(): Promise<void> {
    const lease = this.lease!;
    const wasHeld = lease.state().held;
    try {
      if (wasHeld) {
        if (!(await lease.renew())) this.lost('the lease was taken over');
        return;
      }
      const floor = await this.scaling.maxFence().catch(() => 0);
      const fence = await lease.acquire(floor);
      if (fence !== null && !this.stopped) {
        this.logger.log(`acting as the autoscaler (lease fence ${fence})`);
        this.metrics.leader.set(1);
        this.autoscaler.reset();
        this.kick();
      }
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      if (wasHeld) this.lost(`the lease could not be renewed: ${why}`);
      else this.logger.debug(`lease: ${why}`);
    }
  }

  private lost(why: string): void {
    this.logger.warn(`no longer the autoscaler: ${why}`);
    this.metrics.leader.set(0);
    this.autoscaler.reset();
  }

  private scheduleTick(delayMs: number): void {
    clearTimeout(this.tickTimer);
    if (this.stopped) return;
    this.tickTimer = setTimeout(() => this.kick(), delayMs);
  }

  /** Runs a tick now (unless one runs), then schedules the next one. */
  private kick(): void {
    clearTimeout(this.tickTimer);
    this.ticking = this.ticking
      .then(async () => {
        const lease = this.acting();
        if (!lease || this.stopped) return;
        await this.autoscaler.tickAll(lease);
      })
      .then(() => this.tickFailed(null))
      .catch((err: Error) => this.tickFailed(err))
      .finally(() => this.scheduleTick(this.config.autoscaler.tickMs));
  }

  /** Failures in a row: the first and every 30th are logged (PostgreSQL or Redis away), then the recovery. */
  private failures = 0;

  private tickFailed(err: Error | null): void {
    if (!err) {
      if (this.failures > 0) this.logger.log(`ticks recovered after ${this.failures} failure(s)`);
      this.failures = 0;
      return;
    }
    this.failures++;
    if (this.failures === 1 || this.failures % 30 === 0)
      this.logger.warn(
        `tick failed${this.failures > 1 ? ` (${this.failures} in a row)` : ''}: ${err.message}`,
      );
  }

  private onWake(message: string): void {
    let serviceId: unknown;
    try {
      serviceId = (JSON.parse(message) as { serviceId?: unknown }).serviceId;
    } catch {
      return;
    }
    if (typeof serviceId !== 'string' || serviceId.length === 0) return;
    // Every worker notes it, so that one taking over the lease in the next seconds still wakes the service.
    this.autoscaler.noteWake(serviceId);
    const lease = this.acting();
    if (!lease || this.stopped) return;
    void this.autoscaler
      .tickOne(serviceId, lease)
      .catch((err: Error) => this.logger.warn(`wake tick of ${serviceId} failed: ${err.message}`));
  }
}
