import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { RedisLease } from '../../libs/core/src/autoscaling/lease';

/** The autoscaler's lease against real Redis: one holder, expiry, takeover, fencing. */
describe('RedisLease (real Redis)', () => {
  let a: Redis;
  let b: Redis;
  let key: string;

  beforeAll(() => {
    a = new Redis(inject('redisUrl'));
    b = new Redis(inject('redisUrl'));
  });
  afterAll(async () => {
    const keys = await a.keys('troupe-test:lease:*');
    if (keys.length) await a.del(...keys);
    await a.quit();
    await b.quit();
  });
  beforeEach(() => {
    key = `troupe-test:lease:${randomBytes(4).toString('hex')}`;
  });

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('of two contenders exactly one holds it; the holder renews, the other keeps failing', async () => {
    const one = new RedisLease(a, { key, ttlMs: 5_000 });
    const two = new RedisLease(b, { key, ttlMs: 5_000 });
    const [f1, f2] = await Promise.all([one.acquire(), two.acquire()]);
    expect([f1, f2].filter((f) => f !== null)).toHaveLength(1);
    const [holder, other] = f1 !== null ? [one, two] : [two, one];
    const fence = (f1 ?? f2)!;
    expect(await holder.renew()).toBe(true);
    expect(await holder.acquire()).toBe(fence); // re-acquiring one's own lease extends it, same fence
    expect(await other.acquire()).toBeNull();
    expect(await other.renew()).toBe(false);
    expect(await holder.remainingMs(fence)).toBeGreaterThan(4_000);
    expect(await other.remainingMs(fence)).toBe(-1);
  });

  it('expires when not renewed; the next holder gets a greater fence and the old one can no longer write', async () => {
    const one = new RedisLease(a, { key, ttlMs: 150 });
    const two = new RedisLease(b, { key, ttlMs: 5_000 });
    const f1 = await one.acquire();
    expect(f1).not.toBeNull();
    expect(await two.acquire()).toBeNull();
    await sleep(250); // one "paused" past its TTL
    const f2 = await two.acquire();
    expect(f2).not.toBeNull();
    expect(f2!).toBeGreaterThan(f1!);
    // The stale holder finds out before writing, and cannot renew its way back.
    expect(await one.remainingMs(f1!)).toBe(-1);
    expect(await one.renew()).toBe(false);
    expect(one.state()).toEqual({ held: false, fence: null });
    expect(await one.acquire()).toBeNull();
  });

  it('release hands over at once, and only the holder can release', async () => {
    const one = new RedisLease(a, { key, ttlMs: 60_000 });
    const two = new RedisLease(b, { key, ttlMs: 60_000 });
    const f1 = await one.acquire();
    await two.release(); // holds nothing: no effect
    expect(await two.acquire()).toBeNull();
    await one.release();
    const f2 = await two.acquire();
    expect(f2).toBe(f1! + 1);
  });

  it('fences never go below a floor (e.g. after Redis lost its data)', async () => {
    const one = new RedisLease(a, { key, ttlMs: 60_000 });
    expect(await one.acquire(1000)).toBe(1001);
    await one.release();
    expect(await one.acquire(5)).toBe(1002);
    await one.release();
  });

  it('a holder whose Redis is unreachable stops holding (errors propagate)', async () => {
    const broken = new Redis('redis://127.0.0.1:1', {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    const one = new RedisLease(broken, { key, ttlMs: 1_000 });
    await expect(one.acquire()).rejects.toThrow();
    expect(one.state().held).toBe(false);
    broken.disconnect();
  });
});
