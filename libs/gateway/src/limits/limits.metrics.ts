import { Injectable } from '@nestjs/common';
import { MetricsRegistry } from '@troupe/common';
import { Counter, Gauge } from 'prom-client';
import type { LimitReason } from './limit-math';

/** Prometheus metrics of the gateway limits. */
@Injectable()
export class LimitsMetrics {
  readonly refusals: Counter<'reason'>;
  readonly localDecisions: Counter;
  readonly redisErrors: Counter;
  readonly redisUp: Gauge;

  constructor(metrics: MetricsRegistry) {
    const registers = [metrics.registry];
    this.refusals = new Counter({
      name: 'troupe_gateway_limit_refusals_total',
      help: 'Requests refused with 429 by a per-key limit, by limit.',
      labelNames: ['reason'],
      registers,
    });
    this.localDecisions = new Counter({
      name: 'troupe_gateway_limit_local_decisions_total',
      help: 'Admissions decided by this process alone because Redis was unreachable (limits then apply per process).',
      registers,
    });
    this.redisErrors = new Counter({
      name: 'troupe_gateway_limit_redis_errors_total',
      help: 'Limit operations on Redis that failed or timed out.',
      registers,
    });
    this.redisUp = new Gauge({
      name: 'troupe_gateway_limit_redis_up',
      help: '1 while limits are counted in Redis (shared by all gateway processes), 0 while counted per process.',
      registers,
    });
    this.redisUp.set(1);
    for (const reason of [
      'requests_per_minute',
      'tokens_per_minute',
      'concurrent_streams',
    ] as LimitReason[]) {
      this.refusals.inc({ reason }, 0);
    }
  }
}
