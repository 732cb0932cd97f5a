import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { RedisService } from '@troupe/queue';
import { LoadTracker } from './load-tracker';

/** Redis names shared with the autoscaler (contract: gateway writes, autoscaler reads). */
export const GATEWAY_LOAD_KEY_PREFIX = 'troupe:gateway:load:';
export const GATEWAY_PROCESSES_KEY = 'troupe:gateway:processes';
export const AUTOSCALER_WAKE_CHANNEL = 'troupe:autoscaler:wake';
const REPORT_INTERVAL_MS = 1_000;
const LOAD_TTL_MS = 5_000;
/** Members of the process set older than this are removed by the writer (readers ignore > 10 s). */
const PROCESS_PRUNE_MS = 60_000;
const WAKE_MIN_INTERVAL_MS = 1_000;

/**
 * What a gateway process tells the autoscaler through Redis:
 * - its load: hash `troupe:gateway:load:<processId>` {serviceId: {"inflight","held"}} rewritten every
 *   second (and at once when a service gets its first held request), TTL 5 s, and its id in the sorted
 *   set `troupe:gateway:processes` scored with the time of the write;
 * - wake-ups: `{"serviceId","at"}` on `troupe:autoscaler:wake` for a service scaled to zero that has
 *   held requests, at most once a second per service, repeated while requests are held.
 * Redis being down only delays these signals; requests are not affected.
 */
@Injectable()
export class GatewaySignals implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(GatewaySignals.name);
  readonly processId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly lastWake = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private writing = false;
  private failures = 0;

  constructor(
    private readonly redis: RedisService,
    private readonly load: LoadTracker,
  ) {}

  onApplicationBootstrap(): void {
    this.load.onFirstHeld((serviceId) => {
      this.wake(serviceId);
      void this.report();
    });
    this.timer = setInterval(() => void this.report(), REPORT_INTERVAL_MS);
    this.timer.unref();
    void this.report();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.redis.client
      .multi()
      .del(this.loadKey)
      .zrem(GATEWAY_PROCESSES_KEY, this.processId)
      .exec()
      .catch(() => undefined);
  }

  get loadKey(): string {
    return GATEWAY_LOAD_KEY_PREFIX + this.processId;
  }

  /** Asks the autoscaler to start a group of a service scaled to zero (rate-limited per service). */
  wake(serviceId: string, now = Date.now()): void {
    if (now - (this.lastWake.get(serviceId) ?? 0) < WAKE_MIN_INTERVAL_MS) return;
    this.lastWake.set(serviceId, now);
    this.redis
      .publish(AUTOSCALER_WAKE_CHANNEL, JSON.stringify({ serviceId, at: now }))
      .catch((err: Error) => this.logger.warn(`wake-up of ${serviceId} not published: ${err.message}`));
  }

  /** Writes the load hash and the process heartbeat; re-sends wake-ups for services still holding. */
  async report(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    const now = Date.now();
    try {
      const snapshot = this.load.snapshot();
      const tx = this.redis.client.multi().del(this.loadKey);
      if (snapshot.length > 0) {
        const fields: string[] = [];
        for (const [id, l] of snapshot) {
          fields.push(id, JSON.stringify({ inflight: l.inflight, held: l.held }));
          if (l.held > 0) this.wake(id, now);
        }
        tx.hset(this.loadKey, ...fields).pexpire(this.loadKey, LOAD_TTL_MS);
      }
      await tx
        .zadd(GATEWAY_PROCESSES_KEY, now, this.processId)
        .zremrangebyscore(GATEWAY_PROCESSES_KEY, '-inf', now - PROCESS_PRUNE_MS)
        .exec();
      if (this.failures > 0) this.logger.log(`gateway load reported again after ${this.failures} failures`);
      this.failures = 0;
    } catch (err) {
      if (this.failures++ % 30 === 0)
        this.logger.warn(`gateway load not reported: ${(err as Error).message}`);
    } finally {
      this.writing = false;
    }
  }
}
