import { randomUUID } from 'node:crypto';
import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { AppConfig, InjectConfig } from '@troupe/config';
import { createRedis } from '@troupe/queue';
import type Redis from 'ioredis';
import { Decision, isUnlimited, Limits, REASONS, refusalMessage, retryAfterSeconds } from './limit-math';
import { limitKeys, SCRIPTS } from './limit-scripts';
import { LimitsMetrics } from './limits.metrics';
import { ProjectLimitsTable } from './limits-table';
import { Admission, CallerRef } from './limits.types';
import { LocalLimiter } from './local-limiter';

const NOTHING_TO_RELEASE: Admission = { ok: true, release: () => undefined };
/** After a Redis failure, how long admissions stay local before Redis is tried again. */
const REDIS_RETRY_MS = 1_000;

/**
 * Per-key gateway limits (requests per minute, tokens per minute, concurrent streams), counted in
 * Redis so that every gateway process shares them: one script call per admission, none at all for a
 * key whose limits are all unlimited.
 *
 * Redis unreachable (not connected, an error, or no answer within GATEWAY_LIMITS_REDIS_TIMEOUT_MS):
 * the gateway fails open to per-process limits — the same arithmetic counted in this process
 * (`LocalLimiter`) — logs a warning once per outage and counts those decisions in
 * `troupe_gateway_limit_local_decisions_total`. It retries Redis a second later. Refusing every
 * request because a counter store is down would turn a Redis hiccup into a full outage.
 */
@Injectable()
export class GatewayLimiter implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(GatewayLimiter.name);
  /** A connection of its own: fails fast (no offline queue, command timeout) instead of queueing. */
  private readonly redis: Redis;
  private readonly processId = randomUUID().slice(0, 8);
  private seq = 0;
  /** Stream slots open in this process, by Redis key: their leases are renewed until released. */
  private readonly openSlots = new Map<string, Set<string>>();
  private readonly local = new LocalLimiter();
  private readonly leaseMs: number;
  private redisRetryAt = 0;
  private degraded = false;
  private renewTimer?: NodeJS.Timeout;

  constructor(
    @InjectConfig() config: AppConfig,
    private readonly table: ProjectLimitsTable,
    private readonly metrics: LimitsMetrics,
  ) {
    this.leaseMs = config.gatewayLimits.streamLeaseMs;
    this.redis = createRedis(config.redis.url, {
      enableOfflineQueue: false,
      commandTimeout: config.gatewayLimits.redisTimeoutMs,
      maxRetriesPerRequest: 0,
    });
    this.redis.on('error', () => undefined); // reported through the failing commands, once per outage
  }

  async onModuleInit(): Promise<void> {
    // Give the connection a moment so the first requests count in Redis; never block the start.
    if (this.redis.status !== 'ready') {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.redis.off('ready', done);
          resolve();
        };
        const timer = setTimeout(done, 2_000);
        this.redis.once('ready', done);
      });
    }
    this.renewTimer = setInterval(() => this.renewLeases(), Math.max(1_000, Math.floor(this.leaseMs / 3)));
    this.renewTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.renewTimer);
    // Free this process's slots now rather than after their lease (best effort).
    const pipeline = this.redis.pipeline();
    for (const [key, slots] of this.openSlots) pipeline.zrem(key, ...slots);
    this.openSlots.clear();
    if (this.redis.status === 'ready') await pipeline.exec().catch(() => undefined);
    this.redis.disconnect();
  }

  /** Whether one more request of this caller may start; at most one Redis round trip. */
  async admit(caller: CallerRef, opts: { stream: boolean }): Promise<Admission> {
    const limits = this.table.limitsFor(caller.projectId);
    if (isUnlimited(limits, opts.stream)) return NOTHING_TO_RELEASE;
    const subject = subjectOf(caller);
    if (this.redisUsable()) {
      const keys = limitKeys(subject);
      const slot = `${this.processId}:${++this.seq}`;
      try {
        const reply = (await SCRIPTS.admit.run(
          this.redis,
          [keys.rpm, keys.tpm, keys.streams],
          [
            '',
            limits.requestsPerMinute,
            limits.tokensPerMinute,
            limits.concurrentStreams,
            opts.stream ? 1 : 0,
            slot,
            this.leaseMs,
          ],
        )) as number[];
        this.redisAnswered();
        if (reply[0] !== 1) {
          const reason = REASONS[reply[1] - 1];
          if (!reason) throw new Error(`unexpected admit reply ${JSON.stringify(reply)}`);
          return this.refuse(limits, { ok: false, reason, retryAfterMs: reply[2] });
        }
        if (!opts.stream || limits.concurrentStreams === 0) return NOTHING_TO_RELEASE;
        return { ok: true, release: this.holdRedisSlot(keys.streams, slot) };
      } catch (err) {
        this.redisFailed(err);
        // The script may still run after a timeout: make sure its slot does not linger.
        if (opts.stream) void this.redis.zrem(keys.streams, slot).catch(() => undefined);
      }
    }
    return this.admitLocally(subject, limits, opts.stream);
  }

  /** Charges a finished request's prompt + completion tokens to its key. Fire and forget. */
  chargeTokens(caller: CallerRef, tokens: number): void {
    const tpm = this.table.limitsFor(caller.projectId).tokensPerMinute;
    if (tpm <= 0 || !(tokens > 0)) return;
    const subject = subjectOf(caller);
    const amount = Math.ceil(tokens);
    if (!this.redisUsable()) {
      this.local.charge(subject, tpm, amount, Date.now());
      return;
    }
    SCRIPTS.charge.run(this.redis, [limitKeys(subject).tpm], ['', tpm, amount]).then(
      () => this.redisAnswered(),
      (err: unknown) => {
        this.redisFailed(err);
        this.local.charge(subject, tpm, amount, Date.now());
      },
    );
  }

  private admitLocally(subject: string, limits: Limits, stream: boolean): Admission {
    this.metrics.localDecisions.inc();
    const decision = this.local.admit(subject, limits, stream, Date.now());
    if (!decision.ok) return this.refuse(limits, decision);
    if (!stream || limits.concurrentStreams === 0) return NOTHING_TO_RELEASE;
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.local.releaseStream(subject);
      },
    };
  }

  private refuse(limits: Limits, d: Extract<Decision, { ok: false }>): Admission {
    this.metrics.refusals.inc({ reason: d.reason });
    const seconds = retryAfterSeconds(d.retryAfterMs);
    return {
      ok: false,
      reason: d.reason,
      retryAfterSeconds: seconds,
      message: refusalMessage(d.reason, limits, seconds),
    };
  }

  private holdRedisSlot(key: string, slot: string): () => void {
    let slots = this.openSlots.get(key);
    if (!slots) this.openSlots.set(key, (slots = new Set()));
    slots.add(slot);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const held = this.openSlots.get(key);
      held?.delete(slot);
      if (held?.size === 0) this.openSlots.delete(key);
      // If this fails (Redis away), the slot is no longer renewed and its lease frees it.
      this.redis.zrem(key, slot).catch(() => undefined);
    };
  }

  /** Extends the leases of this process's open slots, so only a dead process's slots expire. */
  private renewLeases(): void {
    this.local.prune(Date.now());
    if (!this.redisUsable()) return;
    for (const [key, slots] of this.openSlots) {
      SCRIPTS.renew.run(this.redis, [key], ['', this.leaseMs, ...slots]).catch((err: unknown) => {
        this.redisFailed(err);
      });
    }
  }

  private redisUsable(): boolean {
    if (this.redis.status !== 'ready') {
      if (!this.degraded) this.redisFailed(new Error(`connection ${this.redis.status}`));
      return false;
    }
    return Date.now() >= this.redisRetryAt;
  }

  private redisAnswered(): void {
    if (!this.degraded) return;
    this.degraded = false;
    this.metrics.redisUp.set(1);
    this.logger.log('Redis answers again: gateway limits are shared by all processes again');
  }

  private redisFailed(err: unknown): void {
    this.metrics.redisErrors.inc();
    this.redisRetryAt = Date.now() + REDIS_RETRY_MS;
    if (this.degraded) return;
    this.degraded = true;
    this.metrics.redisUp.set(0);
    this.logger.warn(
      `Redis unreachable for gateway limits (${(err as Error)?.message ?? err}): each process now enforces the limits alone`,
    );
  }
}

/** The bucket owner: the API key, or the bootstrap admin key (no row) per project. */
function subjectOf(caller: CallerRef): string {
  return caller.keyId ?? `admin:${caller.projectId}`;
}
