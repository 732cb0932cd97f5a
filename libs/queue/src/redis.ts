import Redis, { RedisOptions } from 'ioredis';

/**
 * A Redis client for Troupe's own use (pub/sub, counters, health). Commands fail fast while Redis is
 * down instead of queueing forever, so callers can answer 503 rather than hang.
 */
export function createRedis(url: string, overrides: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    connectTimeout: 5_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
    ...overrides,
  });
}
