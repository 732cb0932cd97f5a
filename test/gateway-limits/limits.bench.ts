/**
 * Cost of the gateway limits on the hot path: `npm run bench:limits` (Redis on REDIS_URL, default
 * redis://127.0.0.1:6379; no database needed).
 *
 * Baseline, same run: a bare Redis PING round trip on its own connection. Printed: p50/p99 of one
 * admission (requests per minute counted; a stream taken and released; every limit unlimited, which
 * never calls Redis), throughput at concurrency 64 against PINGs at concurrency 64, and the cost of
 * UsageRecorder.record() (memory only).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { MetricsRegistry } from '@troupe/common';
import { loadConfig } from '@troupe/config';
import Redis from 'ioredis';
import { GatewayLimiter } from '../../libs/gateway/src/limits/gateway-limiter';
import { Limits } from '../../libs/gateway/src/limits/limit-math';
import { LimitsMetrics } from '../../libs/gateway/src/limits/limits.metrics';
import { ProjectLimitsTable } from '../../libs/gateway/src/limits/limits-table';
import { UsageRecorder } from '../../libs/gateway/src/usage/usage-recorder';
import { UsageMetrics } from '../../libs/gateway/src/usage/usage.metrics';
import { UsageRepository } from '../../libs/gateway/src/usage/usage.repository';
import { PrismaService } from '@troupe/db';

const N = 5_000;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const us = (ms: number) => `${(ms * 1000).toFixed(0)} µs`;

async function latencies(fn: () => Promise<unknown>, n = N): Promise<number[]> {
  for (let i = 0; i < 200; i++) await fn(); // warm-up
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

async function throughput(fn: () => Promise<unknown>, concurrency = 64, total = 20_000): Promise<number> {
  let left = total;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) await fn();
    }),
  );
  return total / ((performance.now() - t0) / 1000);
}

async function main() {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const config = loadConfig({ DATABASE_URL: 'postgresql://unused@127.0.0.1/unused', REDIS_URL: redisUrl });
  let limits: Limits = { requestsPerMinute: 1e9, tokensPerMinute: 1e9, concurrentStreams: 1e6 };
  const table = { limitsFor: () => limits } as unknown as ProjectLimitsTable;
  const limiter = new GatewayLimiter(config, table, new LimitsMetrics(new MetricsRegistry()));
  await limiter.onModuleInit();
  const ping = new Redis(redisUrl);
  await ping.ping();
  const projectId = randomUUID();
  const caller = { projectId, keyId: randomUUID() };

  const pingLat = await latencies(() => ping.ping());
  const admitLat = await latencies(async () => {
    const a = await limiter.admit(caller, { stream: false });
    if (!a.ok) throw new Error(`refused: ${a.message}`);
  });
  const streamLat = await latencies(async () => {
    const a = await limiter.admit(caller, { stream: true });
    if (!a.ok) throw new Error(`refused: ${a.message}`);
    a.release();
  });
  const pingRate = await throughput(() => ping.ping());
  const admitRate = await throughput(() => limiter.admit(caller, { stream: false }));
  limits = { requestsPerMinute: 0, tokensPerMinute: 0, concurrentStreams: 0 };
  const freeLat = await latencies(() => limiter.admit(caller, { stream: true }));

  const recorder = new UsageRecorder(
    {
      ...config,
      gatewayLimits: { ...config.gatewayLimits, usage: { flushMs: 1e9, batchSize: 1e9, bufferMax: 1e9 } },
    },
    {} as UsageRepository,
    new UsageMetrics(new MetricsRegistry()),
    {} as PrismaService,
  );
  const entry = {
    projectId,
    serviceId: randomUUID(),
    serviceName: 'svc',
    apiKeyId: caller.keyId,
    endpoint: '/v1/chat/completions',
    status: 200,
    promptTokens: 12,
    completionTokens: 34,
    durationMs: 56,
    createdAt: new Date(),
  };
  const R = 200_000;
  const t0 = performance.now();
  for (let i = 0; i < R; i++) recorder.record(entry);
  const recordNs = ((performance.now() - t0) * 1e6) / R;

  const row = (name: string, xs: number[]) =>
    `${name.padEnd(44)} p50 ${us(pct(xs, 50)).padStart(7)}  p99 ${us(pct(xs, 99)).padStart(7)}  p50 vs PING ${(pct(xs, 50) / pct(pingLat, 50)).toFixed(2)}x`;
  console.log(`\nGateway limits, ${N} sequential calls each (Redis ${redisUrl})`);
  console.log(row('baseline: Redis PING round trip', pingLat));
  console.log(row('admit, requests/tokens per minute counted', admitLat));
  console.log(row('admit + release, stream slot', streamLat));
  console.log(row('admit, every limit unlimited (no Redis)', freeLat));
  console.log(
    `\nconcurrency 64: ${admitRate.toFixed(0)} admissions/s vs ${pingRate.toFixed(0)} PINGs/s (${(admitRate / pingRate).toFixed(2)}x)`,
  );
  console.log(
    `UsageRecorder.record(): ${recordNs.toFixed(0)} ns per call (memory only; written in batches)\n`,
  );

  await limiter.onModuleDestroy();
  ping.disconnect();
  await ping.quit().catch(() => undefined);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
