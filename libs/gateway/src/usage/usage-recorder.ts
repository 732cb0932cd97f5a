import { Injectable, Logger, OnApplicationShutdown, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { isUuid } from '@troupe/common';
import { AppConfig, InjectConfig } from '@troupe/config';
import { PrismaService } from '@troupe/db';
import { UsageBuffer } from './usage-buffer';
import { UsageMetrics } from './usage.metrics';
import { UsageRepository } from './usage.repository';
import { UsageEntry } from './usage.types';

const MAX_BACKOFF_MS = 30_000;
const INT32_MAX = 2 ** 31 - 1;

/**
 * Usage accounting off the hot path: `record()` only appends to memory; batches are written with one
 * `INSERT … SELECT FROM unnest(…)` (UsageRepository) every GATEWAY_USAGE_FLUSH_MS, or as soon as GATEWAY_USAGE_BATCH_SIZE entries wait.
 * While PostgreSQL is unreachable the entries stay in memory (bounded by GATEWAY_USAGE_BUFFER_MAX;
 * beyond it new ones are dropped and counted) and the write is retried with backoff. On shutdown
 * everything left is written.
 */
@Injectable()
export class UsageRecorder implements OnModuleInit, OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger(UsageRecorder.name);
  private readonly buffer: UsageBuffer<UsageEntry>;
  private readonly flushMs: number;
  private readonly batchSize: number;
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private failures = 0;
  private stopped = false;
  private lastDropWarning = 0;

  constructor(
    @InjectConfig() config: AppConfig,
    private readonly usage: UsageRepository,
    private readonly metrics: UsageMetrics,
    private readonly prisma: PrismaService,
  ) {
    this.buffer = new UsageBuffer(config.gatewayLimits.usage.bufferMax);
    this.flushMs = config.gatewayLimits.usage.flushMs;
    this.batchSize = config.gatewayLimits.usage.batchSize;
    metrics.watchPending(() => this.buffer.pending);
  }

  onModuleInit(): void {
    this.schedule(this.flushMs);
  }

  /** Synchronous and cheap: the entry is written later, in a batch. */
  record(entry: UsageEntry): void {
    const clean = sanitize(entry);
    if (!clean) {
      this.metrics.dropped.inc({ cause: 'invalid' });
      this.logger.warn(`usage record without a valid project id dropped: ${JSON.stringify(entry.projectId)}`);
      return;
    }
    if (!this.buffer.push(clean)) {
      this.metrics.dropped.inc({ cause: 'buffer_full' });
      const now = Date.now();
      if (now - this.lastDropWarning > 10_000) {
        this.lastDropWarning = now;
        this.logger.warn(`usage buffer full (${this.buffer.pending} waiting): dropping new usage records`);
      }
      return;
    }
    if (this.buffer.pending >= this.batchSize && !this.flushing && this.failures === 0) {
      setImmediate(() => void this.flush());
    }
  }

  /**
   * Writes what is waiting, batch after batch, until empty or a write fails (then the batch goes back
   * and the next attempt waits longer). Concurrent calls share one run.
   */
  flush(): Promise<void> {
    this.flushing ??= this.writeAll().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Entries waiting to be written. */
  get pending(): number {
    return this.buffer.pending;
  }

  /** Final flush while the database connection is still open (global modules are destroyed last). */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.drain();
    await this.usage.close();
  }

  /**
   * Requests that finished while the HTTP server was closing may have recorded after the final flush:
   * write them too (the insert pool and PrismaService reconnect on demand), then close them again.
   */
  async onApplicationShutdown(): Promise<void> {
    if (this.buffer.pending === 0) return;
    await this.drain();
    await this.usage.close();
    await this.prisma.$disconnect().catch(() => undefined);
  }

  private async drain(): Promise<void> {
    for (let attempt = 0; attempt < 3 && this.buffer.pending > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 200 * attempt));
      await this.flush();
    }
    if (this.buffer.pending > 0) {
      const lost = this.buffer.take(this.buffer.pending);
      this.buffer.done(lost);
      this.metrics.dropped.inc({ cause: 'shutdown' }, lost.length);
      this.logger.error(`${lost.length} usage records could not be written before shutdown`);
    }
  }

  private async writeAll(): Promise<void> {
    while (this.buffer.pending > 0) {
      const batch = this.buffer.take(this.batchSize);
      try {
        const { written, dropped } = await this.usage.insertBatch(batch);
        this.buffer.done(batch);
        this.metrics.written.inc(written);
        if (dropped > 0) this.metrics.dropped.inc({ cause: 'project_deleted' }, dropped);
        if (this.failures > 0) this.logger.log('usage records are written again');
        this.failures = 0;
      } catch (err) {
        this.buffer.putBack(batch);
        this.metrics.flushFailures.inc();
        if (this.failures++ === 0) {
          this.logger.warn(
            `could not write usage records (${this.buffer.pending} kept, retrying): ${(err as Error).message}`,
          );
        }
        return;
      }
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.flush().finally(() => {
        const backoff = this.failures === 0 ? 0 : Math.min(MAX_BACKOFF_MS, this.flushMs * 2 ** this.failures);
        this.schedule(Math.max(this.flushMs, backoff));
      });
    }, delayMs);
    this.timer.unref();
  }
}

/** Values the table accepts, so that one odd entry can never make a whole batch fail forever. */
function sanitize(e: UsageEntry): UsageEntry | null {
  if (!isUuid(e.projectId)) return null;
  const uuidOrNull = (v: string | null) => (v && isUuid(v) ? v : null);
  const int = (v: number, max = INT32_MAX) =>
    Number.isFinite(v) ? Math.min(max, Math.max(0, Math.round(v))) : 0;
  return {
    projectId: e.projectId,
    serviceId: uuidOrNull(e.serviceId),
    serviceName: String(e.serviceName).slice(0, 63),
    apiKeyId: uuidOrNull(e.apiKeyId),
    endpoint: String(e.endpoint).slice(0, 32),
    status: int(e.status, 32_767),
    promptTokens: int(e.promptTokens),
    completionTokens: int(e.completionTokens),
    durationMs: int(e.durationMs),
    createdAt: e.createdAt instanceof Date && !Number.isNaN(e.createdAt.getTime()) ? e.createdAt : new Date(),
  };
}
