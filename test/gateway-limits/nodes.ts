import { Global, INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MetricsRegistry } from '@troupe/common';
import { AppConfig, ConfigModule, loadConfig } from '@troupe/config';
import { DbModule } from '@troupe/db';
import { GatewayLimiter, GatewayLimitsModule, UsageRecorder } from '@troupe/gateway';
import { RedisService } from '@troupe/queue';
import { ProjectLimitsTable } from '../../libs/gateway/src/limits/limits-table';
import { testEnv } from '../support/app';
import { pollUntil } from '../support/until';

/**
 * One "gateway process" as far as limits and usage go: the real GatewayLimitsModule with its own
 * config, Redis connections, database pool and metrics registry — what each gateway process has.
 */
export interface LimitsNode {
  ctx: INestApplicationContext;
  config: AppConfig;
  limiter: GatewayLimiter;
  recorder: UsageRecorder;
  table: ProjectLimitsTable;
  /** A metric's value (summed over label sets matching `labels`). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

export async function startLimitsNode(env: Record<string, string> = {}): Promise<LimitsNode> {
  const config = loadConfig(testEnv(env));

  @Global()
  @Module({ providers: [RedisService, MetricsRegistry], exports: [RedisService, MetricsRegistry] })
  class Infrastructure {}

  @Module({ imports: [ConfigModule.forRoot(config), DbModule, Infrastructure, GatewayLimitsModule] })
  class LimitsNodeModule {}

  const ctx = await NestFactory.createApplicationContext(LimitsNodeModule, { logger: false });
  const registry = ctx.get(MetricsRegistry).registry;
  return {
    ctx,
    config,
    limiter: ctx.get(GatewayLimiter),
    recorder: ctx.get(UsageRecorder),
    table: ctx.get(ProjectLimitsTable),
    async metric(name, labels = {}) {
      const m = registry.getSingleMetric(name);
      if (!m) throw new Error(`no metric ${name}`);
      const { values } = await m.get();
      return values
        .filter((v) => Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val))
        .reduce((sum, v) => sum + v.value, 0);
    },
    close: () => ctx.close(),
  };
}

/** Polls `check` until it returns a truthy value (or throws after `timeoutMs`). */
export const until = <T>(what: string, check: () => Promise<T> | T, timeoutMs = 10_000) =>
  pollUntil(what, check, timeoutMs, 25);
